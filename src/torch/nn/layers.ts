/** The layers CNN classifiers are built from, with PyTorch's parameter names and defaults. */
import * as F from '../functional.js';
import { release } from '../scope.js';
import { Tensor } from '../tensor.js';
import { Module } from './module.js';
import { defaultUniform_, kaimingNormal_, uniform_, fans } from './init.js';

export interface Conv2dOptions {
  stride?: number;
  padding?: number;
  dilation?: number;
  groups?: number;
  bias?: boolean;
}

export class Conv2d extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor | null;
  readonly options: Required<Omit<Conv2dOptions, 'bias'>>;

  constructor(inChannels: number, outChannels: number, kernelSize: number, o: Conv2dOptions = {}) {
    super();
    this.options = { stride: o.stride ?? 1, padding: o.padding ?? 0, dilation: o.dilation ?? 1, groups: o.groups ?? 1 };
    this.weight = this.registerParameter('weight', Tensor.zeros([outChannels, inChannels / this.options.groups, kernelSize, kernelSize]));
    defaultUniform_(this.weight);
    this.bias = o.bias === false ? null : this.registerParameter('bias', Tensor.zeros([outChannels]));
    if (this.bias) uniform_(this.bias, 1 / Math.sqrt(fans(this.weight.shape).fanIn));
  }

  forward(x: Tensor): Tensor {
    return F.conv2d(x, this.weight, this.bias, this.options);
  }
}

export interface BatchNormOptions {
  eps?: number;
  momentum?: number;
}

/** Batch normalisation over channel dim 1; works for [N, C] (BatchNorm1d) and [N, C, H, W] (BatchNorm2d). */
export class BatchNorm extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor;
  readonly runningMean: Tensor;
  readonly runningVar: Tensor;
  readonly eps: number;
  readonly momentum: number;
  /**
   * Set (by `convertSyncBatchNorm`) to normalise in training mode with the statistics of every process's batch
   * together, as PyTorch's SyncBatchNorm; unset, each process uses its own batch's (DDP's default). Evaluation
   * mode uses the running statistics either way.
   */
  sumOverProcesses: F.SumOverProcesses | undefined;

  constructor(features: number, o: BatchNormOptions = {}) {
    super();
    this.eps = o.eps ?? 1e-5;
    this.momentum = o.momentum ?? 0.1;
    this.weight = this.registerParameter('weight', Tensor.ones([features]));
    this.bias = this.registerParameter('bias', Tensor.zeros([features]));
    this.runningMean = this.registerBuffer('running_mean', Tensor.zeros([features]));
    this.runningVar = this.registerBuffer('running_var', Tensor.ones([features]));
    // Kept for torchvision state-dict compatibility; only used by PyTorch when momentum is None.
    this.registerBuffer('num_batches_tracked', Tensor.zeros([], 'int64'));
  }

  forward(x: Tensor): Tensor {
    const args = {
      weight: this.weight,
      bias: this.bias,
      runningMean: this.runningMean,
      runningVar: this.runningVar,
      training: this.training,
      momentum: this.momentum,
      eps: this.eps,
    };
    return this.training && this.sumOverProcesses ? F.syncBatchNorm(x, args, this.sumOverProcesses) : F.batchNorm(x, args);
  }
}

export class Linear extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor | null;

  constructor(inFeatures: number, outFeatures: number, { bias = true } = {}) {
    super();
    this.weight = this.registerParameter('weight', Tensor.zeros([outFeatures, inFeatures]));
    defaultUniform_(this.weight);
    this.bias = bias ? this.registerParameter('bias', Tensor.zeros([outFeatures])) : null;
    if (this.bias) uniform_(this.bias, 1 / Math.sqrt(inFeatures));
  }

  /** Re-initialises the weight He-normal (fastai initialises its head this way). */
  kaimingInit(): this {
    kaimingNormal_(this.weight, 'fanIn');
    return this;
  }

  forward(x: Tensor): Tensor {
    return F.linear(x, this.weight, this.bias);
  }
}

export class ReLU extends Module {
  forward(x: Tensor): Tensor {
    return x.relu();
  }
}

export class Dropout extends Module {
  constructor(readonly p: number) {
    super();
  }
  forward(x: Tensor): Tensor {
    return this.p > 0 ? F.dropout(x, this.p, this.training) : x;
  }
}

export class AdaptiveAvgPool2d extends Module {
  constructor(readonly size: number) {
    super();
  }
  forward(x: Tensor): Tensor {
    return F.adaptiveAvgPool2d(x, this.size);
  }
}

/** fastai's concat pooling: adaptive max and average pools side by side (2x the channels). */
export class AdaptiveConcatPool2d extends Module {
  constructor(readonly size = 1) {
    super();
  }
  forward(x: Tensor): Tensor {
    const max = F.adaptiveMaxPool2d(x, this.size);
    const avg = F.adaptiveAvgPool2d(x, this.size);
    return Tensor.cat([max, avg], 1);
  }
}

export class Flatten extends Module {
  forward(x: Tensor): Tensor {
    return x.flatten(1);
  }
}

/** Runs its children in order; children are named '0', '1', ... as in PyTorch. */
export class Sequential extends Module {
  readonly layers: Module[];

  constructor(...layers: Module[]) {
    super();
    this.layers = layers;
    layers.forEach((layer, i) => this.registerModule(String(i), layer));
  }

  forward(x: Tensor): Tensor {
    return forwardInOrder(x, this.layers);
  }
}

/**
 * Runs `layers` in order from `x`, releasing each intermediate output once the next layer has consumed it (see
 * `release`), as PyTorch frees it when its last reference goes: the peak memory of a deep network is then a
 * few activations, not all of them at once. A forward hook that keeps an output past the pass must `keep` it.
 */
export function forwardInOrder(x: Tensor, layers: readonly Module[]): Tensor {
  let out = x;
  for (const layer of layers) {
    const input = out;
    out = layer.forward(input);
    if (input !== x && input !== out) release(input);
  }
  return out;
}
