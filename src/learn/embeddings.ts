/**
 * What a frozen network computes for every item of a loader, once and without gradients: slice
 * embeddings or feature maps that let study-level models be trained and cross-validated without running
 * the frozen layers again. From a frozen ImageNet body they depend on no label, so one set serves every
 * fold without leaking.
 */
import { Tensor, keep, noGrad, tidy } from '../torch/index.js';
import type { DataLoader } from '../data/loader.js';

/**
 * Runs `embed` (images [N, C, H, W] -> [N, ...]; put the model in evaluation mode first) over every item
 * of `loader` and returns the outputs as one tensor [items, ...] in item order, nothing dropped. It lives
 * in native memory (feature maps can be larger than a host array should be); dispose of it when done.
 * `progress` is called after each batch.
 */
export async function embedItems(embed: (images: Tensor) => Tensor, loader: DataLoader, progress?: (done: number, total: number) => void): Promise<Tensor> {
  const parts: Tensor[] = [];
  let count = 0;
  try {
    for await (const batch of loader.everyItem()) {
      parts.push(noGrad(() => tidy(() => keep(embed(Tensor.fromHost({ dtype: 'float32', shape: batch.shape, data: batch.images }))))));
      count += batch.labels.length;
      progress?.(count, loader.size);
    }
    if (!parts.length) throw new Error('nothing to embed: the loader has no items');
    return parts.length === 1 ? parts.pop()! : keep(tidy(() => Tensor.cat(parts, 0)));
  } finally {
    for (const part of parts) part.dispose();
  }
}
