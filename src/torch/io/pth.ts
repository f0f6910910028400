/**
 * Reads PyTorch checkpoints written by `torch.save` (the zip format, default since PyTorch 1.6)
 * without Python: the archive's `data.pkl` is unpickled with only the torch globals a state_dict
 * needs, and each tensor is rebuilt from the raw storage bytes in `data/<key>`.
 */
import { readFileSync } from 'node:fs';
import { DTYPE_BYTES, hostDataFromBytes, numelOf, type DType, type HostTensor } from '../host.js';
import { OpaqueObject, unpickle, type PyCallable } from './pickle.js';
import { looksLikeZip, readStoredZip } from './zip.js';

const PICKLE_PROTO = 0x80;

/** torch's typed storage classes, as named in the pickle. */
const STORAGE_DTYPES: Record<string, DType> = {
  FloatStorage: 'float32',
  DoubleStorage: 'float64',
  HalfStorage: 'float16',
  BFloat16Storage: 'bfloat16',
  LongStorage: 'int64',
  IntStorage: 'int32',
  ByteStorage: 'uint8',
  BoolStorage: 'bool',
};

/** A storage class global, e.g. `torch.FloatStorage`. */
class StorageType {
  constructor(readonly dtype: DType) {}
}

/** One storage's raw bytes; several tensors may view it. */
class Storage {
  constructor(
    readonly dtype: DType,
    readonly numel: number,
    readonly bytes: Uint8Array,
  ) {}
}

/**
 * The tensors of the state_dict saved at `path`, by name, each with its own contiguous data.
 *
 * The top-level object must be a dict. If it holds a `state_dict` or else a `model` entry that is a
 * dict of tensors (the usual training-checkpoint layout), that inner dict is used; otherwise the
 * top-level dict itself. Entries that are not tensors are skipped.
 *
 * @throws Error naming `path` for legacy (pre-1.6) files, damaged archives, and pickled objects
 * other than dense tensors in dicts (e.g. a whole pickled `nn.Module`).
 */
export function readTorchCheckpoint(path: string): Map<string, HostTensor> {
  const file = readFileSync(path);
  const bytes = new Uint8Array(file.buffer, file.byteOffset, file.byteLength); // Buffer#slice would not copy
  if (!looksLikeZip(bytes)) {
    if (bytes[0] === PICKLE_PROTO) {
      throw new Error(`${path}: legacy (pre-1.6) torch.save format is not supported; re-save with torch.save(..., _use_new_zipfile_serialization=True)`);
    }
    throw new Error(`${path}: not a PyTorch checkpoint (neither a zip archive nor a legacy pickle)`);
  }
  const { root, isTensor } = loadArchive(readStoredZip(bytes, path), path);
  const stateDict = pickStateDict(root, isTensor, path);
  const tensors = new Map<string, HostTensor>();
  for (const [name, value] of stateDict) {
    if (typeof name === 'string' && isTensor(value)) tensors.set(name, value);
  }
  return tensors;
}

/** Unpickles the archive's `data.pkl`, rebuilding tensors from its storages. */
function loadArchive(entries: Map<string, Uint8Array>, path: string) {
  const fail: (reason: string) => never = (reason) => {
    throw new Error(`${path}: ${reason}`);
  };
  // The archive's folder is the file's stem in older torch, `archive` in newer ones.
  const pickleName = [...entries.keys()].find((name) => /^[^/]+\/data\.pkl$/.test(name)) ?? fail('archive has no data.pkl');
  const prefix = pickleName.slice(0, -'data.pkl'.length);
  const byteOrder = entries.get(`${prefix}byteorder`);
  if (byteOrder && new TextDecoder().decode(byteOrder) !== 'little') fail('big-endian checkpoints are not supported');

  const storages = new Map<string, Storage>();
  const tensors = new WeakSet<object>();
  const isTensor = (value: unknown): value is HostTensor => typeof value === 'object' && value !== null && tensors.has(value);

  const loadStorage = (pid: unknown): Storage => {
    if (!Array.isArray(pid) || pid[0] !== 'storage') return fail(`unsupported persistent id ${describe(pid)}`);
    const [, type, key, , numel] = pid as unknown[];
    if (!(type instanceof StorageType)) return fail(`unsupported storage type ${describe(type)}`);
    if (typeof key !== 'string' || !isCount(numel)) return fail(`malformed storage reference ${describe(pid)}`);
    const cached = storages.get(key);
    if (cached) return cached;
    const bytes = entries.get(`${prefix}data/${key}`) ?? fail(`storage data/${key} is missing from the archive`);
    if (bytes.byteLength < numel * DTYPE_BYTES[type.dtype]) fail(`storage data/${key} is shorter than its ${numel} ${type.dtype} elements`);
    const storage = new Storage(type.dtype, numel, bytes);
    storages.set(key, storage);
    return storage;
  };

  // _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
  const rebuildTensor: PyCallable = ([storage, offset, size, stride]) => {
    if (!(storage instanceof Storage)) return fail('tensor without a storage');
    if (!isCount(offset) || !isCountList(size) || !isCountList(stride) || size.length !== stride.length) {
      return fail(`malformed tensor layout (offset ${describe(offset)}, size ${describe(size)}, stride ${describe(stride)})`);
    }
    const tensor = materialise(storage, offset, size, stride, path);
    tensors.add(tensor);
    return tensor;
  };
  // _rebuild_parameter(data, requires_grad, backward_hooks[, state]): a Parameter is just its data here.
  const rebuildParameter: PyCallable = ([data]) => (isTensor(data) ? data : fail('parameter without tensor data'));

  const findGlobal = (module: string, name: string): unknown => {
    const qualified = `${module}.${name}`;
    switch (qualified) {
      case 'collections.OrderedDict':
        return makeOrderedDict;
      case 'torch._utils._rebuild_tensor_v2':
        return rebuildTensor;
      case 'torch._utils._rebuild_parameter':
      case 'torch._utils._rebuild_parameter_with_state':
        return rebuildParameter;
    }
    if (module === 'torch' && name in STORAGE_DTYPES) return new StorageType(STORAGE_DTYPES[name]);
    // Unknown torch objects would be tensors (quantised, sparse, ...) or whole modules: refuse
    // rather than silently drop them. Anything else is kept opaque and later skipped.
    if (module === 'torch' || module.startsWith('torch.')) {
      return fail(`unsupported object ${qualified}; only dicts of dense tensors (a state_dict) can be read`);
    }
    return new OpaqueObject(qualified);
  };

  const root = unpickle(entries.get(pickleName)!, { findGlobal, persistentLoad: loadStorage }, `${path}: ${pickleName}`);
  return { root, isTensor };
}

