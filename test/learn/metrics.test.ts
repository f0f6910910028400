import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  accuracy,
  errorRate,
  confusionMatrix,
  classReport,
  macroF1,
  binaryAuc,
  macroAuc,
  logLoss,
  brierScore,
  aggregateByGroup,
  labelLoss,
  mostProbable,
  type Predictions,
} from '../../src/learn/metrics.js';

const p = (rows: number[][], targets: number[]): Predictions => ({
  probs: Float32Array.from(rows.flat()),
  targets: Int32Array.from(targets),
  classes: rows[0].length,
});

test('accuracy, error rate and the confusion matrix (rows actual, columns predicted)', () => {
  const preds = p(
    [
      [0.9, 0.1, 0],
      [0.2, 0.7, 0.1],
      [0.1, 0.2, 0.7],
      [0.6, 0.3, 0.1],
    ],
    [0, 1, 2, 1],
  );
  assert.equal(accuracy(preds), 0.75);
  assert.equal(errorRate(preds), 0.25);
  assert.deepEqual(confusionMatrix(preds), [
    [1, 0, 0],
    [1, 1, 0],
    [0, 0, 1],
  ]);
  const [c0, c1] = classReport(preds);
  assert.deepEqual(c0, { precision: 0.5, recall: 1, specificity: 2 / 3, f1: 2 / 3, support: 1 });
  assert.equal(c1.recall, 0.5);
  assert.equal(c1.specificity, 1);
  assert.ok(Math.abs(macroF1(preds) - (2 / 3 + 2 / 3 + 1) / 3) < 1e-12);
});

test('ROC AUC is the Mann-Whitney statistic, ties counted half', () => {
  assert.equal(binaryAuc([0.1, 0.4, 0.35, 0.8], [false, false, true, true]), 0.75);
  assert.equal(binaryAuc([0.5, 0.5], [false, true]), 0.5);
  assert.ok(Number.isNaN(binaryAuc([0.1, 0.2], [true, true])));
  // Two classes: macro AUC is the positive class's AUC.
  assert.equal(
    macroAuc(
      p(
        [
          [0.9, 0.1],
          [0.6, 0.4],
          [0.65, 0.35],
          [0.2, 0.8],
        ],
        [0, 0, 1, 1],
      ),
    ),
    0.75,
  );
});

test('log loss and Brier score', () => {
  const preds = p(
    [
      [0.8, 0.2],
      [0.3, 0.7],
    ],
    [0, 0],
  );
  assert.ok(Math.abs(logLoss(preds) - -(Math.log(0.8) + Math.log(0.3)) / 2) < 1e-6);
  assert.ok(Math.abs(brierScore(preds) - (0.04 + 0.04 + (0.49 + 0.49)) / 2) < 1e-6);
});

test('patient aggregation takes the mean of the top-k slice probabilities per class', () => {
  const preds = p(
    [
      [0.9, 0.1],
      [0.2, 0.8],
      [0.6, 0.4],
      [0.7, 0.3],
    ],
    [1, 1, 1, 0],
  );
  const agg = aggregateByGroup(preds, ['a', 'a', 'a', 'b'], 2);
  assert.deepEqual(agg.groups, ['a', 'b']);
  assert.deepEqual([...agg.targets], [1, 0]);
  // Patient a: class 0 top-2 mean (0.9+0.6)/2=0.75, class 1 (0.8+0.4)/2=0.6, renormalised.
  assert.ok(Math.abs(agg.probs[0] - 0.75 / 1.35) < 1e-6);
  assert.ok(Math.abs(agg.probs[1] - 0.6 / 1.35) < 1e-6);
});

test('a label loss is finite when its probability is 0, and the most probable class takes the first of ties', () => {
  assert.equal(labelLoss(0.5), Math.log(2));
  assert.equal(labelLoss(0), -Math.log(1e-12));
  assert.deepEqual(mostProbable({ a: 0.2, b: 0.5, c: 0.3 }), ['b', 0.5]);
  assert.deepEqual(mostProbable({ a: 0.5, b: 0.5 }), ['a', 0.5]);
});
