import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor, manualSeed, nn, type MemoryFormat } from '../../src/torch/index.js';
import { randomizeBatchNorms } from '../helpers/batch-norm.js';

const close = (actual: Tensor, expected: Tensor, what: string, tol = 1e-4) => {
  const [a, b] = [actual.floats(), expected.floats()];
  assert.equal(a.length, b.length, what);
  const worst = Math.max(...a.map((v, i) => Math.abs(v - b[i])));
  assert.ok(worst <= tol, `${what}: off by up to ${worst}`);
};

/**
 * Synchronised batch norm's arithmetic in one process: two processes given the same batch are simulated by a
 * sum over the processes that doubles (what the all-reduce of two equal tensors gives, and its backward pass
 * likewise), so that each must compute what one batch norm computes on the two batches together.
 */
function assertTwinsComputeTheWholeBatch(shape: number[], memoryFormat: MemoryFormat = 'contiguous'): void {
  manualSeed(0);
  const channels = shape[1];
  const perChannel = shape.map((n, d) => (d === 1 ? n : 1));
  // Channels of their own scale and offset, as activations have.
  const x = Tensor.randn(shape).mul(Tensor.rand(perChannel).mul(3)).add(Tensor.randn(perChannel).mul(2));
  const upstream = Tensor.randn(shape);
  const whole = new nn.BatchNorm(channels);
  randomizeBatchNorms(whole);
  const twin = new nn.BatchNorm(channels);
  twin.loadStateDict(whole.stateDict());
  let sums = 0;
  twin.sumOverProcesses = (t) => (sums++, t.mul(2));

  const both = Tensor.cat([x, x]);
  both.requiresGrad = true;
  const expected = whole.forward(both);
  expected
    .mul(Tensor.cat([upstream, upstream]))
    .sum()
    .backward();
  const one = x.contiguous(memoryFormat);
  one.requiresGrad = true;
  const y = twin.forward(one);
  y.mul(upstream).sum().backward();

  assert.equal(sums, 2, 'two all-reduces per forward pass: for the mean, then for the variance');
  if (shape.length === 4) assert.ok(y.isContiguous(memoryFormat), `the output keeps the input's layout (${memoryFormat})`);
  const first = (t: Tensor) => t.slice(0, 0, shape[0]);
  close(y, first(expected), 'output');
  close(twin.runningMean, whole.runningMean, 'running mean');
  close(twin.runningVar, whole.runningVar, "running variance (the whole batch's, unbiased)");
  close(one.grad!, first(both.grad!), 'input gradient');
  // Each process's parameter gradient is its half of the whole batch's (data-parallel training then averages them).
  close(twin.weight.grad!.mul(2), whole.weight.grad!, 'weight gradient');
  close(twin.bias.grad!.mul(2), whole.bias.grad!, 'bias gradient');
}

test('synchronised batch norm over processes with equal batches computes what one batch norm computes on them all', () => {
  assertTwinsComputeTheWholeBatch([4, 3, 5, 5]);
  assertTwinsComputeTheWholeBatch([4, 3, 5, 5], 'channels_last');
  assertTwinsComputeTheWholeBatch([6, 4]);
});

test('synchronised batch norm of bfloat16 activations (autocast) takes its statistics in float32', () => {
  manualSeed(0);
  // Channels far from zero against their spread, where bfloat16 sums of squares would lose the variance.
  const x = Tensor.randn([8, 2, 4, 4])
    .add(Tensor.of([10, -20], [1, 2, 1, 1]))
    .to(undefined, 'bfloat16');
  const reference = new nn.BatchNorm(2);
  const synced = new nn.BatchNorm(2);
  synced.sumOverProcesses = (t) => t;
  close(synced.forward(x), reference.forward(x.float()), 'output', 1e-3);
  close(synced.runningVar, reference.runningVar, 'running variance', 1e-3);
});

test('synchronised batch norm keeps the variance of a channel whose mean is large against its spread', () => {
  manualSeed(0);
  // Activations around 1000 that vary by 0.01: in float32, E[x^2] - E[x]^2 would cancel to rounding noise.
  const x = Tensor.randn([8, 2, 4, 4]).mul(0.01).add(1000);
  const reference = new nn.BatchNorm(2);
  const synced = new nn.BatchNorm(2);
  synced.sumOverProcesses = (t) => t;
  close(synced.forward(x), reference.forward(x), 'output', 1e-2);
  close(synced.runningVar, reference.runningVar, 'running variance', 1e-6);
});