/** `collections.OrderedDict()` or `OrderedDict(pairs)`. */
const makeOrderedDict: PyCallable = ([pairs]) => new Map((pairs ?? []) as Iterable<[unknown, unknown]>);

/** The dict holding the tensors: `state_dict` or `model` of a training checkpoint, else `root` itself. */
function pickStateDict(root: unknown, isTensor: (value: unknown) => boolean, path: string): Map<unknown, unknown> {
  if (!(root instanceof Map)) throw new Error(`${path}: top-level object is ${describe(root)}, not a dict; save model.state_dict() instead`);
  for (const key of ['state_dict', 'model']) {
    const inner: unknown = root.get(key);
    if (inner instanceof Map && [...inner.values()].some(isTensor)) return inner;
  }
  return root;
}

/** A contiguous copy of the `size`/`stride` view starting `offset` elements into `storage`. */
function materialise(storage: Storage, offset: number, size: number[], stride: number[], path: string): HostTensor {
  const numel = numelOf(size);
  const last = offset + size.reduce((sum, n, d) => sum + (n - 1) * stride[d], 0);
  if (numel > 0 && last >= storage.numel) {
    throw new Error(`${path}: tensor view (offset ${offset}, size [${size}], stride [${stride}]) overruns its ${storage.numel}-element storage`);
  }
  const itemBytes = DTYPE_BYTES[storage.dtype];
  const bytes = isContiguous(size, stride)
    ? storage.bytes.slice(offset * itemBytes, (offset + numel) * itemBytes)
    : gather(storage.bytes, itemBytes, offset, size, stride);
  return { dtype: storage.dtype, shape: size, data: hostDataFromBytes(storage.dtype, bytes) };
}

/** Row-major contiguity; the stride of a size-1 dimension does not matter. */
function isContiguous(size: number[], stride: number[]): boolean {
  let expected = 1;
  for (let d = size.length - 1; d >= 0; d--) {
    if (size[d] !== 1 && stride[d] !== expected) return false;
    expected *= size[d];
  }
  return true;
}

/** Copies a strided view element by element into row-major order. */
function gather(source: Uint8Array, itemBytes: number, offset: number, size: number[], stride: number[]): Uint8Array {
  const out = new Uint8Array(numelOf(size) * itemBytes);
  let written = 0;
  const visit = (dim: number, element: number): void => {
    if (dim === size.length) {
      for (let b = element * itemBytes, end = b + itemBytes; b < end; b++) out[written++] = source[b];
      return;
    }
    for (let i = 0; i < size[dim]; i++) visit(dim + 1, element + i * stride[dim]);
  };
  visit(0, offset);
  return out;
}

function isCount(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}

function isCountList(value: unknown): value is number[] {
  return Array.isArray(value) && value.every(isCount);
}

/** A short description of an unpickled value for error messages. */
function describe(value: unknown): string {
  if (value instanceof OpaqueObject) return value.typeName;
  if (value instanceof Map) return 'a dict';
  if (Array.isArray(value)) return `(${value.map(describe).join(', ')})`;
  if (typeof value === 'string') return JSON.stringify(value);
  if (value instanceof StorageType) return `a ${value.dtype} storage class`;
  if (typeof value === 'function') return 'a function';
  return String(value);
}
