import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mostConfused, topLosses } from '../../src/interpret/analysis.js';
import { rocCurve, precisionRecallCurve, calibration } from '../../src/interpret/curves.js';
import { lineChart, matrixHeatmap, svgToPng } from '../../src/interpret/svg.js';

test('most confused pairs are the off-diagonal cells, largest first', () => {
  const pairs = mostConfused(
    [
      [5, 2, 0],
      [4, 3, 1],
      [0, 1, 9],
    ],
    ['a', 'b', 'c'],
    1,
  );
  assert.deepEqual(
    pairs.map((p) => [p.actual, p.predicted, p.count]),
    [
      ['b', 'a', 4],
      ['a', 'b', 2],
      ['b', 'c', 1],
      ['c', 'b', 1],
    ],
  );
  assert.equal(
    mostConfused(
      [
        [5, 2],
        [4, 3],
      ],
      ['a', 'b'],
      3,
    ).length,
    1,
  );
});

test('top losses are the highest-loss rows with actual, predicted and probabilities', () => {
  const probs = Float32Array.from([0.9, 0.1, 0.2, 0.8, 0.6, 0.4]);
  const targets = Int32Array.from([0, 0, 1]);
  const losses = Float32Array.from(targets, (t, i) => -Math.log(probs[i * 2 + t]));
  const [worst, next] = topLosses({ probs, targets, losses, classes: 2 }, ['x', 'y', 'z'], ['normal', 'stroke'], 2);
  assert.equal(worst.path, 'y');
  assert.equal(worst.actual, 'normal');
  assert.equal(worst.predicted, 'stroke');
  assert.ok(Math.abs(worst.probability - 0.8) < 1e-6);
  assert.ok(Math.abs(worst.actualProbability - 0.2) < 1e-6);
  assert.equal(next.path, 'z');
});

test('ROC and PR curves walk the thresholds; calibration bins and ECE', () => {
  const roc = rocCurve([0.9, 0.8, 0.3, 0.1], [true, false, true, false]);
  assert.deepEqual(
    roc.map((p) => [p.x, p.y]),
    [
      [0, 0],
      [0, 0.5],
      [0.5, 0.5],
      [0.5, 1],
      [1, 1],
    ],
  );
  const pr = precisionRecallCurve([0.9, 0.8, 0.3, 0.1], [true, false, true, false]);
  assert.deepEqual(
    pr.map((p) => [p.x, p.y]),
    [
      [0.5, 1],
      [0.5, 0.5],
      [1, 2 / 3],
      [1, 0.5],
    ],
  );
  // Two rows at confidence 0.95 (one right), two at 0.65 (both right).
  const cal = calibration({ probs: Float32Array.from([0.95, 0.05, 0.95, 0.05, 0.65, 0.35, 0.35, 0.65]), targets: Int32Array.from([0, 1, 0, 1]), classes: 2 });
  const used = cal.bins.filter((b) => b.count);
  assert.deepEqual(
    used.map((b) => [b.count, b.accuracy]),
    [
      [2, 1],
      [2, 0.5],
    ],
  );
  assert.ok(Math.abs(cal.ece - (0.5 * Math.abs(1 - 0.65) + 0.5 * Math.abs(0.5 - 0.95))) < 1e-6);
});

test('charts are SVG that renders to PNG', async () => {
  const svg = lineChart({
    title: 'loss',
    xLabel: 'epoch',
    yLabel: 'loss',
    series: [
      {
        name: 'train',
        points: [
          [0, 1],
          [1, 0.5],
        ],
      },
    ],
  });
  assert.match(svg, /^<svg[^>]+xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  assert.match(svg, /<polyline/);
  const heat = matrixHeatmap(
    'confusion',
    [
      [3, 1],
      [0, 4],
    ],
    ['a', 'b'],
    ['a', 'b'],
  );
  assert.match(heat, />75%</);
  const png = await svgToPng(heat);
  assert.deepEqual([...png.subarray(1, 4)], [0x50, 0x4e, 0x47]); // "PNG"
});
