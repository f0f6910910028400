import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { backendFor, distributedEnv } from '../../src/torch/distributed.js';
import { freePort } from '../../src/cli/launch.js';
import { rankEnv, run } from '../helpers/ranks.js';

const ALLREDUCE_SUM_WORKER = fileURLToPath(new URL('../helpers/allreduce-sum-worker.ts', import.meta.url));

test('distributedEnv reads the variables torchrun, Slurm scripts and Kubernetes set, and names a bad one', () => {
  assert.equal(distributedEnv({}), undefined);
  assert.deepEqual(distributedEnv({ WORLD_SIZE: '4', RANK: '3', LOCAL_RANK: '1', MASTER_ADDR: 'node-0', MASTER_PORT: '29500' }), {
    masterAddr: 'node-0',
    masterPort: 29500,
    worldSize: 4,
    rank: 3,
    localRank: 1,
  });
  // LOCAL_RANK defaults to RANK (one machine).
  assert.equal(distributedEnv({ WORLD_SIZE: '2', RANK: '1', MASTER_ADDR: 'h', MASTER_PORT: '1' })!.localRank, 1);
  assert.throws(() => distributedEnv({ WORLD_SIZE: '2', MASTER_ADDR: 'h', MASTER_PORT: '1' }), /RANK must be an integer of at least 0 .* got nothing/);
  assert.throws(() => distributedEnv({ WORLD_SIZE: '2', RANK: '2', MASTER_ADDR: 'h', MASTER_PORT: '1' }), /RANK 2 is not below WORLD_SIZE 2/);
  assert.throws(() => distributedEnv({ WORLD_SIZE: 'two', RANK: '0', MASTER_ADDR: 'h', MASTER_PORT: '1' }), /WORLD_SIZE must be an integer .* got 'two'/);
  assert.throws(() => distributedEnv({ WORLD_SIZE: '2', RANK: '0', MASTER_PORT: '1' }), /MASTER_ADDR must name the host of rank 0/);
  assert.throws(() => distributedEnv({ WORLD_SIZE: '2', RANK: '0', MASTER_ADDR: 'h', MASTER_PORT: '70000' }), /MASTER_PORT must be a port number, got 70000/);
});

test('the backend: Gloo for CPU tensors, and for CUDA ones when the addon has no NCCL (Debian CPU libtorch)', () => {
  assert.equal(backendFor('cpu'), 'gloo');
  assert.equal(backendFor('cuda'), 'gloo');
});

test('the differentiable all-reduce: two ranks get the sum, and each input the sum over the ranks of the gradients', async () => {
  const port = await freePort();
  const ranks = await Promise.all([0, 1].map((rank) => run(process.execPath, ['--import', 'tsx', ALLREDUCE_SUM_WORKER], rankEnv(rank, 2, '127.0.0.1', port))));
  const [first, second] = ranks.map((exit) => {
    assert.equal(exit.code, 0, exit.stderr);
    return JSON.parse(exit.stdout) as { sum: number[]; grad: number[]; input: number[] };
  });
  assert.deepEqual(first.sum, [3, 30]);
  assert.deepEqual(second.sum, [3, 30]);
  // Rank 0's loss weighs the sum by [1, 1] and rank 1's by [2, 4]: both ranks' inputs feed both losses.
  assert.deepEqual(first.grad, [3, 5]);
  assert.deepEqual(second.grad, [3, 5]);
  assert.deepEqual(
    [first.input, second.input],
    [
      [1, 10],
      [2, 20],
    ],
    'the inputs are left as they were',
  );
});
