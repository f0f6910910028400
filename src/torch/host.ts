/**
 * Host-side tensors: plain typed arrays with a shape and dtype, as file formats (safetensors, .pth,
 * TF.js shards) hold them. They know nothing of libtorch; `Tensor.fromHost` moves one into the engine.
 */
export type DType = 'float32' | 'float64' | 'bfloat16' | 'float16' | 'int64' | 'int32' | 'uint8' | 'bool';

/** bfloat16 and float16 data are kept as their raw 16-bit patterns. */
export type HostData = Float32Array | Float64Array | BigInt64Array | Int32Array | Uint8Array | Uint16Array;

export interface HostTensor {
  dtype: DType;
  shape: number[];
  data: HostData;
}

/** Bytes per element of each dtype. */
export const DTYPE_BYTES: Record<DType, number> = {
  float32: 4,
  float64: 8,
  bfloat16: 2,
  float16: 2,
  int64: 8,
  int32: 4,
  uint8: 1,
  bool: 1,
};

export function numelOf(shape: readonly number[]): number {
  return shape.reduce((n, d) => n * d, 1);
}

/** A typed-array view of `bytes` for `dtype` (copied when the offset is misaligned). */
export function hostDataFromBytes(dtype: DType, bytes: Uint8Array): HostData {
  const size = DTYPE_BYTES[dtype];
  if (bytes.byteLength % size !== 0) throw new Error(`${bytes.byteLength} bytes is not a whole number of ${dtype}`);
  // new Uint8Array(view) copies; Buffer#slice would not.
  const aligned = bytes.byteOffset % size === 0 ? bytes : new Uint8Array(bytes);
  const { buffer, byteOffset } = aligned;
  const n = aligned.byteLength / size;
  switch (dtype) {
    case 'float32':
      return new Float32Array(buffer, byteOffset, n);
    case 'float64':
      return new Float64Array(buffer, byteOffset, n);
    case 'bfloat16':
    case 'float16':
      return new Uint16Array(buffer, byteOffset, n);
    case 'int64':
      return new BigInt64Array(buffer, byteOffset, n);
    case 'int32':
      return new Int32Array(buffer, byteOffset, n);
    case 'uint8':
    case 'bool':
      return new Uint8Array(buffer, byteOffset, n);
  }
}
