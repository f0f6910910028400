/** The typed face of findstroke's libtorch engine. */
export { Tensor, type Device, type MemoryFormat } from './tensor.js';
export { tidy, keep, release, dispose } from './scope.js';
export {
  noGrad,
  inferenceMode,
  withAutocast,
  manualSeed,
  rngState,
  setRngState,
  setNumThreads,
  getNumThreads,
  cudaDeviceCount,
  cudaBuild,
  defaultDevice,
  checkDevice,
  synchronize,
  engineInfo,
  cpuHasNativeBf16,
  preferredMemoryFormat,
} from './runtime.js';
export { Optimizer, type ParamState, type ParamGroup, type Hyper, type AdamWOptions, type SGDOptions } from './optim.js';
export * as F from './functional.js';
export * as nn from './nn/index.js';
export type { HostTensor, DType, HostData } from './host.js';
