/**
 * Batch norm folded into the convolution before it, for inference (PyTorch's fuse_conv_bn_eval). In evaluation
 * mode a batch norm is a per-channel affine map, so a convolution followed by one is a single convolution with
 * weight w * s and bias (b - mean) * s + beta, s = gamma / sqrt(var + eps): one pass over the activations fewer
 * per pair.
 */
import * as F from '../functional.js';
import { inferenceMode } from '../runtime.js';
import { keep, tidy } from '../scope.js';
import type { Tensor } from '../tensor.js';
import { BatchNorm, Conv2d } from './layers.js';
import type { Module } from './module.js';

interface Pair {
  conv: Conv2d;
  bn: BatchNorm;
}

/** Outputs this far apart, relative to their size, mean folding changed what the model computes. */
const TOLERANCE = 1e-3;

const foldings = new WeakMap<Module, BatchNormFolding>();

/**
 * The batch-norm folding of `model` (in evaluation mode), one per model. The pairs are found by running
 * `trace` (the model on a sample input) once: a batch norm folds into the convolution whose output is its
 * input when no other module takes that output, and the folding is kept only if the model's output on the
 * sample is unchanged by it (an operation outside any module might use a convolution's output too).
 */
export function foldBatchNorm(model: Module, trace: () => Tensor): BatchNormFolding {
  if (model.namedModules().some(([, m]) => m.training)) throw new Error('foldBatchNorm: batch norm folds only in evaluation mode (call model.eval() first)');
  let folding = foldings.get(model);
  if (!folding) {
    folding = BatchNormFolding.traced(model, trace);
    foldings.set(model, folding);
  }
  return folding;
}

export class BatchNormFolding {
  readonly #pairs: Pair[];
  #folded: { weight: Tensor; bias: Tensor }[] = [];
  /** The version counters of every folded tensor, summed, when the folded weights were computed. */
  #foldedAt = -1;

  private constructor(pairs: Pair[]) {
    this.#pairs = pairs;
  }

  /** A new folding of `model` traced through `trace` (foldBatchNorm keeps one per model). */
  static traced(model: Module, trace: () => Tensor): BatchNormFolding {
    const candidates = BatchNormFolding.#candidates(model, trace);
    const folding = new BatchNormFolding(candidates);
    const changed = tidy(() => relativeDifference(inferenceMode(trace), folding.run(trace)));
    if (changed <= TOLERANCE) return folding;
    folding.#dispose();
    return new BatchNormFolding([]);
  }

  /** Convolution -> batch norm pairs seen in one run of `trace`, where no other module takes the convolution's output. */
  static #candidates(model: Module, trace: () => Tensor): Pair[] {
    const producedBy = new Map<Tensor, Conv2d>();
    const takers = new Map<Tensor, number>();
    const found = new Map<BatchNorm, Conv2d | null>();
    const removers = model.namedModules().map(([, m]) =>
      m.registerForwardHook((output, input) => {
        takers.set(input, (takers.get(input) ?? 0) + 1);
        if (m instanceof Conv2d) producedBy.set(output, m);
        if (!(m instanceof BatchNorm)) return;
        const conv = producedBy.get(input) ?? null;
        // A batch norm fed by different convolutions (or by anything else) on different calls is left alone.
        found.set(m, found.has(m) && found.get(m) !== conv ? null : conv);
      }),
    );
    try {
      inferenceMode(() => tidy(() => void trace()));
    } finally {
      for (const remove of removers.reverse()) remove();
    }
    const taken = (conv: Conv2d) => [...producedBy].every(([output, c]) => c !== conv || takers.get(output) === 1);
    const pairs = [...found].flatMap(([bn, conv]) => (conv && taken(conv) ? [{ conv, bn }] : []));
    const convs = pairs.map((p) => p.conv);
    return pairs.filter((p) => convs.indexOf(p.conv) === convs.lastIndexOf(p.conv));
  }

  /** Number of batch norms folded. */
  get pairs(): number {
    return this.#pairs.length;
  }

  /**
   * Runs `fn` (synchronous) under `inferenceMode` with each folded convolution computing its batch norm too
   * and each folded batch norm passing its input through; everything is as before once it returns. The
   * folded weights are recomputed first whenever a weight or statistic changed since (training, loading a
   * state dict).
   */
  run<R>(fn: () => R): R {
    if (!this.#pairs.length) return inferenceMode(fn);
    this.#refresh();
    const restores = this.#pairs.flatMap(({ conv, bn }, i) => {
      const { weight, bias } = this.#folded[i];
      return [override(conv, (x) => F.conv2d(x, weight, bias, conv.options)), override(bn, (x) => x)];
    });
    try {
      return inferenceMode(fn);
    } finally {
      for (const restore of restores.reverse()) restore();
    }
  }

  #version(): number {
    return this.#pairs.reduce(
      (sum, { conv, bn }) => sum + [conv.weight, conv.bias, bn.weight, bn.bias, bn.runningMean, bn.runningVar].reduce((s, t) => s + (t?.version ?? 0), 0),
      0,
    );
  }

  #refresh(): void {
    const version = this.#version();
    if (version === this.#foldedAt) return;
    this.#dispose();
    this.#folded = this.#pairs.map(({ conv, bn }) =>
      inferenceMode(() =>
        tidy(() => {
          const { weight, bias } = foldedConvolution(conv, bn);
          return { weight: keep(weight), bias: keep(bias) };
        }),
      ),
    );
    this.#foldedAt = version;
  }

  #dispose(): void {
    for (const { weight, bias } of this.#folded) {
      weight.dispose();
      bias.dispose();
    }
    this.#folded = [];
    this.#foldedAt = -1;
  }
}

/** The weight and bias of the one convolution that computes `bn` (in evaluation mode) of `conv`'s output. */
export function foldedConvolution(conv: Conv2d, bn: BatchNorm): { weight: Tensor; bias: Tensor } {
  const scale = bn.weight.div(bn.runningVar.add(bn.eps).sqrt());
  const shift = conv.bias ? conv.bias.sub(bn.runningMean) : bn.runningMean.neg();
  return { weight: conv.weight.mul(scale.reshape([-1, 1, 1, 1])), bias: shift.mul(scale).add(bn.bias) };
}

/** Makes `module` compute `forward` until the returned function restores what it computed before (hooks included). */
function override(module: Module, forward: (x: Tensor) => Tensor): () => void {
  const own = Object.getOwnPropertyDescriptor(module, 'forward');
  module.forward = forward;
  return () => {
    if (own) Object.defineProperty(module, 'forward', own);
    else delete (module as { forward?: unknown }).forward;
  };
}

/** The largest difference between `a` and `b`, relative to the largest magnitude in `a`. */
function relativeDifference(a: Tensor, b: Tensor): number {
  const scale = a.abs().max().item();
  return a.sub(b).abs().max().item() / (scale || 1);
}
