/**
 * Embeddings of every item of a loader, computed once without gradients: they let study-level models be
 * trained and cross-validated in seconds. From a frozen ImageNet body they depend on no label, so one set
 * serves every fold without leaking.
 */
import { Tensor, noGrad, tidy } from '../torch/index.js';
import type { DataLoader } from '../data/loader.js';
import { concatFloat32 } from './host-arrays.js';

export interface Embeddings {
  /** Row-major [count, dim], in the loader's item order. */
  features: Float32Array;
  count: number;
  dim: number;
}

/**
 * Runs `embed` (images [N, C, H, W] -> [N, dim]; put the model in evaluation mode first) over every item
 * of `loader`, in item order, nothing dropped. `progress` is called after each batch.
 */
export async function embedItems(embed: (images: Tensor) => Tensor, loader: DataLoader, progress?: (done: number, total: number) => void): Promise<Embeddings> {
  const rows: Float32Array[] = [];
  let count = 0;
  for await (const batch of loader.everyItem()) {
    rows.push(noGrad(() => tidy(() => embed(Tensor.fromHost({ dtype: 'float32', shape: batch.shape, data: batch.images })).floats())));
    count += batch.labels.length;
    progress?.(count, loader.size);
  }
  const features = concatFloat32(rows);
  return { features, count, dim: count ? features.length / count : 0 };
}
