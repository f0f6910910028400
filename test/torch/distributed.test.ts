import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { backendFor, distributedEnv } from '../../src/torch/distributed.js';
import { native } from '../../src/torch/native.js';
import { freePort } from '../../src/cli/launch.js';
import { rankEnv, run } from '../helpers/ranks.js';

const ALLREDUCE_SUM_WORKER = fileURLToPath(new URL('../helpers/allreduce-sum-worker.ts', import.meta.url));
const GRADIENT_REDUCER_WORKER = fileURLToPath(new URL('../helpers/gradient-reducer-worker.ts', import.meta.url));

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

test('the backend: Gloo for CPU tensors; for CUDA ones NCCL where the addon has it (a CUDA libtorch), else Gloo (Debian CPU libtorch)', () => {
  assert.equal(backendFor('cpu'), 'gloo');
  assert.equal(backendFor('cuda:1'), native.distAvailable().nccl ? 'nccl' : 'gloo');
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

test('the gradient reducer starts buckets during backward, averages gradients and loss, counts a missing gradient as zeros, refuses a second backward', async () => {
  const port = await freePort();
  const ranks = await Promise.all(
    [0, 1].map((rank) => run(process.execPath, ['--import', 'tsx', GRADIENT_REDUCER_WORKER], rankEnv(rank, 2, '127.0.0.1', port))),
  );
  type Step = { launchedDuringBackward: number; grads: Record<string, number[] | null>; loss: number };
  const outputs = ranks.map((exit) => {
    assert.equal(exit.code, 0, exit.stderr);
    return JSON.parse(exit.stdout) as { steps: Step[]; secondBackward: string };
  });
  const [first, second] = outputs.map((output) => output.steps);
  // Buckets c, b and a complete during backward; the last, `unused`'s, never does.
  assert.deepEqual(
    [first[0].launchedDuringBackward, second[0].launchedDuringBackward],
    [3, 3],
    'the all-reduces of complete buckets start before backward ends',
  );
  // Rank 0 weighs the loss by 1, rank 1 by 2: the means are 1.5 times one rank-0 loss's gradients.
  const both = { unused: null, a: [1.5, 1.5], b: [3, 3], c: [4.5, 4.5] };
  assert.deepEqual(first[0].grads, both);
  assert.deepEqual(second[0].grads, both);
  assert.deepEqual([first[0].loss, second[0].loss], [18, 18]);
  // Without c on rank 0, its bucket, the first, waits for finish(), and every bucket after it with it.
  assert.deepEqual([first[1].launchedDuringBackward, second[1].launchedDuringBackward], [0, 3]);
  const withoutC = { ...both, c: [3, 3] };
  assert.deepEqual(first[1].grads, withoutC, 'rank 0 gets the mean of its zeros and rank 1 gradient');
  assert.deepEqual(second[1].grads, withoutC);
  assert.deepEqual([first[1].loss, second[1].loss], [15, 15]);
  // A second backward pass before finish() would count its parameters twice.
  for (const { secondBackward } of outputs) assert.match(secondBackward, /parameter 0 got a second gradient before finish\(\)/);
});
