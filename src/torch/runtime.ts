/** Process-wide engine settings: threads, seeding, gradient recording, bf16 autocast, devices. */
import { readFileSync } from 'node:fs';
import { native, type AllocatorTuning } from './native.js';
import type { DType } from './host.js';
import { Tensor, type Device, type MemoryFormat } from './tensor.js';

/** Intra-op threads libtorch uses (e.g. 2 on a 2-core machine). */
export function setNumThreads(n: number): void {
  native.setNumThreads(n);
}
export function getNumThreads(): number {
  return native.getNumThreads();
}

/** Seeds libtorch's generators (weight initialisation, dropout, rand/randn). */
export function manualSeed(seed: number): void {
  native.manualSeed(seed);
}

/**
 * A copy of the state of libtorch's default generator of `device` (what dropout draws from), to put back with
 * {@link setRngState}: a resumed training run then draws what the uninterrupted one would have.
 */
export function rngState(device: Device = 'cpu'): Tensor {
  return new Tensor(native.rngState(device));
}

/** Puts back a generator state {@link rngState} read. */
export function setRngState(state: Tensor, device: Device = 'cpu'): void {
  native.setRngState(state.handle, device);
}

/** Runs `fn` without recording operations for autograd (inference, metrics, weight surgery). */
export function noGrad<R>(fn: () => R): R {
  const previous = native.isGradEnabled();
  native.setGradEnabled(false);
  try {
    return fn();
  } finally {
    native.setGradEnabled(previous);
  }
}

/**
 * Runs `fn` (synchronous) under libtorch's inference mode: as `noGrad`, and leaner (no view or version tracking).
 * The tensors it creates are inference tensors, which autograd can never use later (not even to save for a
 * backward pass), so it suits prediction and evaluation; features that something will be trained on need `noGrad`.
 */
export function inferenceMode<R>(fn: () => R): R {
  return native.inferenceMode(fn);
}

/**
 * Runs `fn` under autocast: matrix products and convolutions compute in `dtype` (bfloat16 by default,
 * which CPUs with AVX512-BF16/AMX run natively and others emulate), reductions stay in float32.
 */
export function withAutocast<R>(fn: () => R, dtype: DType = 'bfloat16'): R {
  native.setAutocast(true, dtype);
  try {
    return fn();
  } finally {
    native.setAutocast(false);
  }
}

/**
 * The layout convolutional networks train and predict fastest in on `device`: channels-last on a CPU, where
 * oneDNN computes convolutions in it natively and reorders NCHW tensors at every layer otherwise (ResNet
 * training 21-27 % faster on a 2-core EPYC, docs/engine.md); NCHW elsewhere, where it is unmeasured.
 * FINDSTROKE_CHANNELS_LAST=0 keeps NCHW everywhere.
 */
export function preferredMemoryFormat(device = 'cpu', env: NodeJS.ProcessEnv = process.env): MemoryFormat {
  return device === 'cpu' && env.FINDSTROKE_CHANNELS_LAST !== '0' ? 'channels_last' : 'contiguous';
}

/** Number of CUDA devices libtorch sees (0 with Debian's CPU build; set LIBTORCH for a CUDA one). */
export function cudaDeviceCount(): number {
  return native.cudaDeviceCount();
}

/**
 * The CUDA version this libtorch was built for ('13.0'), or null for a CPU build (Debian's): with no GPU visible,
 * which of the two it is says whether to install another libtorch or to look at the machine's driver.
 */
export function cudaBuild(): string | null {
  const version = native.cudaRuntimeVersion(); // CUDART_VERSION: major * 1000 + minor * 10
  return version ? `${Math.floor(version / 1000)}.${(version % 1000) / 10}` : null;
}

/** A GPU's name: 'cuda' (the current one) or 'cuda:N'. */
const CUDA_DEVICE = /^cuda(?::(\d+))?$/;

/**
 * Waits until `device` has finished what was queued on it: a GPU computes asynchronously, so a timing or a
 * host-side clock must wait for it (torch.cuda.synchronize). Nothing to wait for on the CPU.
 */
export function synchronize(device: Device | string = 'cpu'): void {
  const cuda = CUDA_DEVICE.exec(device);
  if (cuda) native.cudaSynchronize(cuda[1] === undefined ? undefined : Number(cuda[1]));
}

/** The best device available: 'cuda' when a CUDA libtorch sees a GPU, else 'cpu'. */
export function defaultDevice(): 'cpu' | 'cuda' {
  return cudaDeviceCount() > 0 ? 'cuda' : 'cpu';
}

function noSuchGpu(gpus: number): string {
  if (gpus) return `this libtorch sees ${gpus} GPU${gpus > 1 ? 's' : ''} (cuda:0${gpus > 1 ? `..cuda:${gpus - 1}` : ''})`;
  const cuda = cudaBuild();
  return cuda
    ? `this libtorch, built for CUDA ${cuda}, sees no GPU: no NVIDIA driver here, or no device visible to this process (nvidia-smi; CUDA_VISIBLE_DEVICES)`
    : 'this libtorch is a CPU build; a CUDA libtorch is built in with LIBTORCH=/path/to/libtorch bash scripts/setup.sh';
}

/**
 * `name` as a device this process can compute on: 'cpu', 'cuda' (the first GPU) or 'cuda:N'.
 * @throws Error naming the device and the reason: not a device name, or a GPU this libtorch does not see.
 */
export function checkDevice(name: string): Device {
  const cuda = CUDA_DEVICE.exec(name);
  if (name !== 'cpu' && !cuda) throw new Error(`unknown device '${name}' (cpu, cuda, cuda:N)`);
  if (!cuda) return 'cpu';
  const index = Number(cuda[1] ?? 0);
  const gpus = cudaDeviceCount();
  if (index >= gpus) throw new Error(`device '${name}': ${noSuchGpu(gpus)}`);
  return name as Device;
}

/**
 * libtorch's version and parallel backend, and the malloc settings the addon applied to itself (null with
 * FINDSTROKE_MALLOC_TUNING=0), for provenance records and for giving a reference run the same ones.
 */
export function engineInfo(): { libtorch: string; threads: number; parallel: string; allocator: AllocatorTuning | null } {
  return { libtorch: native.version(), threads: native.getNumThreads(), parallel: native.parallelInfo(), allocator: native.allocatorTuning() };
}

/**
 * Whether this CPU computes bfloat16 natively (AVX512-BF16 or AMX): there bf16 autocast trains a ResNet
 * about 1.5x faster; elsewhere libtorch emulates it and it is slower than float32. Linux's /proc/cpuinfo
 * is the source; anywhere it cannot be read the answer is no.
 */
export function cpuHasNativeBf16(cpuinfo = readCpuinfo()): boolean {
  return /^flags\s*:.*\b(avx512_bf16|amx_bf16)\b/m.test(cpuinfo);
}

function readCpuinfo(): string {
  try {
    return readFileSync('/proc/cpuinfo', 'utf8');
  } catch {
    return '';
  }
}
