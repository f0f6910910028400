/**
 * Body features of every item of a loader, held as one tensor in item order, so that a head can train on
 * them batch by batch with exactly the batches the loader would have produced.
 */
import { Tensor, keep, noGrad, tidy } from '../torch/index.js';

/** A batch in the engine: inputs (images or features), int64 targets, and the loader items it holds. */
export interface TensorBatch {
  x: Tensor;
  y: Tensor;
  labels: Int32Array;
  items: number[];
}

export class FeatureStore {
  private constructor(
    private readonly features: Tensor,
    private readonly labels: Int32Array,
  ) {}

  /** Runs `compute` over every batch (each item exactly once) and keeps the results in item order. */
  static async compute(batches: AsyncIterable<TensorBatch>, size: number, compute: (x: Tensor) => Tensor): Promise<FeatureStore> {
    const parts: Tensor[] = [];
    const rowOfItem = new Array<number>(size);
    const labels = new Int32Array(size);
    let row = 0;
    for await (const batch of batches) {
      parts.push(keep(tidy(() => noGrad(() => compute(batch.x)))));
      batch.items.forEach((item, i) => {
        rowOfItem[item] = row++;
        labels[item] = batch.labels[i];
      });
      batch.x.dispose();
      batch.y.dispose();
    }
    if (row !== size) throw new Error(`feature cache: the loader yielded ${row} of its ${size} items`);
    const features = keep(tidy(() => Tensor.cat(parts).indexSelect(0, Tensor.of(rowOfItem, [size], 'int64'))));
    parts.forEach((p) => p.dispose());
    return new FeatureStore(features, labels);
  }

  /** The cached features of each batch of items, in order. */
  async *batches(batchItems: number[][]): AsyncGenerator<TensorBatch> {
    const device = this.features.device;
    for (const items of batchItems) {
      const labels = Int32Array.from(items, (i) => this.labels[i]);
      const index = Tensor.of(items, [items.length], 'int64').to(device);
      const y = Tensor.of(labels, [labels.length], 'int64').to(device);
      yield { x: this.features.indexSelect(0, index), y, labels, items };
      index.dispose();
    }
  }

  dispose(): void {
    this.features.dispose();
  }
}
