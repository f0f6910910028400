import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { HostTensor } from '../../../src/torch/host.js';
import { unpickle } from '../../../src/torch/io/pickle.js';
import { readTorchCheckpoint } from '../../../src/torch/io/pth.js';

// Debian's python3-torch; the `python3` on PATH is a pyenv without torch.
const SYSTEM_PYTHON = '/usr/bin/python3';
const hasTorch = spawnSync(SYSTEM_PYTHON, ['-c', 'import torch, torchvision']).status === 0;
const needsTorch = {
  skip: hasTorch ? false : `${SYSTEM_PYTHON} cannot import torch and torchvision: Debian's python3-torch and python3-torchvision are needed`,
};

const dir = mkdtempSync(join(tmpdir(), 'findstroke-pth-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Writes every checkpoint the tests read, plus the exact bytes numpy sees for each tensor. */
const FIXTURES = String.raw`
import argparse, hashlib, json, sys, zipfile
import torch, torchvision
out = sys.argv[1]

def raw_hex(t):
    t = t.contiguous()
    if t.dtype in (torch.float16, torch.bfloat16):
        t = t.view(torch.int16)  # numpy has no bfloat16: compare the bits
    return t.numpy().tobytes().hex()

dtypes = {
    'f32': torch.tensor([[0., -1.5, 3.25], [float('inf'), -0., 1e-30]]),
    'f64': torch.tensor([3.141592653589793, -1e300], dtype=torch.float64),
    'f16': torch.tensor([1., -65504., 0.1], dtype=torch.float16),
    'bf16': torch.tensor([1., -2., 0.1], dtype=torch.bfloat16),
    'i64': torch.tensor([2**62 + 7, -2**63, -1]),
    'i32': torch.tensor([-2**31, 2**31 - 1], dtype=torch.int32),
    'u8': torch.tensor([[0, 1], [128, 255]], dtype=torch.uint8),
    'mask': torch.tensor([True, False, True]),
    'scalar': torch.tensor(42.),
}
torch.save(dtypes, f'{out}/dtypes.pth')
json.dump({k: {'shape': list(v.shape), 'hex': raw_hex(v)} for k, v in dtypes.items()}, open(f'{out}/dtypes.json', 'w'))

torch.save({'t': torch.arange(6.).reshape(2, 3).t(), 'p': torch.arange(24.).reshape(2, 3, 4).permute(2, 0, 1),
            'step': torch.arange(10)[1::3]}, f'{out}/strided.pth')
a = torch.arange(10.)
torch.save({'a': a[2:5], 'b': a[5:]}, f'{out}/shared.pth')

torch.manual_seed(0)
linear = torch.nn.Linear(3, 2)
torch.save({'epoch': 7, 'model': linear.state_dict(), 'args': argparse.Namespace(lr=0.1, name='x'),
            'optimizer': torch.optim.SGD(linear.parameters(), lr=0.1).state_dict()}, f'{out}/checkpoint.pth')
json.dump({k: raw_hex(v) for k, v in linear.state_dict().items()}, open(f'{out}/checkpoint.json', 'w'))
torch.save({'w': torch.nn.Parameter(torch.ones(2))}, f'{out}/parameter.pth')
torch.save(linear, f'{out}/module.pth')
torch.save(a, f'{out}/legacy.pth', _use_new_zipfile_serialization=False)
with zipfile.ZipFile(f'{out}/dtypes.pth') as src, zipfile.ZipFile(f'{out}/deflated.pth', 'w', zipfile.ZIP_DEFLATED) as dst:
    for name in src.namelist():
        dst.writestr(name, src.read(name))

resnet = torchvision.models.resnet18().state_dict()
torch.save(resnet, f'{out}/resnet18.pth')
json.dump({k: {'dtype': str(v.dtype).removeprefix('torch.'), 'shape': list(v.shape), 'first': v.flatten()[:3].tolist(),
               'sha256': hashlib.sha256(v.contiguous().numpy().tobytes()).hexdigest()} for k, v in resnet.items()},
          open(f'{out}/resnet18.json', 'w'))
`;

if (hasTorch) {
  const run = spawnSync(SYSTEM_PYTHON, ['-c', FIXTURES, dir], { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`generating checkpoints failed:\n${run.stderr}`);
}

const fixture = (name: string) => join(dir, name);
const readJson = (name: string): unknown => JSON.parse(readFileSync(fixture(name), 'utf8'));
const bytesOf = ({ data }: HostTensor) => Buffer.from(data.buffer, data.byteOffset, data.byteLength);
const valuesOf = (tensor: HostTensor) => Array.from(tensor.data, Number);

test('reads every dtype bit-exactly', needsTorch, () => {
  const tensors = readTorchCheckpoint(fixture('dtypes.pth'));
  const expected = readJson('dtypes.json') as Record<string, { shape: number[]; hex: string }>;
  assert.deepEqual([...tensors.keys()], Object.keys(expected));
  for (const [name, { shape, hex }] of Object.entries(expected)) {
    const tensor = tensors.get(name)!;
    assert.deepEqual(tensor.shape, shape, name);
    assert.equal(bytesOf(tensor).toString('hex'), hex, name);
  }
  assert.deepEqual(Object.fromEntries([...tensors].map(([name, t]) => [name, t.dtype])), {
    f32: 'float32',
    f64: 'float64',
    f16: 'float16',
    bf16: 'bfloat16',
    i64: 'int64',
    i32: 'int32',
    u8: 'uint8',
    mask: 'bool',
    scalar: 'float32',
  });
  assert.deepEqual([...tensors.get('i64')!.data], [2n ** 62n + 7n, -(2n ** 63n), -1n]);
  assert.deepEqual([...tensors.get('bf16')!.data], [0x3f80, 0xc000, 0x3dcd]);
  assert.deepEqual(valuesOf(tensors.get('mask')!), [1, 0, 1]);
});

test('materialises non-contiguous views as contiguous copies', needsTorch, () => {
  const tensors = readTorchCheckpoint(fixture('strided.pth'));
  assert.deepEqual(tensors.get('t')!.shape, [3, 2]);
  assert.deepEqual(valuesOf(tensors.get('t')!), [0, 3, 1, 4, 2, 5]);
  const p = tensors.get('p')!;
  assert.deepEqual(p.shape, [4, 2, 3]);
  // p[i][j][k] = x[j][k][i] = 12j + 4k + i
  assert.deepEqual(valuesOf(p), [0, 4, 8, 12, 16, 20, 1, 5, 9, 13, 17, 21, 2, 6, 10, 14, 18, 22, 3, 7, 11, 15, 19, 23]);
  assert.deepEqual(tensors.get('step'), { dtype: 'int64', shape: [3], data: new BigInt64Array([1n, 4n, 7n]) });
});

test('respects storage offsets of tensors sharing one storage', needsTorch, () => {
  const tensors = readTorchCheckpoint(fixture('shared.pth'));
  assert.deepEqual(tensors.get('a'), { dtype: 'float32', shape: [3], data: new Float32Array([2, 3, 4]) });
  assert.deepEqual(tensors.get('b'), { dtype: 'float32', shape: [5], data: new Float32Array([5, 6, 7, 8, 9]) });
  assert.notEqual(tensors.get('a')!.data.buffer, tensors.get('b')!.data.buffer, 'each tensor owns its data');
});

test('takes the model state_dict out of a training checkpoint', needsTorch, () => {
  const tensors = readTorchCheckpoint(fixture('checkpoint.pth'));
  const expected = readJson('checkpoint.json') as Record<string, string>;
  assert.deepEqual([...tensors.keys()], ['weight', 'bias']);
  for (const [name, hex] of Object.entries(expected)) assert.equal(bytesOf(tensors.get(name)!).toString('hex'), hex, name);
});

test('reads parameters as their data', needsTorch, () => {
  assert.deepEqual(readTorchCheckpoint(fixture('parameter.pth')).get('w'), { dtype: 'float32', shape: [2], data: new Float32Array([1, 1]) });
});

test('reads a torchvision resnet18 state_dict exactly', needsTorch, () => {
  const tensors = readTorchCheckpoint(fixture('resnet18.pth'));
  type Expected = { dtype: string; shape: number[]; first: number[]; sha256: string };
  const expected = readJson('resnet18.json') as Record<string, Expected>;
  assert.deepEqual([...tensors.keys()], Object.keys(expected));
  assert.equal(tensors.size, 122);
  for (const [name, { dtype, shape, first, sha256 }] of Object.entries(expected)) {
    const tensor = tensors.get(name)!;
    assert.equal(tensor.dtype, dtype, name);
    assert.deepEqual(tensor.shape, shape, name);
    assert.deepEqual(valuesOf(tensor).slice(0, 3), first, name);
    assert.equal(createHash('sha256').update(bytesOf(tensor)).digest('hex'), sha256, name);
  }
  assert.deepEqual(tensors.get('fc.weight')!.shape, [1000, 512]);
  assert.deepEqual(tensors.get('bn1.num_batches_tracked'), { dtype: 'int64', shape: [], data: new BigInt64Array([0n]) });
});

test('rejects legacy, compressed and pickled-module files with the reason', needsTorch, () => {
  const legacy = fixture('legacy.pth');
  assert.throws(() => readTorchCheckpoint(legacy), {
    message: `${legacy}: legacy (pre-1.6) torch.save format is not supported; re-save with torch.save(..., _use_new_zipfile_serialization=True)`,
  });
  assert.throws(() => readTorchCheckpoint(fixture('deflated.pth')), /deflated\.pth: zip entry dtypes\/data\.pkl is compressed \(method 8\)/);
  assert.throws(() => readTorchCheckpoint(fixture('module.pth')), /module\.pth: unsupported object torch\.nn\.modules\.linear\.Linear/);
});

test('rejects a truncated checkpoint naming the file', needsTorch, () => {
  const bytes = readFileSync(fixture('dtypes.pth'));
  const cut = fixture('cut.pth');
  writeFileSync(cut, bytes.subarray(0, bytes.length >> 1));
  assert.throws(() => readTorchCheckpoint(cut), { message: `${cut}: not a zip archive or truncated (no end-of-central-directory record)` });
});

test('rejects garbage and empty files naming the file', () => {
  for (const [name, bytes] of [
    ['garbage.pth', Buffer.from('this is not a checkpoint at all')],
    ['empty.pth', Buffer.alloc(0)],
  ] as const) {
    const path = fixture(name);
    writeFileSync(path, bytes);
    assert.throws(() => readTorchCheckpoint(path), { message: `${path}: not a PyTorch checkpoint (neither a zip archive nor a legacy pickle)` });
  }
});

test('unpickling names unsupported opcodes and malformed data', () => {
  const hooks = { findGlobal: () => null, persistentLoad: () => null };
  // 0x64 is protocol 0's DICT, which torch.save never writes.
  assert.throws(() => unpickle(Uint8Array.of(0x80, 2, 0x28, 0x64, 0x2e), hooks, 'x.pkl'), {
    message: 'x.pkl: at pickle byte 3: opcode 0x64 ("d") is not supported',
  });
  assert.throws(() => unpickle(Uint8Array.of(0x80, 2, 0x58, 9, 0, 0, 0, 0x61), hooks, 'x.pkl'), /x\.pkl: .*unexpected end of data/);
  assert.throws(() => unpickle(Uint8Array.of(0x80, 2, 0x2e), hooks, 'x.pkl'), /x\.pkl: .*stack underflow/);
});
