/**
 * The safetensors format: an 8-byte little-endian header length, a JSON header describing each
 * tensor (`dtype`, `shape`, `data_offsets` into the data section) plus optional string metadata
 * under `__metadata__`, then the raw little-endian tensor data.
 */
import { closeSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import { writeFileAtomicallySync } from '../../util/atomic-write.js';
import { DTYPE_BYTES, hostDataFromBytes, numelOf, type DType, type HostTensor } from '../host.js';

const METADATA_KEY = '__metadata__';
const LENGTH_BYTES = 8;
/** The header is space-padded so the data section starts 8-byte aligned, as the reference writer does. */
const HEADER_ALIGNMENT = 8;

const FORMAT_DTYPES: Record<DType, string> = {
  float32: 'F32',
  float64: 'F64',
  bfloat16: 'BF16',
  float16: 'F16',
  int64: 'I64',
  int32: 'I32',
  uint8: 'U8',
  bool: 'BOOL',
};
const HOST_DTYPES = new Map(Object.entries(FORMAT_DTYPES).map(([host, format]) => [format, host as DType]));

/**
 * The reference writer's data order (its dtype enum, descending): wider dtypes first, so every
 * tensor's data is aligned for its dtype and files come out byte-identical to the reference.
 */
const LAYOUT_ORDER: DType[] = ['int64', 'float64', 'float32', 'int32', 'bfloat16', 'float16', 'uint8', 'bool'];

/** The typed array each dtype's data must be (bfloat16/float16 as raw bits). */
const DATA_ARRAYS: Record<DType, abstract new (...args: never[]) => unknown> = {
  float32: Float32Array,
  float64: Float64Array,
  bfloat16: Uint16Array,
  float16: Uint16Array,
  int64: BigInt64Array,
  int32: Int32Array,
  uint8: Uint8Array,
  bool: Uint8Array,
};

/** What a safetensors file holds. */
export interface Safetensors {
  tensors: Map<string, HostTensor>;
  metadata: Record<string, string>;
}

/**
 * Serialises `tensors` (and `metadata`, if given) to safetensors bytes, laid out as the reference
 * writer does: by dtype (widest first), then by name.
 * @throws Error when a tensor's data does not match its dtype and shape.
 */
export function encodeSafetensors(tensors: Map<string, HostTensor>, metadata?: Record<string, string>): Uint8Array {
  return encode(tensors, metadata, '<buffer>');
}

/** {@link encodeSafetensors}, with errors naming `target`. */
function encode(tensors: Map<string, HostTensor>, metadata: Record<string, string> | undefined, target: string): Uint8Array {
  for (const [name, tensor] of tensors) checkEncodable(name, tensor, target);
  if (metadata && !Object.values(metadata).every((value) => typeof value === 'string')) {
    throw new Error(`${target}: ${METADATA_KEY} values must be strings`);
  }
  const header: Record<string, unknown> = {};
  if (metadata) header[METADATA_KEY] = metadata;
  const rank = (name: string) => LAYOUT_ORDER.indexOf(tensors.get(name)!.dtype);
  const names = [...tensors.keys()].sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0));
  let dataBytes = 0;
  for (const name of names) {
    const { dtype, shape, data } = tensors.get(name)!;
    header[name] = { dtype: FORMAT_DTYPES[dtype], shape, data_offsets: [dataBytes, dataBytes + data.byteLength] };
    dataBytes += data.byteLength;
  }

  const json = new TextEncoder().encode(JSON.stringify(header));
  const headerBytes = Math.ceil(json.byteLength / HEADER_ALIGNMENT) * HEADER_ALIGNMENT;
  const out = new Uint8Array(LENGTH_BYTES + headerBytes + dataBytes);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes), true);
  out.set(json, LENGTH_BYTES);
  out.fill(0x20, LENGTH_BYTES + json.byteLength, LENGTH_BYTES + headerBytes);
  let at = LENGTH_BYTES + headerBytes;
  for (const name of names) {
    // Typed arrays are host-endian; every platform Node and libtorch run on here is little-endian.
    const { data } = tensors.get(name)!;
    out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), at);
    at += data.byteLength;
  }
  return out;
}

function checkEncodable(name: string, { dtype, shape, data }: HostTensor, target: string): void {
  const fail = (reason: string) => new Error(`${target}: tensor "${name}" ${reason}`);
  if (name === METADATA_KEY) throw new Error(`${target}: "${METADATA_KEY}" cannot name a tensor`);
  if (!(dtype in FORMAT_DTYPES)) throw fail(`has unknown dtype ${dtype}`);
  if (!(data instanceof DATA_ARRAYS[dtype])) throw fail(`is ${dtype} but its data is a ${data.constructor.name}`);
  if (!shape.every(isCount)) throw fail(`has invalid shape [${shape}]`);
  if (numelOf(shape) !== data.length) throw fail(`has shape [${shape}] but ${data.length} elements`);
}

/**
 * Parses safetensors bytes. Tensor data are views into `input` where aligned (copies otherwise).
 * @param source names the bytes (usually their file) in error messages.
 * @throws Error naming `source` when the bytes are truncated or the header is inconsistent.
 */
