/**
 * `Tensor`: the typed face of a libtorch tensor. Methods mirror PyTorch's names (camelCase) and return new
 * tensors; each new tensor joins the innermost `tidy` scope. Methods ending in `_` work in place.
 */
import { native, type Handle } from './native.js';
import { track, type Disposable } from './scope.js';
import { type DType, type HostData, type HostTensor } from './host.js';

export type Device = 'cpu' | 'cuda' | `cuda:${number}`;
/**
 * How a 4-D tensor's elements lie in memory; its shape stays [N, C, H, W] either way. 'contiguous' is NCHW,
 * 'channels_last' is NHWC (each pixel's channels side by side), which oneDNN's convolutions prefer on CPUs.
 */
export type MemoryFormat = 'contiguous' | 'channels_last';
type Operand = Tensor | number;

const handleOf = (x: Operand): Handle | number => (typeof x === 'number' ? x : x.handle);

export class Tensor implements Disposable {
  #handle: Handle;

  /** Wraps a handle the addon returned. Prefer the static constructors. */
  constructor(handle: Handle) {
    this.#handle = handle;
    track(this);
  }

  /** The addon handle; throws once disposed so that misuse is caught at the call site. */
  get handle(): Handle {
    return this.#handle;
  }

  // ---- creation -------------------------------------------------------------------------------------

  /** Copies a host tensor into a new CPU tensor. */
  static fromHost(host: HostTensor): Tensor {
    return new Tensor(native.fromArray(host.data, host.shape, host.dtype));
  }

  /** A float32 (or `dtype`) tensor from numbers; `shape` defaults to 1-D. */
  static of(values: ArrayLike<number>, shape: number[] = [values.length], dtype: DType = 'float32'): Tensor {
    return Tensor.fromHost({ dtype, shape, data: hostArray(values, dtype) });
  }

  static zeros(shape: number[], dtype: DType = 'float32', device?: Device): Tensor {
    return new Tensor(native.zeros(shape, dtype, device));
  }
  static ones(shape: number[], dtype: DType = 'float32', device?: Device): Tensor {
    return new Tensor(native.ones(shape, dtype, device));
  }
  static full(shape: number[], value: number, dtype: DType = 'float32', device?: Device): Tensor {
    return new Tensor(native.full(shape, value, dtype, device));
  }
  /** Uniform on [0, 1), from libtorch's seeded generator (`manualSeed`). */
  static rand(shape: number[], dtype: DType = 'float32', device?: Device): Tensor {
    return new Tensor(native.rand(shape, dtype, device));
  }
  /** Standard normal, from libtorch's seeded generator. */
  static randn(shape: number[], dtype: DType = 'float32', device?: Device): Tensor {
    return new Tensor(native.randn(shape, dtype, device));
  }
  static randint(low: number, high: number, shape: number[], dtype: DType = 'int64'): Tensor {
    return new Tensor(native.randint(low, high, shape, dtype));
  }
  static randperm(n: number): Tensor {
    return new Tensor(native.randperm(n));
  }
  static arange(start: number, end: number, step = 1, dtype: DType = 'int64'): Tensor {
    return new Tensor(native.arange(start, end, step, dtype));
  }
  static cat(tensors: Tensor[], dim = 0): Tensor {
    return new Tensor(
      native.cat(
        tensors.map((t) => t.handle),
        dim,
      ),
    );
  }
  static stack(tensors: Tensor[], dim = 0): Tensor {
    return new Tensor(
      native.stack(
        tensors.map((t) => t.handle),
        dim,
      ),
    );
  }
  static where(condition: Tensor, a: Tensor, b: Tensor): Tensor {
    return new Tensor(native.where(condition.handle, a.handle, b.handle));
  }

  // ---- description and data -------------------------------------------------------------------------

