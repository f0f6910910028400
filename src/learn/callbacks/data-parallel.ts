/**
 * Data-parallel training as PyTorch's DistributedDataParallel does it, as a callback: parameters and buffers
 * broadcast from rank 0 when training starts; every step's gradients, and the loss with them, averaged over the
 * processes before the optimiser steps, in buckets whose all-reduces start while backward still runs (DDP's
 * Reducer); batch-norm running statistics taken from rank 0 after each step (DDP's broadcast_buffers; each
 * process normalises a batch with its own batch's statistics) unless batch norm is synchronised
 * (`syncBatchNorm`, PyTorch's SyncBatchNorm); and predictions of a sharded loader gathered so that every
 * process computes the same validation metrics. Put it first among the callbacks, so that the others see the
 * averaged loss.
 */
import { Tensor, tidy, type nn } from '../../torch/index.js';
import { DEFAULT_BUCKET_BYTES, DistributedError, convertSyncBatchNorm, type GradientReducer, type ProcessGroup } from '../../torch/distributed.js';
import type { DataLoader } from '../../data/loader.js';
import type { Callback } from '../callback.js';
import type { Learner } from '../learner.js';
import { VisionLearner, type LoaderPredictions } from '../vision-learner.js';

export interface DataParallelOptions {
  /** Gradient bucket size (default DDP's, 25 MiB). */
  bucketBytes?: number;
  /**
   * Batch norm normalises with the statistics of the global batch, all-reduced in every batch norm's forward
   * and backward pass, as one process given the whole batch would (default false: each process its own share's).
   */
  syncBatchNorm?: boolean;
}

export class DataParallel implements Callback {
  #broadcastDone = false;
  #reducer: GradientReducer | undefined;
  readonly bucketBytes: number;
  readonly syncBatchNorm: boolean;

  constructor(
    readonly group: ProcessGroup,
    o: DataParallelOptions = {},
  ) {
    this.bucketBytes = o.bucketBytes ?? DEFAULT_BUCKET_BYTES;
    this.syncBatchNorm = o.syncBatchNorm ?? false;
  }

  beforeFit(learner: Learner): void {
    const { rank, worldSize } = this.group;
    // Image loaders must be sharded; any task must draw as many batches on every rank.
    const train = learner instanceof VisionLearner ? learner.dls.train : undefined;
    if (train && (train.shard?.rank !== rank || train.shard.count !== worldSize))
      throw new Error(`data-parallel training: the training loader must be sharded for rank ${rank} of ${worldSize} (see DataLoaderOptions.shard)`);
    this.#checkSameBatchCounts(learner.task.batchCount(learner.epochsDone));
    if (this.syncBatchNorm) convertSyncBatchNorm(learner.model, this.group);
    if (!this.#broadcastDone) {
      this.group.broadcast([...learner.model.parameters(), ...buffers(learner.model)]);
      this.#broadcastDone = true;
    }
    // Per fit, since the parameters that train change between fits (unfreezing), and hooks left on after the
    // fit would start all-reduces from any later backward pass.
    this.#reducer?.destroy();
    this.#reducer = this.group.gradientReducer(
      learner.model.parameters().filter((p) => p.requiresGrad),
      this.bucketBytes,
    );
  }

  afterBackward(learner: Learner, loss: Tensor): void {
    if (!this.#reducer) throw new Error('data-parallel training: afterBackward before beforeFit');
    this.#reducer.finish([loss]);
    // Synchronised batch norm updates every rank's running statistics with the same global ones.
    if (!this.syncBatchNorm) this.group.broadcast(buffers(learner.model));
  }

  afterFit(): void {
    this.#reducer?.destroy();
    this.#reducer = undefined;
  }

  gatherPredictions(preds: LoaderPredictions, loader: DataLoader): LoaderPredictions {
    return loader.shard ? gatherRows(this.group, preds) : preds;
  }

  /** Every process must train as many batches per epoch, or one would wait for the others' gradients forever. */
  #checkSameBatchCounts(batches: number): void {
    const counts = tidy(() => this.group.allgather(Tensor.of([batches]).to(this.group.device)).floats());
    const differing = counts.findIndex((n) => n !== counts[0]);
    if (differing > 0)
      throw new DistributedError(
        `rank ${this.group.rank}: rank 0 draws ${counts[0]} training batches per epoch and rank ${differing} ${counts[differing]}: the training loader must drop its incomplete last batch (dropLast)`,
      );
  }
}

function buffers(model: nn.Module): Tensor[] {
  return model.namedBuffers().map(([, t]) => t);
}

/**
 * Every process's prediction rows, in item order (loader order for an unshuffled loader such as validation's).
 * Rows travel as one float64 tensor per process, padded to the longest, since all-gather needs equal shapes.
 */
function gatherRows(group: ProcessGroup, preds: LoaderPredictions): LoaderPredictions {
  const { classes } = preds;
  const width = 3 + classes;
  const rows = preds.items.length;
  const counts = tidy(() => group.allgather(Tensor.of([rows]).to(group.device)).floats());
  const longest = Math.max(...counts);
  const packed = new Float64Array(longest * width);
  for (let i = 0; i < rows; i++) {
    packed.set([preds.items[i], preds.targets[i], preds.losses[i]], i * width);
    packed.set(preds.probs.subarray(i * classes, (i + 1) * classes), i * width + 3);
  }
  const all = tidy(
    () => group.allgather(Tensor.fromHost({ dtype: 'float64', shape: [longest, width], data: packed }).to(group.device)).toHost().data as Float64Array,
  );
  const gathered: Float64Array[] = [];
  counts.forEach((count, r) => {
    for (let i = 0; i < count; i++) gathered.push(all.subarray((r * longest + i) * width, (r * longest + i + 1) * width));
  });
  gathered.sort((a, b) => a[0] - b[0]);
  const probs = new Float32Array(gathered.length * classes);
  gathered.forEach((row, i) => probs.set(row.subarray(3), i * classes));
  return {
    probs,
    targets: Int32Array.from(gathered, (row) => row[1]),
    classes,
    items: gathered.map((row) => row[0]),
    losses: Float32Array.from(gathered, (row) => row[2]),
  };
}
