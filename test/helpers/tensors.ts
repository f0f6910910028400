import type { Tensor } from '../../src/torch/index.js';

/** Largest absolute difference of two tensors of one shape, relative to the largest magnitude in `a`. */
export function relativeError(a: Tensor, b: Tensor): number {
  const x = a.floats();
  const y = b.floats();
  if (x.length !== y.length) throw new Error(`relativeError: ${x.length} against ${y.length} elements`);
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < x.length; i++) {
    diff = Math.max(diff, Math.abs(x[i] - y[i]));
    scale = Math.max(scale, Math.abs(x[i]));
  }
  return diff / (scale || 1);
}
