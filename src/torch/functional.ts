/**
 * Stateless neural-network functions (PyTorch's `torch.nn.functional`), used by the `nn` modules and by
 * models that need a layer without parameters of its own.
 */
import { native } from './native.js';
import { noGrad } from './runtime.js';
import { Tensor } from './tensor.js';

const pair = (v: number | [number, number]): number[] => (typeof v === 'number' ? [v, v] : v);

export interface Conv2dOptions {
  stride?: number | [number, number];
  padding?: number | [number, number];
  dilation?: number | [number, number];
  groups?: number;
}

export function conv2d(x: Tensor, weight: Tensor, bias: Tensor | null, o: Conv2dOptions = {}): Tensor {
  return new Tensor(
    native.conv2d(x.handle, weight.handle, bias?.handle ?? null, pair(o.stride ?? 1), pair(o.padding ?? 0), pair(o.dilation ?? 1), o.groups ?? 1),
  );
}

export interface BatchNormArgs {
  weight: Tensor | null;
  bias: Tensor | null;
  runningMean: Tensor | null;
  runningVar: Tensor | null;
  training: boolean;
  momentum: number;
  eps: number;
}

export function batchNorm(x: Tensor, a: BatchNormArgs): Tensor {
  return new Tensor(
    native.batchNorm(
      x.handle,
      a.weight?.handle ?? null,
      a.bias?.handle ?? null,
      a.runningMean?.handle ?? null,
      a.runningVar?.handle ?? null,
      a.training,
      a.momentum,
      a.eps,
    ),
  );
}

/** Sums a tensor over the processes of a data-parallel run, differentiably (`ProcessGroup.allreduceSum`). */
export type SumOverProcesses = (t: Tensor) => Tensor;

/**
 * Batch normalisation in training mode with the statistics of every process's batch together (PyTorch's
 * SyncBatchNorm): every process normalises with the global batch's mean and biased variance, and updates the
 * running statistics with the global unbiased variance, as one process given the whole batch would. Two sums over
 * the processes: of each channel's values and count (the mean), then of the squared distances from that mean (the
 * variance; E[x^2] - E[x]^2 from one sum cancels to rounding noise for a channel whose mean is large against its
 * spread). The gradient flows through the sums, whose backward pass sums the statistics' gradients over the processes.
 */
export function syncBatchNorm(x: Tensor, a: BatchNormArgs, sumOverProcesses: SumOverProcesses): Tensor {
  const channels = x.shape[1];
  const reduced = x.shape.map((_, d) => d).filter((d) => d !== 1);
  const perChannel = x.shape.map((n, d) => (d === 1 ? n : 1));
  // In float32 at least: under bfloat16 autocast the sums would keep few of their digits.
  const input = x.dtype === 'bfloat16' || x.dtype === 'float16' ? x.float() : x;
  const count = Tensor.full([1], x.numel / channels).to(input.device, input.dtype);
  const totals = sumOverProcesses(Tensor.cat([input.sum(reduced), count]));
  const n = totals.slice(0, channels, channels + 1);
  const mean = totals.slice(0, 0, channels).div(n);
  const centred = input.sub(mean.reshape(perChannel));
  const variance = sumOverProcesses(centred.mul(centred).sum(reduced)).div(n);
  const { runningMean, runningVar, momentum } = a;
  if (runningMean && runningVar)
    noGrad(() => {
      runningMean.mul_(1 - momentum).add_(mean, momentum);
      runningVar.mul_(1 - momentum).add_(variance.mul(n.div(n.sub(1))), momentum);
    });
  const invStd = variance.add(a.eps).pow(-0.5);
  const scale = a.weight ? a.weight.mul(invStd) : invStd;
  const normalised = centred.mul(scale.reshape(perChannel));
  return a.bias ? normalised.add(a.bias.reshape(perChannel)) : normalised;
}

export function linear(x: Tensor, weight: Tensor, bias: Tensor | null = null): Tensor {
  return new Tensor(native.linear(x.handle, weight.handle, bias?.handle ?? null));
}

export function relu(x: Tensor): Tensor {
  return x.relu();
}

export function maxPool2d(x: Tensor, kernel: number, stride = kernel, padding = 0, ceilMode = false): Tensor {
  return new Tensor(native.maxPool2d(x.handle, pair(kernel), pair(stride), pair(padding), [1, 1], ceilMode));
}

export function avgPool2d(x: Tensor, kernel: number, stride = kernel, padding = 0, ceilMode = false, countIncludePad = true): Tensor {
  return new Tensor(native.avgPool2d(x.handle, pair(kernel), pair(stride), pair(padding), ceilMode, countIncludePad));
}

export function adaptiveAvgPool2d(x: Tensor, size: number | [number, number]): Tensor {
  return new Tensor(native.adaptiveAvgPool2d(x.handle, pair(size)));
}

export function adaptiveMaxPool2d(x: Tensor, size: number | [number, number]): Tensor {
  return new Tensor(native.adaptiveMaxPool2d(x.handle, pair(size)));
}

export function dropout(x: Tensor, p: number, training: boolean): Tensor {
  return new Tensor(native.dropout(x.handle, p, training));
}

/** Constant padding; `pads` lists (before, after) pairs from the last dimension backwards, as PyTorch. */
export function pad(x: Tensor, pads: number[], value = 0): Tensor {
  return new Tensor(native.pad(x.handle, pads, value));
}

/** Resizes the last two dimensions of an NCHW tensor to `size` ([height, width]). */
export function interpolate(x: Tensor, size: [number, number], mode: 'bilinear' | 'bicubic' | 'nearest' = 'bilinear', alignCorners = false): Tensor {
  return new Tensor(native.interpolate(x.handle, size, mode, alignCorners));
}

export function softmax(x: Tensor, dim = -1): Tensor {
  return x.softmax(dim);
}

export function logSoftmax(x: Tensor, dim = -1): Tensor {
  return x.logSoftmax(dim);
}

export interface CrossEntropyOptions {
  /** Per-class weights (float32, one per class) for imbalanced data. */
  weight?: Tensor | null;
  reduction?: 'mean' | 'sum' | 'none';
  /** Label smoothing epsilon in [0, 1). */
  labelSmoothing?: number;
}

/** Cross-entropy of logits [N, C] against int64 class indices [N]. */
export function crossEntropy(logits: Tensor, target: Tensor, o: CrossEntropyOptions = {}): Tensor {
  return new Tensor(native.crossEntropy(logits.handle, target.handle, o.weight?.handle ?? null, o.reduction ?? 'mean', o.labelSmoothing ?? 0));
}

export function mseLoss(input: Tensor, target: Tensor): Tensor {
  return new Tensor(native.mseLoss(input.handle, target.handle));
}

export function binaryCrossEntropyWithLogits(input: Tensor, target: Tensor): Tensor {
  return new Tensor(native.binaryCrossEntropyWithLogits(input.handle, target.handle));
}
