import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { manualSeed } from '../../src/torch/index.js';
import { VisionClassifier } from '../../src/models/classifier.js';
import { VisionLearner } from '../../src/learn/vision-learner.js';
import type { Callback, EpochResult } from '../../src/learn/callback.js';
import type { Learner } from '../../src/learn/learner.js';
import { Checkpoint, readCheckpoint, restoreCheckpoint } from '../../src/learn/callbacks/checkpoint.js';
import { shapeLoaders } from '../helpers/synthetic-loaders.js';
import { tempFolder } from '../data/helpers/tiny-images.js';

const FINGERPRINT = { data: 'shapes', epochs: 2 };

/** Stops training once `epochs` epochs are done, as a run killed then would be (its checkpoint written). */
class StopAfter implements Callback {
  constructor(readonly epochs: number) {}
  afterEpoch(learner: Learner, result: EpochResult): void {
    if (result.epoch + 1 === this.epochs) learner.requestStop('interrupted');
  }
}

/** Stops training after batch `batch` of epoch `epoch`, as Ctrl-C or a NaN loss would. */
class StopMidEpoch implements Callback {
  #epoch = -1;
  #batches = 0;
  constructor(
    readonly epoch: number,
    readonly batch: number,
  ) {}
  beforeEpoch(_: Learner, epoch: number): void {
    this.#epoch = epoch;
    this.#batches = 0;
  }
  afterBatch(learner: Learner): void {
    if (this.#epoch === this.epoch && ++this.#batches === this.batch) learner.requestStop('interrupted');
  }
}

/** A resnet18 classifier learner on the tiny shapes data; `seed` seeds its initial weights. */
function newLearner(seed: number, callbacks: Callback[] = []): VisionLearner {
  manualSeed(seed);
  return new VisionLearner(new VisionClassifier({ arch: 'resnet18', numClasses: 2 }), shapeLoaders({ seed: 0 }), { callbacks });
}

const FINE_TUNE = { freezeEpochs: 1, trainFrom: 0 };

function weights(learner: Learner): Map<string, number[]> {
  return new Map([...learner.model.stateDict()].map(([name, t]) => [name, Array.from(t.floats())]));
}

test('a fine-tune interrupted mid-phase and resumed from its checkpoint ends with the weights of the uninterrupted one', async () => {
  const { root, remove } = await tempFolder();
  try {
    const uninterrupted = newLearner(1);
    await uninterrupted.fineTune(2, 2e-3, FINE_TUNE);

    // Stopped after the frozen epoch and the first unfrozen one: the schedule is mid-cycle, Adam has state for every parameter.
    const path = join(root, 'checkpoint.safetensors');
    const interrupted = newLearner(1, [new StopAfter(2), new Checkpoint(path, FINGERPRINT)]);
    await interrupted.fineTune(2, 2e-3, FINE_TUNE);
    assert.equal(interrupted.epochsDone, 2);

    // A fresh process: other initial weights and generator state, which the checkpoint replaces.
    const resumed = newLearner(7);
    restoreCheckpoint(resumed, readCheckpoint(path, FINGERPRINT));
    assert.equal(resumed.epochsDone, 2);
    const results = await resumed.fineTune(2, 2e-3, { ...FINE_TUNE, startEpoch: resumed.epochsDone });
    assert.deepEqual(
      results.map((r) => [r.epoch, r.phase]),
      [[2, 'unfrozen']],
    );
    assert.deepEqual(
      resumed.history.map((r) => r.trainLoss),
      uninterrupted.history.map((r) => r.trainLoss),
    );
    assert.deepEqual(weights(resumed), weights(uninterrupted));
  } finally {
    await remove();
  }
});

test('an epoch cut short (Ctrl-C, NaN) is not checkpointed: the run resumes after the last whole one', async () => {
  const { root, remove } = await tempFolder();
  try {
    const path = join(root, 'checkpoint.safetensors');
    const learner = newLearner(1, [new StopMidEpoch(1, 2), new Checkpoint(path, FINGERPRINT)]);
    await learner.fineTune(2, 2e-3, FINE_TUNE);
    assert.equal(learner.epochsDone, 2, 'the cut epoch is in the history');
    assert.deepEqual(
      readCheckpoint(path, FINGERPRINT).history.map((r) => r.epoch),
      [0],
    );
  } finally {
    await remove();
  }
});

test('a checkpoint is refused, naming the file and why, when missing, unreadable, or of a different run', async () => {
  const { root, remove } = await tempFolder();
  try {
    const path = join(root, 'checkpoint.safetensors');
    assert.throws(() => readCheckpoint(path, FINGERPRINT), { message: `${path}: no checkpoint to resume from (a run writes it after each completed epoch)` });
    writeFileSync(path, 'not safetensors');
    assert.throws(
      () => readCheckpoint(path, FINGERPRINT),
      (e: Error) => e.message.startsWith(`${path}: `),
    );

    const learner = newLearner(1, [new StopAfter(1), new Checkpoint(path, FINGERPRINT)]);
    await learner.fineTune(2, 2e-3, FINE_TUNE);
    assert.throws(() => readCheckpoint(path, { ...FINGERPRINT, epochs: 3, arch: 'resnet50' }), {
      message: `${path}: the checkpoint of a different run (epochs 2 there, 3 here; arch unset there, "resnet50" here); resume with the options it was started with`,
    });
    const checkpoint = readCheckpoint(path, FINGERPRINT);
    assert.throws(() => restoreCheckpoint(learner, checkpoint), { message: `${path}: a learner that has trained already cannot resume from a checkpoint` });
    manualSeed(1);
    const otherModel = new VisionLearner(new VisionClassifier({ arch: 'resnet18', numClasses: 3 }), shapeLoaders({ seed: 0 }));
    assert.throws(
      () => restoreCheckpoint(otherModel, checkpoint),
      (e: Error) => e.message.startsWith(`${path}: cannot resume from it: cannot load state dict: shape mismatch`),
    );
  } finally {
    await remove();
  }
});
