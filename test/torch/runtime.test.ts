import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Tensor, engineInfo, inferenceMode, synchronize, cudaBuild, cudaDeviceCount } from '../../src/torch/index.js';

const runtimeModule = fileURLToPath(new URL('../../src/torch/runtime.ts', import.meta.url));

test('engineInfo reports the malloc settings the addon gave itself, and none when told to leave glibc alone', () => {
  assert.deepEqual(engineInfo().allocator, { mmapMax: 0, trimThreshold: 2 ** 30 });
  const script = `import(${JSON.stringify(runtimeModule)}).then((m) => console.log(JSON.stringify(m.engineInfo().allocator)))`;
  const untuned = execFileSync(process.execPath, ['--import', 'tsx', '-e', script], {
    encoding: 'utf8',
    env: { ...process.env, FINDSTROKE_MALLOC_TUNING: '0' },
  });
  assert.equal(untuned.trim(), 'null');
});

test('inferenceMode records nothing for autograd, makes inference tensors, and ends with its call even when it throws', () => {
  const w = Tensor.ones([3]);
  w.requiresGrad = true;
  const y = inferenceMode(() => w.mul(2));
  assert.ok(y.isInference && !y.requiresGrad);
  assert.deepEqual([...y.floats()], [2, 2, 2]);
  assert.throws(() => inferenceMode(() => Tensor.ones([2]).reshape([3])), /shape '\[3\]' is invalid for input of size 2/);
  const after = w.mul(2);
  assert.ok(!after.isInference && after.requiresGrad, 'outside the call autograd records again');
});

test('synchronize waits for a GPU; on the CPU there is nothing to wait for, and a CPU build asked to wait for a GPU throws', () => {
  synchronize();
  synchronize('cpu');
  if (cudaDeviceCount() === 0) assert.throws(() => synchronize('cuda'), Error);
  else synchronize('cuda:0');
});

test('an NCHW convolution runs without NNPACK, as on every libtorch findstroke builds against (no warning of it either)', () => {
  const script = `import(${JSON.stringify(fileURLToPath(new URL('../../src/torch/index.ts', import.meta.url)))}).then(({ Tensor, F, tidy }) =>
    tidy(() => F.conv2d(Tensor.rand([1, 3, 32, 32]), Tensor.rand([8, 3, 3, 3]), null).shape.join('x')))`;
  const result = spawnSync(process.execPath, ['--import', 'tsx', '-e', `${script}.then(console.log)`], { encoding: 'utf8' });
  assert.equal(result.stdout.trim(), '1x8x30x30');
  assert.doesNotMatch(result.stderr, /NNPACK/);
});

test('cudaBuild: the CUDA version a CUDA libtorch was built for, GPU or not, and null for a CPU build', () => {
  const build = cudaBuild();
  // Independently of libtorch's answer: whether the process has its CUDA library mapped.
  if (readFileSync('/proc/self/maps', 'utf8').includes('libtorch_cuda.so')) assert.match(build ?? '', /^\d+\.\d$/);
  else assert.equal(build, null);
});
