import { test } from 'node:test';
import assert from 'node:assert/strict';
import { F, Tensor, manualSeed, nn } from '../../src/torch/index.js';
import { Learner, type LearnerTask } from '../../src/learn/learner.js';
import type { BatchInfo, Callback, EpochResult } from '../../src/learn/callback.js';
import { StopOnNaN } from '../../src/learn/callbacks/guards.js';

/** A regression batch of plain arrays: nothing of the image classifier's batches. */
interface Points {
  xs: number[];
  ys: number[];
}

/** y = 3x - 1 on 16 points, in batches of 4 (one order every epoch). */
const POINTS: Points = { xs: Array.from({ length: 16 }, (_, i) => i / 8 - 1), ys: Array.from({ length: 16 }, (_, i) => 3 * (i / 8 - 1) - 1) };

function regression(model: nn.Linear, lossScale = 1): LearnerTask<Points, nn.Linear> {
  return {
    model,
    layerGroups: () => [[model.weight], [model.bias!]],
    batchCount: () => 4,
    beginFit: async () => ({
      *batches() {
        for (let b = 0; b < 4; b++) yield { xs: POINTS.xs.slice(4 * b, 4 * b + 4), ys: POINTS.ys.slice(4 * b, 4 * b + 4) };
      },
      loss: (batch) => ({
        loss: F.mseLoss(model.forward(Tensor.of(batch.xs, [batch.xs.length, 1])), Tensor.of(batch.ys, [batch.ys.length, 1])).mul(lossScale),
        items: batch.xs.length,
      }),
    }),
  };
}

class Recorder implements Callback {
  readonly lrs: number[][] = [];
  readonly epochs: EpochResult[] = [];
  afterBatch(learner: Learner, info: BatchInfo): void {
    this.lrs.push(learner.optimizer.hypers.map((h) => h.lr));
    assert.ok(Number.isFinite(info.loss));
  }
  afterEpoch(_: Learner, result: EpochResult): void {
    this.epochs.push(result);
  }
}

test('the learner trains any model on any batch with any loss, through the schedules and callbacks', async () => {
  manualSeed(0);
  const model = new nn.Linear(1, 1);
  const recorder = new Recorder();
  const learner = new Learner(regression(model), { callbacks: [recorder], weightDecay: 0 });
  const results = await learner.fitOneCycle(30, { perGroup: [0.25, 0.5] }, { pctStart: 0.25 });
  assert.equal(results.length, 30);
  assert.ok(results[29].trainLoss < results[0].trainLoss / 10, `loss ${results[0].trainLoss} -> ${results[29].trainLoss}`);
  assert.ok(Math.abs(model.weight.item() - 3) < 0.3 && Math.abs(model.bias!.item() + 1) < 0.3, 'learns y = 3x - 1');
  // Each layer group its own rate, cycled: the weight's peak is half the bias's.
  assert.equal(recorder.lrs.length, 30 * 4);
  const peak = recorder.lrs.reduce((best, lrs) => (lrs[1] > best[1] ? lrs : best));
  assert.ok(Math.abs(peak[1] - 0.5) < 5e-3 && Math.abs(peak[0] / peak[1] - 0.5) < 1e-9);
  assert.ok(Number.isNaN(recorder.epochs[0].validLoss), 'a task without validation has no validation loss');
  model.dispose();
});

test("the learner's NaN guard stops any recipe at its first non-finite loss", async () => {
  const model = new nn.Linear(1, 1);
  const learner = new Learner(regression(model, NaN), { callbacks: [new StopOnNaN()] });
  const results = await learner.fit(5, 0.01);
  assert.equal(results.length, 1);
  assert.match(learner.stopReason ?? '', /training loss became NaN at iteration 0/);
  model.dispose();
});

test('per-group learning rates must match the layer groups', async () => {
  const model = new nn.Linear(1, 1);
  await assert.rejects(new Learner(regression(model)).fit(1, { perGroup: [0.1] }), /1 learning rates for 2 layer groups/);
  model.dispose();
});
