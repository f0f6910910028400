import { test } from 'node:test';
import assert from 'node:assert/strict';
import { abnormalClasses, chooseThresholds, thresholdForSensitivity } from '../../src/learn/thresholds.js';

test('the threshold catches the target share of positives', () => {
  const scores = [0.9, 0.8, 0.4, 0.3, 0.2, 0.1];
  const positive = [true, false, true, true, false, false];
  assert.equal(thresholdForSensitivity(scores, positive, 1), 0.3);
  assert.equal(thresholdForSensitivity(scores, positive, 0.6), 0.4);
  assert.ok(Number.isNaN(thresholdForSensitivity(scores, [false, false, false, false, false, false], 0.9)));
});

test('operating points for each abnormal class, with their sensitivity and specificity', () => {
  assert.deepEqual(abnormalClasses(['haemorrhagicStroke', 'ischaemicStroke', 'normalBrain']), ['haemorrhagicStroke', 'ischaemicStroke']);
  const probs = Float32Array.from([0.7, 0.3, 0.4, 0.6, 0.2, 0.8, 0.1, 0.9]);
  const points = chooseThresholds({ probs, targets: Int32Array.from([0, 0, 1, 1]), classes: 2 }, ['stroke', 'normal'], 1);
  assert.deepEqual(Object.keys(points), ['stroke']);
  assert.ok(Math.abs(points.stroke.threshold - 0.4) < 1e-6);
  assert.equal(points.stroke.sensitivity, 1);
  assert.equal(points.stroke.specificity, 1);
});