  get shape(): number[] {
    return native.describe(this.handle).shape;
  }
  get dtype(): DType {
    return native.describe(this.handle).dtype;
  }
  get device(): string {
    return native.describe(this.handle).device;
  }
  get numel(): number {
    return native.numel(this.handle);
  }
  get ndim(): number {
    return this.shape.length;
  }
  get requiresGrad(): boolean {
    return native.describe(this.handle).requiresGrad;
  }
  set requiresGrad(on: boolean) {
    native.setRequiresGrad(this.handle, on);
  }
  /** Made under `inferenceMode`: it can never take part in autograd. */
  get isInference(): boolean {
    return native.describe(this.handle).inference;
  }
  /** Counts in-place changes of the data (autograd's version counter), e.g. optimiser steps, `copy_` and `setData`. */
  get version(): number {
    return native.tensorVersion(this.handle);
  }
  get isDisposed(): boolean {
    return native.isDisposed(this.#handle);
  }

  /** The single value of a one-element tensor. */
  item(): number {
    return native.item(this.handle);
  }
  /** A copy of the data (bfloat16/float16 widened to float32, bool as uint8). */
  data(): Float32Array | Float64Array | BigInt64Array | Int32Array | Uint8Array {
    return native.toArray(this.handle);
  }
  /** A float32 copy of the data, whatever the dtype. */
  floats(): Float32Array {
    const d = this.data();
    return d instanceof Float32Array ? d : Float32Array.from(d as ArrayLike<number | bigint>, Number);
  }
  /** A copy as a host tensor with this tensor's dtype (16-bit floats as raw bits). */
  toHost(): HostTensor {
    const { shape, dtype } = native.describe(this.handle);
    if (dtype === 'bfloat16' || dtype === 'float16') {
      // Widening to float32 is exact, so rounding back recovers the original bits.
      return { dtype, shape, data: floatsTo16Bit(this.data() as Float32Array, dtype) };
    }
    return { dtype, shape, data: this.data() };
  }

  // ---- lifetime -------------------------------------------------------------------------------------

  /** Frees the native memory now. Using the tensor afterwards throws. */
  dispose(): void {
    native.dispose(this.#handle);
  }
  /**
   * Gives this tensor `source`'s data, device and memory layout while it stays the same tensor (Python's
   * `t.data = source`): modules, optimisers and optimiser state that hold it see the change. Used to move
   * or re-lay out parameters in place. Unlike Python's, it counts as a change of the data (`version`), so that what
   * holds the old values (a compiled `nn.InferenceGraph`) knows.
   */
  setData(source: Tensor): void {
    native.setData(this.handle, source.handle);
  }

  // ---- autograd -------------------------------------------------------------------------------------

  backward(gradient?: Tensor, retainGraph = false): void {
    native.backward(this.handle, gradient?.handle ?? null, retainGraph);
  }
  /** The accumulated gradient, or null. The returned tensor shares memory with the gradient. */
  get grad(): Tensor | null {
    const g = native.grad(this.handle);
    return g ? new Tensor(g) : null;
  }
  clearGrad(): void {
    native.clearGrad(this.handle);
  }
  /** Keeps the gradient of a non-leaf tensor after backward (for Grad-CAM). */
  retainGrad(): this {
    native.retainGrad(this.handle);
    return this;
  }
  detach(): Tensor {
    return new Tensor(native.detach(this.handle));
  }

  // ---- conversion -----------------------------------------------------------------------------------

  to(device?: Device | string, dtype?: DType): Tensor {
    return new Tensor(native.to(this.handle, device, dtype));
  }
  float(): Tensor {
    return this.to(undefined, 'float32');
  }
  long(): Tensor {
    return this.to(undefined, 'int64');
  }
  /** This tensor laid out in `format` (sharing its data when it already is). */
  contiguous(format: MemoryFormat = 'contiguous'): Tensor {
    return new Tensor(native.contiguous(this.handle, format));
  }
  isContiguous(format: MemoryFormat = 'contiguous'): boolean {
    return native.isContiguous(this.handle, format);
  }
  clone(): Tensor {
    return new Tensor(native.clone(this.handle));
  }
  copy_(source: Tensor): this {
    native.copy_(this.handle, source.handle);
    return this;
  }
  fill_(value: number): this {
    native.fill_(this.handle, value);
    return this;
  }
  mul_(value: number): this {
    native.mul_(this.handle, value);
    return this;
  }
  relu_(): this {
    native.relu_(this.handle);
    return this;
  }
  add_(value: Operand, alpha?: number): this {
    native.add_(this.handle, handleOf(value), alpha);
    return this;
  }

  // ---- elementwise ----------------------------------------------------------------------------------

  add(other: Operand): Tensor {
    return new Tensor(native.add(this.handle, handleOf(other)));
  }
  sub(other: Operand): Tensor {
    return new Tensor(native.sub(this.handle, handleOf(other)));
  }
  mul(other: Operand): Tensor {
    return new Tensor(native.mul(this.handle, handleOf(other)));
  }
  div(other: Operand): Tensor {
    return new Tensor(native.div(this.handle, handleOf(other)));
  }
  pow(other: Operand): Tensor {
    return new Tensor(native.pow(this.handle, handleOf(other)));
  }
  maximum(other: Operand): Tensor {
    return new Tensor(native.maximum(this.handle, handleOf(other)));
  }
  minimum(other: Operand): Tensor {
    return new Tensor(native.minimum(this.handle, handleOf(other)));
  }
  eq(other: Operand): Tensor {
    return new Tensor(native.eq(this.handle, handleOf(other)));
  }
  gt(other: Operand): Tensor {
    return new Tensor(native.gt(this.handle, handleOf(other)));
  }
  lt(other: Operand): Tensor {
    return new Tensor(native.lt(this.handle, handleOf(other)));
  }
  ge(other: Operand): Tensor {
    return new Tensor(native.ge(this.handle, handleOf(other)));
  }
  le(other: Operand): Tensor {
    return new Tensor(native.le(this.handle, handleOf(other)));
  }
  neg(): Tensor {
    return new Tensor(native.neg(this.handle));
  }
  exp(): Tensor {
    return new Tensor(native.exp(this.handle));
  }
  log(): Tensor {
    return new Tensor(native.log(this.handle));
  }
  sqrt(): Tensor {
    return new Tensor(native.sqrt(this.handle));
  }
  abs(): Tensor {
    return new Tensor(native.abs(this.handle));
  }
  relu(): Tensor {
    return new Tensor(native.relu(this.handle));
  }
  sigmoid(): Tensor {
    return new Tensor(native.sigmoid(this.handle));
  }
  tanh(): Tensor {
    return new Tensor(native.tanh(this.handle));
  }
  logicalNot(): Tensor {
    return new Tensor(native.logicalNot(this.handle));
  }
  clamp(min?: number | null, max?: number | null): Tensor {
    return new Tensor(native.clamp(this.handle, min ?? null, max ?? null));
  }
  matmul(other: Tensor): Tensor {
    return new Tensor(native.matmul(this.handle, other.handle));
  }

  // ---- reductions -----------------------------------------------------------------------------------

  sum(dims?: number | number[], keepdim = false): Tensor {
    return new Tensor(native.sum(this.handle, dimList(dims), keepdim));
  }
  mean(dims?: number | number[], keepdim = false): Tensor {
    return new Tensor(native.mean(this.handle, dimList(dims), keepdim));
  }
  std(dims: number | number[], keepdim = false, unbiased = true): Tensor {
    return new Tensor(native.std(this.handle, dimList(dims)!, keepdim, unbiased));
  }
  /** The largest value overall. */
  max(): Tensor {
    return new Tensor(native.max(this.handle));
  }
  /** Largest values and their indices along `dim`. */
  maxAlong(dim: number, keepdim = false): { values: Tensor; indices: Tensor } {
    const [values, indices] = native.max(this.handle, dim, keepdim);
    return { values: new Tensor(values), indices: new Tensor(indices) };
  }
  min(): Tensor {
    return new Tensor(native.min(this.handle));
  }
  argmax(dim?: number, keepdim = false): Tensor {
    return new Tensor(native.argmax(this.handle, dim ?? null, keepdim));
  }
  topk(k: number, dim = -1, largest = true): { values: Tensor; indices: Tensor } {
    const [values, indices] = native.topk(this.handle, k, dim, largest);
    return { values: new Tensor(values), indices: new Tensor(indices) };
  }
  sort(dim = -1, descending = false): { values: Tensor; indices: Tensor } {
    const [values, indices] = native.sort(this.handle, dim, descending);
    return { values: new Tensor(values), indices: new Tensor(indices) };
  }

  // ---- shape and indexing ---------------------------------------------------------------------------

  reshape(shape: number[]): Tensor {
    return new Tensor(native.reshape(this.handle, shape));
  }
  permute(dims: number[]): Tensor {
    return new Tensor(native.permute(this.handle, dims));
  }
  transpose(a: number, b: number): Tensor {
    return new Tensor(native.transpose(this.handle, a, b));
  }
  flatten(start = 0, end = -1): Tensor {
    return new Tensor(native.flatten(this.handle, start, end));
  }
  squeeze(dim?: number): Tensor {
    return new Tensor(native.squeeze(this.handle, dim));
  }
  unsqueeze(dim: number): Tensor {
    return new Tensor(native.unsqueeze(this.handle, dim));
  }
  expand(shape: number[]): Tensor {
    return new Tensor(native.expand(this.handle, shape));
  }
  repeat(times: number[]): Tensor {
    return new Tensor(native.repeat(this.handle, times));
  }
  flip(dims: number[]): Tensor {
    return new Tensor(native.flip(this.handle, dims));
  }
  /** Elements `start` (inclusive) to `end` (exclusive) along `dim`, as a view. */
  slice(dim: number, start?: number, end?: number, step = 1): Tensor {
    return new Tensor(native.slice(this.handle, dim, start ?? null, end ?? null, step));
  }
  /** The `index`-th sub-tensor along `dim` (that dimension removed), as a view. */
  select(dim: number, index: number): Tensor {
    return new Tensor(native.select(this.handle, dim, index));
  }
  indexSelect(dim: number, index: Tensor): Tensor {
    return new Tensor(native.indexSelect(this.handle, dim, index.handle));
  }
  gather(dim: number, index: Tensor): Tensor {
    return new Tensor(native.gather(this.handle, dim, index.handle));
  }
  oneHot(classes: number): Tensor {
    return new Tensor(native.oneHot(this.handle, classes));
  }
  softmax(dim: number): Tensor {
    return new Tensor(native.softmax(this.handle, dim));
  }
  logSoftmax(dim: number): Tensor {
    return new Tensor(native.logSoftmax(this.handle, dim));
  }

  toString(): string {
    if (this.isDisposed) return 'Tensor(disposed)';
    const { shape, dtype, device } = native.describe(this.handle);
    return `Tensor(shape=[${shape.join(', ')}], dtype=${dtype}, device=${device})`;
  }
}

function dimList(dims: number | number[] | undefined): number[] | undefined {
  return dims === undefined ? undefined : typeof dims === 'number' ? [dims] : dims;
}

function hostArray(values: ArrayLike<number>, dtype: DType): HostData {
  switch (dtype) {
    case 'float32':
      return Float32Array.from(values);
    case 'float64':
      return Float64Array.from(values);
    case 'int64':
      return BigInt64Array.from(Array.from(values, (v) => BigInt(Math.trunc(v))));
    case 'int32':
      return Int32Array.from(values);
    case 'uint8':
    case 'bool':
      return Uint8Array.from(values);
    case 'bfloat16':
    case 'float16':
      return floatsTo16Bit(Float32Array.from(values), dtype);
  }
}

/** Rounds float32 values to bfloat16 or IEEE half bit patterns (round to nearest even). */
function floatsTo16Bit(values: Float32Array, dtype: 'bfloat16' | 'float16'): Uint16Array {
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const b = bits[i];
    if (dtype === 'bfloat16') {
      out[i] = Number.isNaN(values[i]) ? 0x7fc0 : (b + 0x7fff + ((b >>> 16) & 1)) >>> 16;
    } else {
      out[i] = float32BitsToHalf(b);
    }
  }
  return out;
}

function float32BitsToHalf(b: number): number {
  const sign = (b >>> 16) & 0x8000;
  const exponent = (b >>> 23) & 0xff;
  let mantissa = b & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa ? 0x200 : 0);
  const e = exponent - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mantissa |= 0x800000;
    const shift = 14 - e;
    const half = mantissa >>> shift;
    const rest = mantissa & ((1 << shift) - 1);
    const midpoint = 1 << (shift - 1);
    return sign | (half + (rest > midpoint || (rest === midpoint && half & 1) ? 1 : 0));
  }
  const half = (e << 10) | (mantissa >>> 13);
  const rest = mantissa & 0x1fff;
  return sign | (half + (rest > 0x1000 || (rest === 0x1000 && half & 1) ? 1 : 0));
}
