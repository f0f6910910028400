import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeSettings, referenceArgs, referenceEnv } from '../../bench/reference/pytorch.js';

const ALLOCATOR = { mmapMax: 0, trimThreshold: 268435456 };
const RUN = { split: 'split.json', weights: 'body.safetensors', epochs: 3, seed: 7, out: 'out.json' };

test("the tuned reference runs with findstroke's malloc settings, replacing any the caller had", () => {
  const env = referenceEnv(true, ALLOCATOR, { PATH: '/bin', MALLOC_MMAP_MAX_: '65536' });
  assert.deepEqual(env, { PATH: '/bin', MALLOC_MMAP_MAX_: '0', MALLOC_TRIM_THRESHOLD_: '268435456' });
});

test("the reference as shipped runs with glibc's malloc defaults: the caller's malloc settings are dropped", () => {
  const env = referenceEnv(false, ALLOCATOR, { PATH: '/bin', MALLOC_MMAP_MAX_: '0', MALLOC_TRIM_THRESHOLD_: '1' });
  assert.deepEqual(env, { PATH: '/bin' });
});

test('without allocator settings in findstroke, the tuned reference gets none either', () => {
  assert.deepEqual(referenceEnv(true, null, { PATH: '/bin', MALLOC_TRIM_THRESHOLD_: '1' }), { PATH: '/bin' });
});

test('the recipe is asked to run tuned only for the tuned reference, with the run given', () => {
  const shipped = ['--split', 'split.json', '--weights', 'body.safetensors', '--epochs', '3', '--seed', '7', '--out', 'out.json'];
  assert.deepEqual(referenceArgs({ ...RUN, tuned: false }), shipped);
  assert.deepEqual(referenceArgs({ ...RUN, tuned: true }), [...shipped, '--tuned']);
});

test("a run's settings are printed on one line, each with its value", () => {
  assert.equal(describeSettings({ memory_format: 'channels_last', threads: 2 }), 'memory_format channels_last; threads 2');
});