export function decodeSafetensors(input: Uint8Array, source = '<buffer>'): Safetensors {
  const bytes = new Uint8Array(input.buffer, input.byteOffset, input.byteLength); // Buffer#slice would not copy
  const fail: Fail = (reason) => {
    throw new Error(`${source}: ${reason}`);
  };
  if (bytes.byteLength < LENGTH_BYTES) fail(`truncated: ${bytes.byteLength} bytes cannot hold the 8-byte header length`);
  const headerBytes = new DataView(bytes.buffer, bytes.byteOffset, LENGTH_BYTES).getBigUint64(0, true);
  const available = bytes.byteLength - LENGTH_BYTES;
  if (headerBytes > BigInt(available)) fail(`header length ${headerBytes} exceeds the ${available} bytes after it (truncated?)`);
  const dataStart = LENGTH_BYTES + Number(headerBytes);
  const header = parseHeader(bytes.subarray(LENGTH_BYTES, dataStart), fail);
  const data = bytes.subarray(dataStart);

  const tensors = new Map<string, HostTensor>();
  const spans: { name: string; begin: number; end: number }[] = [];
  for (const [name, entry] of Object.entries(header)) {
    if (name === METADATA_KEY) continue;
    const { dtype, shape, begin, end } = parseEntry(name, entry, fail);
    if (end > data.byteLength) fail(`tensor "${name}": data_offsets [${begin}, ${end}] run past the ${data.byteLength}-byte data section (truncated?)`);
    const expected = numelOf(shape) * DTYPE_BYTES[dtype];
    if (end - begin !== expected) fail(`tensor "${name}": data_offsets span ${end - begin} bytes but ${dtype} [${shape}] needs ${expected}`);
    spans.push({ name, begin, end });
    tensors.set(name, { dtype, shape, data: hostDataFromBytes(dtype, data.subarray(begin, end)) });
  }
  spans.sort((a, b) => a.begin - b.begin);
  for (let i = 1; i < spans.length; i++) {
    if (spans[i].begin < spans[i - 1].end) fail(`tensors "${spans[i - 1].name}" and "${spans[i].name}" overlap`);
  }
  return { tensors, metadata: parseMetadata(header[METADATA_KEY], fail) };
}

type Fail = (reason: string) => never;

function parseHeader(json: Uint8Array, fail: Fail): Record<string, unknown> {
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(json));
  } catch (error) {
    return fail(`header is not valid JSON: ${(error as Error).message}`);
  }
  return isRecord(header) ? header : fail('header is not a JSON object');
}

function parseEntry(name: string, entry: unknown, fail: Fail) {
  if (!isRecord(entry)) return fail(`tensor "${name}": header entry is not an object`);
  const { dtype, shape, data_offsets: offsets } = entry;
  const hostDtype = typeof dtype === 'string' ? HOST_DTYPES.get(dtype) : undefined;
  if (!hostDtype) return fail(`tensor "${name}": unsupported dtype ${JSON.stringify(dtype)}`);
  if (!Array.isArray(shape) || !shape.every(isCount)) return fail(`tensor "${name}": invalid shape ${JSON.stringify(shape)}`);
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isCount) || offsets[0] > offsets[1]) {
    return fail(`tensor "${name}": invalid data_offsets ${JSON.stringify(offsets)}`);
  }
  return { dtype: hostDtype, shape: shape as number[], begin: offsets[0] as number, end: offsets[1] as number };
}

function parseMetadata(metadata: unknown, fail: Fail): Record<string, string> {
  if (metadata === undefined) return {};
  if (!isRecord(metadata) || !Object.values(metadata).every((value) => typeof value === 'string')) {
    return fail(`${METADATA_KEY} must map strings to strings`);
  }
  return metadata as Record<string, string>;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isCount(value: unknown): boolean {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}

/**
 * Writes `tensors` to `path` as safetensors. The bytes go to a temporary file in the same folder,
 * are flushed to disk, then renamed over `path`, so a crash never leaves a half-written model.
 */
export function writeSafetensors(path: string, tensors: Map<string, HostTensor>, metadata?: Record<string, string>): void {
  writeFileAtomicallySync(path, encode(tensors, metadata, path), { durable: true });
}

/** Reads the safetensors file at `path`; errors name the file. */
export function readSafetensors(path: string): Safetensors {
  return decodeSafetensors(readFileSync(path), path);
}

/** The metadata of the safetensors file at `path`, reading only its header (not the tensors); errors name the file. */
export function readSafetensorsMetadata(path: string): Record<string, string> {
  const fail: Fail = (reason) => {
    throw new Error(`${path}: ${reason}`);
  };
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const length = Buffer.alloc(LENGTH_BYTES);
    if (size < LENGTH_BYTES || readSync(fd, length, 0, LENGTH_BYTES, 0) < LENGTH_BYTES) fail(`truncated: ${size} bytes cannot hold the 8-byte header length`);
    const headerBytes = length.readBigUInt64LE(0);
    if (headerBytes > BigInt(size - LENGTH_BYTES)) fail(`header length ${headerBytes} exceeds the ${size - LENGTH_BYTES} bytes after it (truncated?)`);
    const header = Buffer.alloc(Number(headerBytes));
    readSync(fd, header, 0, header.length, LENGTH_BYTES);
    return parseMetadata(parseHeader(header, fail)[METADATA_KEY], fail);
  } finally {
    closeSync(fd);
  }
}
