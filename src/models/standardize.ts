/** Feature standardisation that a study head learns from its training features and saves with itself. */
import type { Tensor } from '../torch/index.js';

/** Sets `mean` and `std` (buffers [F]) to those of `features` [N, F] (a zero spread becomes 1e-6). */
export function fitStandardization(mean: Tensor, std: Tensor, features: Tensor): void {
  mean.copy_(features.mean(0));
  std.copy_(features.std(0, false, false).clamp(1e-6));
}
