import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { HostTensor } from '../../../src/torch/host.js';
import { decodeSafetensors, encodeSafetensors, readSafetensors, readSafetensorsMetadata, writeSafetensors } from '../../../src/torch/io/safetensors.js';

const SYSTEM_PYTHON = '/usr/bin/python3';
const dir = mkdtempSync(join(tmpdir(), 'findstroke-safetensors-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** One tensor of every dtype, with awkward values: int64 beyond 2^53, bf16/f16 raw bit patterns. */
function everyDtype(): Map<string, HostTensor> {
  return new Map<string, HostTensor>([
    ['f32', { dtype: 'float32', shape: [2, 3], data: new Float32Array([0, -1.5, 3.25, Infinity, -0, 1e-30]) }],
    ['f64', { dtype: 'float64', shape: [2], data: new Float64Array([Math.PI, -1e300]) }],
    ['bf16', { dtype: 'bfloat16', shape: [3], data: new Uint16Array([0x3f80, 0xc000, 0x7fc1]) }],
    ['f16', { dtype: 'float16', shape: [1, 2], data: new Uint16Array([0x3c00, 0xfbff]) }],
    ['i64', { dtype: 'int64', shape: [3], data: new BigInt64Array([2n ** 62n + 7n, -(2n ** 63n), -1n]) }],
    ['i32', { dtype: 'int32', shape: [2], data: new Int32Array([-(2 ** 31), 2 ** 31 - 1]) }],
    ['u8', { dtype: 'uint8', shape: [2, 2], data: new Uint8Array([0, 1, 128, 255]) }],
    ['mask', { dtype: 'bool', shape: [3], data: new Uint8Array([1, 0, 1]) }],
    ['scalar', { dtype: 'float32', shape: [], data: new Float32Array([42]) }],
    ['empty', { dtype: 'int64', shape: [0, 4], data: new BigInt64Array(0) }],
  ]);
}

/** A file with a hand-made header, for the decoder's error paths. */
function rawFile(header: object, data: Uint8Array = new Uint8Array(0)): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

test('round-trips every dtype exactly, including int64 and bf16/f16 bits', () => {
  const tensors = everyDtype();
  const decoded = decodeSafetensors(encodeSafetensors(tensors));
  assert.deepEqual(decoded.tensors, tensors);
  assert.deepEqual(decoded.metadata, {});
});

test('decodes from a misaligned Buffer', () => {
  const bytes = encodeSafetensors(everyDtype());
  const misaligned = Buffer.alloc(bytes.length + 1).subarray(1);
  misaligned.set(bytes);
  assert.deepEqual(decodeSafetensors(misaligned).tensors, everyDtype());
});

test('round-trips metadata', () => {
  const metadata = { format: 'pt', epoch: '12', note: 'ünïcode' };
  assert.deepEqual(decodeSafetensors(encodeSafetensors(everyDtype(), metadata)).metadata, metadata);
});

test('lays out bytes as the reference writer does', () => {
  const tensors = new Map<string, HostTensor>([
    ['b', { dtype: 'uint8', shape: [2], data: new Uint8Array([1, 2]) }],
    ['a', { dtype: 'float32', shape: [1], data: new Float32Array([1]) }],
  ]);
  // The 131-byte header is padded with 5 spaces to 136 = 0x88; wider dtypes come first.
  const header = '{"__metadata__":{"k":"v"},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"U8","shape":[2],"data_offsets":[4,6]}}     ';
  const expected = Uint8Array.from([
    ...[0x88, 0, 0, 0, 0, 0, 0, 0],
    ...new TextEncoder().encode(header),
    ...[0x00, 0x00, 0x80, 0x3f], // 1.0f little-endian
    ...[0x01, 0x02],
  ]);
  const bytes = encodeSafetensors(tensors, { k: 'v' });
  assert.deepEqual(bytes, expected);
  assert.deepEqual(decodeSafetensors(expected), { tensors: new Map([...tensors].reverse()), metadata: { k: 'v' } });
});

test('writes atomically and reads back from a file', () => {
  const path = join(dir, 'model.safetensors');
  writeSafetensors(path, everyDtype(), { kind: 'test' });
  writeSafetensors(path, everyDtype(), { kind: 'overwritten' });
  assert.deepEqual(readdirSync(dir), ['model.safetensors'], 'no temporary file is left behind');
  const { tensors, metadata } = readSafetensors(path);
  assert.deepEqual(tensors, everyDtype());
  assert.deepEqual(metadata, { kind: 'overwritten' });
  assert.deepEqual(readSafetensorsMetadata(path), { kind: 'overwritten' }, 'the header alone gives the same metadata');
});

test('rejects truncated files, naming the file', () => {
  const bytes = encodeSafetensors(everyDtype());
  const cut = join(dir, 'cut-data.safetensors');
  writeFileSync(cut, bytes.subarray(0, bytes.length - 3));
  assert.throws(
    () => readSafetensors(cut),
    (e: Error) => e.message.startsWith(cut) && /run past .*truncated/.test(e.message),
  );
  const cutHeader = join(dir, 'cut-header.safetensors');
  writeFileSync(cutHeader, bytes.subarray(0, 40));
  assert.throws(
    () => readSafetensors(cutHeader),
    (e: Error) => e.message.startsWith(cutHeader) && /header length \d+ exceeds/.test(e.message),
  );
  assert.throws(() => decodeSafetensors(new Uint8Array(5), 'tiny.safetensors'), /^Error: tiny\.safetensors: truncated: 5 bytes/);
  assert.throws(
    () => readSafetensorsMetadata(cutHeader),
    (e: Error) => e.message.startsWith(cutHeader) && /header length \d+ exceeds/.test(e.message),
  );
  const tiny = join(dir, 'tiny.safetensors');
  writeFileSync(tiny, new Uint8Array(5));
  assert.throws(() => readSafetensorsMetadata(tiny), new RegExp(`^Error: ${tiny}: truncated: 5 bytes`));
});

test('rejects inconsistent headers with the reason', () => {
  const data = new Uint8Array(16);
  const entry = (dtype: string, shape: number[], begin: number, end: number) => ({ dtype, shape, data_offsets: [begin, end] });
  const cases: [object, RegExp][] = [
    [{ x: entry('I8', [2], 0, 2) }, /x\.st: tensor "x": unsupported dtype "I8"/],
    [{ x: entry('F32', [2], 0, 12) }, /tensor "x": data_offsets span 12 bytes but float32 \[2\] needs 8/],
    [{ x: entry('F32', [2], 8, 24) }, /tensor "x": data_offsets \[8, 24\] run past the 16-byte data section/],
    [{ x: entry('F32', [2], 0, 8), y: entry('F32', [2], 4, 12) }, /tensors "x" and "y" overlap/],
    [{ x: entry('F32', [-1], 0, 0) }, /tensor "x": invalid shape \[-1\]/],
    [{ x: { dtype: 'F32', shape: [1] } }, /tensor "x": invalid data_offsets/],
    [{ __metadata__: { epoch: 3 } }, /__metadata__ must map strings to strings/],
    [[1, 2], /header is not a JSON object/],
  ];
  for (const [header, reason] of cases) assert.throws(() => decodeSafetensors(rawFile(header, data), 'x.st'), reason);
  const garbage = rawFile({});
  garbage[8] = 0x7b + 1;
  assert.throws(() => decodeSafetensors(garbage, 'x.st'), /x\.st: header is not valid JSON/);
});

test('refuses to encode data that does not match dtype and shape', () => {
  const encodeOne = (tensor: HostTensor) => encodeSafetensors(new Map([['w', tensor]]));
  assert.throws(() => encodeOne({ dtype: 'int64', shape: [1], data: new Float64Array(1) }), /tensor "w" is int64 but its data is a Float64Array/);
  assert.throws(() => encodeOne({ dtype: 'float32', shape: [2, 2], data: new Float32Array(3) }), /tensor "w" has shape \[2,2\] but 3 elements/);
  assert.throws(
    () => writeSafetensors(join(dir, 'bad.safetensors'), new Map([['w', { dtype: 'uint8', shape: [2], data: new Uint8Array(1) }]])),
    (e: Error) => e.message.startsWith(join(dir, 'bad.safetensors')),
  );
});

const hasPythonSafetensors = spawnSync(SYSTEM_PYTHON, ['-c', 'import safetensors, numpy']).status === 0;

test(
  'interoperates with the reference implementation',
  { skip: hasPythonSafetensors ? false : `${SYSTEM_PYTHON} cannot import safetensors (pip package "safetensors"); skipped` },
  () => {
    const ours = join(dir, 'ours.safetensors');
    const theirs = join(dir, 'theirs.safetensors');
    const tensors = new Map([...everyDtype()].filter(([, t]) => t.dtype !== 'bfloat16')); // numpy has no bfloat16
    writeSafetensors(ours, tensors, { source: 'ts' });
    // Python reads our file and writes it back; both files must then match byte for byte.
    const script = `
import sys
from safetensors.numpy import load_file, save_file
from safetensors import safe_open
with safe_open(sys.argv[1], 'np') as f:
    metadata = f.metadata()
save_file(load_file(sys.argv[1]), sys.argv[2], metadata=metadata)
`;
    const run = spawnSync(SYSTEM_PYTHON, ['-c', script, ours, theirs], { encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    assert.deepEqual(readFileSync(theirs), readFileSync(ours));
    assert.deepEqual(readSafetensors(theirs).tensors, tensors);
  },
);
