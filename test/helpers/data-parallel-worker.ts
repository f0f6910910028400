/**
 * One process of the data-parallel tests: trains a tiny network without batch norm (so that a data-parallel
 * run equals one process on the same global batches, up to float rounding) for two epochs on the synthetic
 * shapes, alone or as one rank of the run its environment describes. BATCH_NORM=1 puts a batch norm after its
 * convolution, and SYNC_BATCH_NORM=1 synchronises it over the ranks. Rank 0 writes the final weights as JSON
 * to the path in argv[2]; every rank prints its history. The initial weights are seeded by rank, so that
 * equal results also show that rank 0's were broadcast. For the fault tests, FAIL_RANK and FAIL_AT_STEP make
 * that rank kill itself (SIGKILL) after that many steps, or throw (FAIL_HOW=throw), and TRAIN_ITEMS changes
 * the training set's size. BUCKET_BYTES sets the gradient buckets' size; FREEZE_FIRST=1 trains the head alone
 * in the first epoch and the whole network in the second, in two fits.
 */
import { writeFileSync } from 'node:fs';
import { manualSeed, nn, type Tensor } from '../../src/torch/index.js';
import { distributedEnv, initProcessGroup } from '../../src/torch/distributed.js';
import { DataLoader } from '../../src/data/loader.js';
import { Compose } from '../../src/data/transforms/transform.js';
import { VisionLearner, type TrainableModel } from '../../src/learn/vision-learner.js';
import { DataParallel } from '../../src/learn/callbacks/data-parallel.js';
import { ROC_AUC } from '../../src/learn/standard-metrics.js';
import { shapeItems } from './synthetic-loaders.js';

/** The global batch of every run, split between the ranks. */
const GLOBAL_BATCH = 8;

const batchNorm = process.env.BATCH_NORM === '1';

class TinyNet extends nn.Module implements TrainableModel {
  readonly body = this.registerModule(
    'body',
    new nn.Sequential(
      // Without a bias before batch norm (as in ResNets): its gradient is zero but for rounding, which Adam would amplify.
      new nn.Conv2d(3, 6, 3, { stride: 2, bias: !batchNorm }),
      ...(batchNorm ? [new nn.BatchNorm(6)] : []),
      new nn.ReLU(),
      new nn.AdaptiveAvgPool2d(1),
      new nn.Flatten(),
    ),
  );
  readonly head = this.registerModule('head', new nn.Linear(6, 2));
  features(x: Tensor): Tensor {
    return this.body.forward(x);
  }
  forward(x: Tensor): Tensor {
    return this.head.forward(this.features(x));
  }
  layerGroups(): Tensor[][] {
    return [this.body.parameters(), this.head.parameters()];
  }
  freeze(): this {
    return this.freezeTo(1);
  }
  freezeTo(group: number): this {
    this.body.setRequiresGrad(group < 1);
    return this;
  }
  unfreeze(): this {
    this.setRequiresGrad(true);
    return this;
  }
}

const env = distributedEnv();
const group = env ? await initProcessGroup({ timeoutMs: Number(process.env.TEST_TIMEOUT_MS ?? 30_000) }) : undefined;
const rank = group?.rank ?? 0;
const shard = group && { rank, count: group.worldSize };
const batchSize = GLOBAL_BATCH / (group?.worldSize ?? 1);
manualSeed(1 + rank);
const identity = new Compose([]);
const dls = {
  train: new DataLoader(shapeItems(Number(process.env.TRAIN_ITEMS ?? 32), 16, 0), identity, { batchSize, shuffle: true, seed: 3, dropLast: true, shard }),
  valid: new DataLoader(shapeItems(13, 16, 1), identity, { batchSize, shuffle: false, seed: 3, shard }),
  classes: ['square', 'disk'],
};
let steps = 0;
const failAt = process.env.FAIL_RANK === String(rank) ? Number(process.env.FAIL_AT_STEP) : -1;
const fail = () => {
  if (process.env.FAIL_HOW === 'throw') throw new Error(`rank ${rank} cannot read its images (a test's failure)`);
  process.kill(process.pid, 'SIGKILL');
};
const selfKill = { afterBatch: () => void (++steps === failAt && fail()) };
const learner = new VisionLearner(new TinyNet(), dls, {
  metrics: [ROC_AUC],
  callbacks: [
    ...(group
      ? [new DataParallel(group, { syncBatchNorm: process.env.SYNC_BATCH_NORM === '1', bucketBytes: Number(process.env.BUCKET_BYTES) || undefined })]
      : []),
    selfKill,
  ],
  weightDecay: 0,
});
try {
  if (process.env.FREEZE_FIRST === '1') {
    await learner.freeze().fit(1, 1e-2);
    await learner.unfreeze().fit(1, 1e-2);
  } else {
    await learner.fit(2, 1e-2);
  }
} catch (error) {
  group?.reportFailure(error instanceof Error ? error.message : String(error));
  throw error;
}
// Every rank shows what it measured; only rank 0 writes, as in the product.
console.log(`history ${JSON.stringify(learner.history.map(({ trainLoss, validLoss, metrics }) => ({ trainLoss, validLoss, metrics })))}`);
const weights = Object.fromEntries([...learner.model.stateDict()].map(([name, t]) => [name, [...t.floats()]]));
if (rank === 0) writeFileSync(process.argv[2], JSON.stringify(weights));
