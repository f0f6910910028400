/** Batch norms that change their input, for tests of what folding them computes. */
import { Tensor, noGrad, nn } from '../../src/torch/index.js';

/** Gives every batch norm of `model` random running statistics and affine weights (from libtorch's seeded generator). */
export function randomizeBatchNorms(model: nn.Module): void {
  noGrad(() => {
    for (const [, m] of model.namedModules()) {
      if (!(m instanceof nn.BatchNorm)) continue;
      const n = m.weight.shape[0];
      m.weight.copy_(Tensor.rand([n]).add(0.5));
      m.bias.copy_(Tensor.randn([n]).mul(0.1));
      m.runningMean.copy_(Tensor.randn([n]).mul(0.1));
      m.runningVar.copy_(Tensor.rand([n]).add(0.5));
    }
  });
}

/** Counts calls of the forward of every batch norm in `model` until `stop()`. */
export function countBatchNormCalls(model: nn.Module): { stop(): number } {
  let calls = 0;
  const removers = model.namedModules().flatMap(([, m]) => (m instanceof nn.BatchNorm ? [m.registerForwardHook(() => void calls++)] : []));
  return {
    stop() {
      removers.forEach((remove) => remove());
      return calls;
    },
  };
}

/** Counts calls of the forward of every batch norm in `model` while `fn` runs. */
export function batchNormCalls(model: nn.Module, fn: () => void): number {
  const counter = countBatchNormCalls(model);
  let calls = 0;
  try {
    fn();
  } finally {
    calls = counter.stop();
  }
  return calls;
}
