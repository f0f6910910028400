import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cosine, combinedCosine, oneCycle, lrRange } from '../../src/learn/schedule.js';

const near = (a: number, b: number, tol = 1e-9) => assert.ok(Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)), `${a} vs ${b}`);

test('cosine annealing goes from start to end through the midpoint', () => {
  const s = cosine(1, 3);
  near(s(0), 1);
  near(s(0.5), 2);
  near(s(1), 3);
});

test('one cycle: lrMax/div -> lrMax at pctStart -> lrMax/finalDiv; momentum 0.95 -> 0.85 -> 0.95', () => {
  const { lr, momentum } = oneCycle(1e-2, { pctStart: 0.25 });
  near(lr(0), 1e-2 / 25);
  near(lr(0.25), 1e-2);
  near(lr(1), 1e-2 / 1e5);
  near(momentum(0), 0.95);
  near(momentum(0.25), 0.85);
  near(momentum(1), 0.95);
  const finetune = oneCycle(1e-3, { pctStart: 0.3, div: 5 });
  near(finetune.lr(0), 2e-4);
  near(combinedCosine(0.99, 1, 2, 3)(0.99), 2);
});

test("learning-rate ranges follow fastai's slice semantics", () => {
  assert.deepEqual(lrRange(0.1, 3), [0.1, 0.1, 0.1]);
  assert.deepEqual(lrRange([0.1], 3), [0.01, 0.01, 0.1]);
  const spread = lrRange([1e-5, 1e-3], 3);
  near(spread[0], 1e-5);
  near(spread[1], 1e-4);
  near(spread[2], 1e-3);
});
