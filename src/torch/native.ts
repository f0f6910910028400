/**
 * Loads the libtorch addon built from `native/` and describes its functions. Everything above this file
 * talks to libtorch only through the typed `Tensor`, `nn` and optimiser classes; this is the one place
 * that knows the addon's calling conventions (ATen argument order, handles as opaque values).
 */
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { packagePath } from '../util/package-paths.js';
import type { DType, HostData } from './host.js';
import type { MemoryFormat } from './tensor.js';

/** An opaque reference to a libtorch tensor owned by the addon. */
export type Handle = { readonly __tensorHandle: unique symbol };
/** An opaque reference to a libtorch optimiser owned by the addon. */
export type OptimizerHandle = { readonly __optimizerHandle: unique symbol };
/** One parameter's optimiser state as the addon passes it: AdamW's update count `step`, and tensors by name. */
export interface NativeParamState {
  step?: number;
  [tensor: string]: Handle | number | undefined;
}
/** An opaque reference to a forward pass compiled by libtorch's TorchScript (jitTrace). */
export type GraphHandle = { readonly __graphHandle: unique symbol };
/** An opaque reference to a c10d TCPStore client (and, on rank 0, its server). */
export type StoreHandle = { readonly __storeHandle: unique symbol };
/** An opaque reference to a c10d process group. */
export type GroupHandle = { readonly __groupHandle: unique symbol };
/** An opaque reference to a gradient reducer (c10d all-reduces started from the backward pass). */
export type ReducerHandle = { readonly __reducerHandle: unique symbol };

type T = Handle;
type TorS = Handle | number;
type Pair = [Handle, Handle];

export interface OptimizerGroupOptions {
  params?: Handle[];
  lr?: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
  weightDecay?: number;
  momentum?: number;
  nesterov?: boolean;
}

export interface NativeTorch {
  fromArray(data: HostData, shape: number[], dtype: DType): T;
  toArray(t: T): Float32Array | Float64Array | BigInt64Array | Int32Array | Uint8Array;
  describe(t: T): { shape: number[]; dtype: DType; device: string; requiresGrad: boolean; inference: boolean };
  isTensor(v: unknown): boolean;
  dispose(t: T): void;
  isDisposed(t: T): boolean;
  item(t: T): number;
  numel(t: T): number;
  tensorVersion(t: T): number;
  zeros(shape: number[], dtype?: DType, device?: string): T;
  ones(shape: number[], dtype?: DType, device?: string): T;
  full(shape: number[], value: number, dtype?: DType, device?: string): T;
  rand(shape: number[], dtype?: DType, device?: string): T;
  randn(shape: number[], dtype?: DType, device?: string): T;
  randint(low: number, high: number, shape: number[], dtype?: DType, device?: string): T;
  randperm(n: number): T;
  arange(start: number, end: number, step: number, dtype?: DType, device?: string): T;
  to(t: T, device?: string, dtype?: DType): T;
  contiguous(t: T, format?: MemoryFormat): T;
  isContiguous(t: T, format?: MemoryFormat): boolean;
  clone(t: T): T;
  detach(t: T): T;
  copy_(dst: T, src: T): void;
  setData(t: T, source: T): void;
  setRequiresGrad(t: T, on: boolean): void;
  grad(t: T): T | null;
  clearGrad(t: T): void;
  retainGrad(t: T): void;
  backward(t: T, gradient?: T | null, retainGraph?: boolean): void;

  add(a: T, b: TorS): T;
  sub(a: T, b: TorS): T;
  mul(a: T, b: TorS): T;
  div(a: T, b: TorS): T;
  pow(a: T, b: TorS): T;
  eq(a: T, b: TorS): T;
  gt(a: T, b: TorS): T;
  lt(a: T, b: TorS): T;
  ge(a: T, b: TorS): T;
  le(a: T, b: TorS): T;
  maximum(a: T, b: TorS): T;
  minimum(a: T, b: TorS): T;
  neg(a: T): T;
  exp(a: T): T;
  log(a: T): T;
  sqrt(a: T): T;
  abs(a: T): T;
  relu(a: T): T;
  sigmoid(a: T): T;
  tanh(a: T): T;
  logicalNot(a: T): T;
  clamp(a: T, min?: number | null, max?: number | null): T;
  where(cond: T, a: T, b: T): T;
  matmul(a: T, b: T): T;
  fill_(t: T, v: number): void;
  mul_(t: T, v: number): void;
  relu_(t: T): void;
  add_(t: T, v: TorS, alpha?: number): void;

  sum(t: T, dims?: number[], keepdim?: boolean): T;
  mean(t: T, dims?: number[], keepdim?: boolean): T;
  std(t: T, dims: number[], keepdim?: boolean, unbiased?: boolean): T;
  max(t: T): T;
  max(t: T, dim: number, keepdim?: boolean): Pair;
  min(t: T): T;
  min(t: T, dim: number, keepdim?: boolean): Pair;
  argmax(t: T, dim?: number | null, keepdim?: boolean): T;
  topk(t: T, k: number, dim?: number, largest?: boolean): Pair;
  sort(t: T, dim?: number, descending?: boolean): Pair;

