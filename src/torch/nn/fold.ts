/**
 * Batch norm folded into the convolution before it (PyTorch's fuse_conv_bn_eval), for the ONNX export: in
 * evaluation mode a batch norm is a per-channel affine map, so a convolution followed by one is a single
 * convolution with weight w * s and bias (b - mean) * s + beta, s = gamma / sqrt(var + eps). (findstroke's own
 * inference folds in libtorch's graph compiler: InferenceGraph.)
 */
import type { BatchNorm, Conv2d } from './layers.js';
import type { Tensor } from '../tensor.js';

/** The weight and bias of the one convolution that computes `bn` (in evaluation mode) of `conv`'s output. */
export function foldedConvolution(conv: Conv2d, bn: BatchNorm): { weight: Tensor; bias: Tensor } {
  const scale = bn.weight.div(bn.runningVar.add(bn.eps).sqrt());
  const shift = conv.bias ? conv.bias.sub(bn.runningMean) : bn.runningMean.neg();
  return { weight: conv.weight.mul(scale.reshape([-1, 1, 1, 1])), bias: shift.mul(scale).add(bn.bias) };
}
