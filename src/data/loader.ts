/**
 * `DataLoader`: shuffled batches of transformed images, prepared ahead of the training step. Decoding
 * (sharp, DICOM codecs) runs on libuv's thread pool while libtorch computes on the main thread, so a
 * loader that keeps `prefetch` batches in flight overlaps decoding with training.
 * Batches are host arrays (NCHW float32 + labels); the learner moves them into the engine.
 */
import { Rng } from './rng.js';
import type { Transform } from './transforms/transform.js';
import type { HostImage } from './types.js';

export interface HostBatch {
  /** NCHW float32. */
  images: Float32Array;
  shape: [number, number, number, number];
  /** Class index of each image. */
  labels: Int32Array;
  /** Positions of the batch's items in the loader's item list. */
  items: number[];
}

/** One item of a loader: how to get its image, and its class index. */
export interface LoaderItem {
  load(): Promise<HostImage>;
  label: number;
}

export interface DataLoaderOptions {
  batchSize: number;
  /** Reshuffle every epoch (training) or keep order (validation). */
  shuffle: boolean;
  /** Seeds the shuffle and the random transforms: same seed, same batches. */
  seed: number;
  /** Drop a last incomplete batch (training, as fastai: avoids a batch of 1 in batch norm). */
  dropLast?: boolean;
  /** Batches decoded ahead of the consumer. */
  prefetch?: number;
  /** Draws an item's index, e.g. to oversample a rare class; default: each item once. */
  order?: (rng: Rng, count: number) => number[];
  /** This process's share of a data-parallel run's batches (see {@link Shard}). */
  shard?: Shard;
}

/**
 * The distributed sampler: in a run of `count` processes, every process draws the same seeded epoch order
 * and cuts it into global batches of `batchSize x count` items (dropping an incomplete last one when the
 * loader drops it); process `rank` takes every `count`-th item of each, from position `rank`. So every item
 * of an epoch goes to exactly one process, and the processes' batches together are the batches one process
 * with a `batchSize x count` loader would draw.
 */
export interface Shard {
  rank: number;
  count: number;
}

export class DataLoader {
  readonly #items: readonly LoaderItem[];
  readonly #transform: Transform;
  readonly #o: Required<Omit<DataLoaderOptions, 'order' | 'shard'>> & Pick<DataLoaderOptions, 'order' | 'shard'>;

  constructor(items: readonly LoaderItem[], transform: Transform, options: DataLoaderOptions) {
    if (!(options.batchSize >= 1)) throw new Error(`batch size must be at least 1, got ${options.batchSize}`);
    this.#items = items;
    this.#transform = transform;
    const { shard } = options;
    if (shard && !(Number.isInteger(shard.count) && shard.count >= 1 && Number.isInteger(shard.rank) && shard.rank >= 0 && shard.rank < shard.count))
      throw new Error(`a loader's shard must be a rank 0..count-1 of count >= 1 processes, got rank ${shard.rank} of ${shard.count}`);
    this.#o = { dropLast: false, prefetch: 2, ...options };
  }

  /** This process's share of a data-parallel run, when the loader is sharded. */
  get shard(): Shard | undefined {
    return this.#o.shard;
  }

  get size(): number {
    return this.#items.length;
  }

  /** The item order of `epoch` (shuffled when the loader shuffles). */
  order(epoch: number): number[] {
    const rng = new Rng(this.#o.seed + 7919 * epoch);
    const identity = () => Array.from({ length: this.#items.length }, (_, i) => i);
    const base = this.#o.order ? this.#o.order(rng, this.#items.length) : identity();
    return this.#o.shuffle ? rng.shuffle(base) : base;
  }

  /** Number of batches an epoch yields. */
  batchCount(epoch = 0): number {
    return this.batchItems(epoch).length;
  }

  /** The item positions of each batch of `epoch` (this process's share of it when sharded), in the order they are yielded. */
  batchItems(epoch: number): number[][] {
    const order = this.order(epoch);
    const { batchSize, dropLast, shard = { rank: 0, count: 1 } } = this.#o;
    const globalSize = batchSize * shard.count;
    const batches: number[][] = [];
    for (let i = 0; i < order.length; i += globalSize) {
      const chunk = order.slice(i, i + globalSize);
      if (chunk.length < globalSize && dropLast) continue;
      const share = chunk.filter((_, k) => k % shard.count === shard.rank);
      // A short last batch may leave a process nothing: it then has one batch fewer.
      if (share.length) batches.push(share);
    }
    return batches;
  }

  /** True when an item's transformed image is the same in every epoch (no random transform). */
  get deterministic(): boolean {
    return !this.#transform.random;
  }

  /** The label of each item, in item order. */
  get labels(): number[] {
    return this.#items.map((item) => item.label);
  }

  /** The batches of `epoch`, decoded `prefetch` batches ahead. */
  epoch(epoch: number): AsyncGenerator<HostBatch> {
    return this.#yield(this.batchItems(epoch), epoch);
  }

  /** Every item once, in item order, none dropped (e.g. to cache what a frozen body computes). */
  everyItem(): AsyncGenerator<HostBatch> {
    const { batchSize } = this.#o;
    const chunks: number[][] = [];
    for (let i = 0; i < this.#items.length; i += batchSize) chunks.push(Array.from({ length: Math.min(batchSize, this.#items.length - i) }, (_, k) => i + k));
    return this.#yield(chunks, 0);
  }

  async *#yield(chunks: number[][], epoch: number): AsyncGenerator<HostBatch> {
    const prefetch = this.#o.prefetch;
    const pending: Promise<HostBatch>[] = [];
    let next = 0;
    const fill = () => {
      while (next < chunks.length && pending.length < Math.max(1, prefetch)) pending.push(this.#batch(chunks[next++], epoch));
    };
    fill();
    try {
      while (pending.length) {
        const batch = await pending.shift()!;
        fill();
        yield batch;
      }
    } finally {
      // A consumer that stops early (a break, a stopped fit, a failed batch) waits for the batches in flight:
      // left running unobserved, one that fails (its file removed meanwhile) would be an unhandled rejection.
      await Promise.allSettled(pending);
    }
  }

  async #batch(items: number[], epoch: number): Promise<HostBatch> {
    const images = await Promise.all(items.map(async (item) => this.#transform.apply(await this.#items[item].load(), Rng.forItem(this.#o.seed, epoch, item))));
    return collate(
      images,
      items,
      items.map((i) => this.#items[i].label),
    );
  }
}

/** Stacks same-sized CHW images into one NCHW array. */
export function collate(images: HostImage[], items: number[], labels: number[]): HostBatch {
  const [first] = images;
  const { channels, height, width } = first;
  const size = channels * height * width;
  const data = new Float32Array(images.length * size);
  images.forEach((image, i) => {
    if (image.channels !== channels || image.height !== height || image.width !== width) {
      throw new Error(
        `cannot batch images of different shapes: ${channels}x${height}x${width} and ${image.channels}x${image.height}x${image.width} (add a resize/crop transform)`,
      );
    }
    data.set(image.data, i * size);
  });
  return { images: data, shape: [images.length, channels, height, width], labels: Int32Array.from(labels), items };
}