  reshape(t: T, shape: number[]): T;
  permute(t: T, dims: number[]): T;
  transpose(t: T, a: number, b: number): T;
  flatten(t: T, start?: number, end?: number): T;
  squeeze(t: T, dim?: number): T;
  unsqueeze(t: T, dim: number): T;
  expand(t: T, shape: number[]): T;
  repeat(t: T, times: number[]): T;
  flip(t: T, dims: number[]): T;
  cat(ts: T[], dim?: number): T;
  stack(ts: T[], dim?: number): T;
  slice(t: T, dim: number, start?: number | null, end?: number | null, step?: number): T;
  select(t: T, dim: number, index: number): T;
  indexSelect(t: T, dim: number, index: T): T;
  gather(t: T, dim: number, index: T): T;
  oneHot(t: T, classes: number): T;

  conv2d(x: T, w: T, b: T | null, stride: number[], padding: number[], dilation: number[], groups: number): T;
  batchNorm(x: T, w: T | null, b: T | null, mean: T | null, variance: T | null, training: boolean, momentum: number, eps: number): T;
  linear(x: T, w: T, b: T | null): T;
  maxPool2d(x: T, kernel: number[], stride: number[], padding: number[], dilation: number[], ceilMode: boolean): T;
  avgPool2d(x: T, kernel: number[], stride: number[], padding: number[], ceilMode: boolean, countIncludePad: boolean): T;
  adaptiveAvgPool2d(x: T, size: number[]): T;
  adaptiveMaxPool2d(x: T, size: number[]): T;
  dropout(x: T, p: number, train: boolean): T;
  pad(x: T, pads: number[], value: number): T;
  interpolate(x: T, size: number[], mode: 'bilinear' | 'bicubic' | 'nearest', alignCorners: boolean): T;
  softmax(x: T, dim: number): T;
  logSoftmax(x: T, dim: number): T;
  crossEntropy(logits: T, target: T, weight: T | null, reduction: 'mean' | 'sum' | 'none', labelSmoothing: number): T;
  mseLoss(a: T, b: T): T;
  binaryCrossEntropyWithLogits(a: T, b: T): T;

  optimizer(kind: 'adamw' | 'sgd', groups: OptimizerGroupOptions[]): OptimizerHandle;
  optimizerSetGroup(o: OptimizerHandle, index: number, options: OptimizerGroupOptions): void;
  optimizerState(o: OptimizerHandle): (NativeParamState | null)[];
  optimizerLoadState(o: OptimizerHandle, states: (NativeParamState | null)[]): void;
  optimizerStep(o: OptimizerHandle): void;
  optimizerZeroGrad(o: OptimizerHandle): void;
  optimizerDispose(o: OptimizerHandle): void;

  setNumThreads(n: number): void;
  getNumThreads(): number;
  manualSeed(seed: number): void;
  rngState(device?: string): T;
  setRngState(state: T, device?: string): void;
  setGradEnabled(on: boolean): void;
  isGradEnabled(): boolean;
  inferenceMode<R>(fn: () => R): R;
  jitTrace(input: T, fn: () => T): GraphHandle;
  jitRun(graph: GraphHandle, input: T): T;
  jitDispose(graph: GraphHandle): void;
  jitGraphText(graph: GraphHandle): string;
  setAutocast(on: boolean, dtype?: DType): void;
  isAutocastEnabled(): boolean;
  cudaDeviceCount(): number;
  cudaRuntimeVersion(): number;
  cudaSynchronize(index?: number): void;
  version(): string;
  parallelInfo(): string;
  allocatorTuning(): AllocatorTuning | null;

  distAvailable(): { gloo: boolean; nccl: boolean };
  distStore(host: string, port: number, isServer: boolean, worldSize: number, timeoutMs: number): StoreHandle;
  distStoreSet(store: StoreHandle, key: string, value: string): void;
  distStoreGet(store: StoreHandle, key: string): string;
  distStoreCheck(store: StoreHandle, keys: string[]): boolean;
  distStoreWait(store: StoreHandle, keys: string[], timeoutMs: number): void;
  distProcessGroup(store: StoreHandle, rank: number, size: number, backend: 'gloo' | 'nccl', timeoutMs: number, glooAddress?: string): GroupHandle;
  distAllreduceMean(group: GroupHandle, ts: T[], bucketBytes: number): void;
  distAllreduceSum(group: GroupHandle, t: T): T;
  distBroadcast(group: GroupHandle, ts: T[], root: number): void;
  distGradientReducer(group: GroupHandle, params: T[], bucketBytes: number): ReducerHandle;
  distReducerFinish(reducer: ReducerHandle, extras: T[]): number;
  distReducerDestroy(reducer: ReducerHandle): void;
  distAllgather(group: GroupHandle, t: T): T;
  distBarrier(group: GroupHandle): void;
  distDestroy(group: GroupHandle): void;
}

/** The glibc malloc settings the addon applied when it loaded (mallopt M_MMAP_MAX and M_TRIM_THRESHOLD). */
export interface AllocatorTuning {
  mmapMax: number;
  trimThreshold: number;
}

const addonPath = packagePath('native', 'build', 'Release', 'findstroke_torch.node');

function load(): NativeTorch {
  if (!existsSync(addonPath)) {
    throw new Error(
      `findstroke's libtorch addon is not built (looked for ${addonPath}). Run \`bash scripts/setup.sh\` ` +
        "(or `npm run build:native` once Debian's libtorch-dev is installed).",
    );
  }
  return createRequire(import.meta.url)(addonPath) as NativeTorch;
}

/** The addon, loaded once per process. */
export const native: NativeTorch = load();
