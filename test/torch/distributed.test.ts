import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backendFor, distributedEnv } from '../../src/torch/distributed.js';

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
