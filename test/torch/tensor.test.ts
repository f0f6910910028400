import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor, F, tidy, keep, release, noGrad, manualSeed, withAutocast } from '../../src/torch/index.js';

const close = (a: ArrayLike<number>, b: ArrayLike<number>, tol = 1e-5) => {
  assert.equal(a.length, b.length);
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) <= tol, `index ${i}: ${a[i]} vs ${b[i]}`);
};

test('round-trips data of every dtype through libtorch', () => {
  close(Tensor.of([1.5, -2, 3], [3]).data() as Float32Array, [1.5, -2, 3]);
  assert.deepEqual([...(Tensor.of([1, 2, 3], [3], 'int64').data() as BigInt64Array)], [1n, 2n, 3n]);
  assert.deepEqual([...Tensor.of([0, 1, 255], [3], 'uint8').data()], [0, 1, 255]);
  assert.deepEqual([...Tensor.of([0, 1, 1], [3], 'bool').data()], [0, 1, 1]);
  const bf = Tensor.of([1, 0.5, -3.25], [3], 'bfloat16');
  assert.equal(bf.dtype, 'bfloat16');
  close(bf.floats(), [1, 0.5, -3.25]);
  assert.deepEqual([...bf.toHost().data], [0x3f80, 0x3f00, 0xc050]);
  assert.deepEqual(Tensor.zeros([2, 3]).shape, [2, 3]);
});

test('elementwise, reductions and shapes match hand computation', () => {
  const x = Tensor.of([1, 2, 3, 4, 5, 6], [2, 3]);
  close(x.add(1).mul(2).data() as Float32Array, [4, 6, 8, 10, 12, 14]);
  close(x.sum(1).data() as Float32Array, [6, 15]);
  close(x.mean(0).data() as Float32Array, [2.5, 3.5, 4.5]);
  assert.deepEqual(x.transpose(0, 1).shape, [3, 2]);
  close(x.transpose(0, 1).contiguous().data() as Float32Array, [1, 4, 2, 5, 3, 6]);
  assert.deepEqual([...(x.argmax(1).data() as BigInt64Array)], [2n, 2n]);
  close(x.slice(1, 1, 3).contiguous().data() as Float32Array, [2, 3, 5, 6]);
  close(Tensor.cat([x, x], 0).sum().data() as Float32Array, [42]);
  close(x.softmax(1).sum(1).data() as Float32Array, [1, 1]);
});

test('conv2d, pooling and linear compute what PyTorch computes', () => {
  // A 3x3 all-ones kernel with padding 1 sums each 3x3 neighbourhood.
  const img = Tensor.of([1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 1, 3, 3]);
  const out = F.conv2d(img, Tensor.ones([1, 1, 3, 3]), Tensor.of([1]), { padding: 1 });
  close(out.data() as Float32Array, [13, 22, 17, 28, 46, 34, 25, 40, 29]);
  close(F.maxPool2d(img, 2, 1).data() as Float32Array, [5, 6, 8, 9]);
  close(F.adaptiveAvgPool2d(img, 1).data() as Float32Array, [5]);
  const y = F.linear(Tensor.of([1, 2], [1, 2]), Tensor.of([1, 0, 0, 1, 1, 1], [3, 2]), Tensor.of([0, 0, 1]));
  close(y.data() as Float32Array, [1, 2, 4]);
  const up = F.interpolate(Tensor.of([0, 1], [1, 1, 1, 2]), [1, 4], 'bilinear', true);
  close(up.data() as Float32Array, [0, 1 / 3, 2 / 3, 1]);
});

test('cross-entropy supports class weights and label smoothing', () => {
  const logits = Tensor.of([2, 0, 0, 0, 2, 0], [2, 3]);
  const target = Tensor.of([0, 1], [2], 'int64');
  const p = Math.exp(2) / (Math.exp(2) + 2);
  close([F.crossEntropy(logits, target).item()], [-Math.log(p)]);
  const weighted = F.crossEntropy(Tensor.of([2, 0, 0, 0, 0, 0], [2, 3]), target, { weight: Tensor.of([1, 3, 1]) });
  const l0 = -Math.log(p);
  const l1 = -Math.log(1 / 3);
  close([weighted.item()], [(l0 * 1 + l1 * 3) / 4]);
  const smooth = F.crossEntropy(logits, target, { labelSmoothing: 0.3 });
  const logp = [Math.log(p), Math.log((1 - p) / 2)];
  close([smooth.item()], [-(0.8 * logp[0] + 0.1 * logp[1] + 0.1 * logp[1])]);
});

test('autograd computes gradients; noGrad records nothing', () => {
  const w = Tensor.of([1, -2, 3]);
  w.requiresGrad = true;
  w.mul(w).sum().backward();
  close(w.grad!.data() as Float32Array, [2, -4, 6]);
  const y = noGrad(() => w.mul(2));
  assert.equal(y.requiresGrad, false);
});

test('manualSeed makes random tensors reproducible', () => {
  manualSeed(7);
  const a = Tensor.randn([5]).data();
  manualSeed(7);
  assert.deepEqual(Tensor.randn([5]).data(), a);
});

test('bf16 autocast runs convolutions in bfloat16 and restores float32 afterwards', () => {
  const x = Tensor.randn([1, 3, 8, 8]);
  const w = Tensor.randn([4, 3, 3, 3]);
  const y = withAutocast(() => F.conv2d(x, w, null));
  assert.equal(y.dtype, 'bfloat16');
  assert.equal(F.conv2d(x, w, null).dtype, 'float32');
  close(y.floats(), F.conv2d(x, w, null).floats(), 0.2);
});

test("libtorch errors become JavaScript errors with libtorch's message", () => {
  assert.throws(() => F.conv2d(Tensor.zeros([1, 3, 8, 8]), Tensor.zeros([4, 2, 3, 3]), null), /expected input\[1, 3, 8, 8\] to have 2 channels/);
  assert.throws(() => Tensor.zeros([2, 3]).matmul(Tensor.zeros([2, 3])), /cannot be multiplied|mat1 and mat2/);
  assert.throws(() => Tensor.zeros([4]).reshape([3]), /shape '\[3\]' is invalid/);
  assert.throws(() => Tensor.fromHost({ dtype: 'float32', shape: [3], data: new Float32Array(2) }), /8 bytes of data for shape \[3\]/);
  const t = Tensor.zeros([2]);
  t.dispose();
  assert.throws(() => t.add(1), /disposed/);
  // The process survives and the engine still works.
  assert.equal(Tensor.ones([2]).sum().item(), 2);
});

test('release disposes an intermediate its scope owns now, and leaves kept, returned and unscoped tensors alone', () => {
  const unscoped = Tensor.ones([2]);
  let returned: Tensor | undefined;
  const outer = tidy(() => {
    returned = tidy(() => Tensor.ones([2]).mul(3));
    const intermediate = Tensor.ones([2]).mul(2);
    const kept = keep(Tensor.ones([2]).mul(4));
    release(intermediate);
    assert.equal(intermediate.isDisposed, true, 'owned by the open scope: disposed at once');
    release(kept);
    release(unscoped);
    assert.equal(kept.isDisposed, false);
    assert.equal(unscoped.isDisposed, false);
    return kept;
  });
  assert.equal(outer.isDisposed, false);
  assert.equal(returned!.isDisposed, true, 'handed to the outer scope, disposed when it closed');
  tidy(() => {
    const moved = tidy(() => Tensor.ones([1]));
    release(moved);
    assert.equal(moved.isDisposed, true, 'a returned tensor belongs to the enclosing scope, which may release it');
  });
  outer.dispose();
  unscoped.dispose();
});

test('tidy disposes intermediates and keeps what it returns', () => {
  let inner: Tensor | undefined;
  const kept = tidy(() => {
    inner = Tensor.ones([3]).mul(2);
    return inner.add(1);
  });
  assert.equal(inner!.isDisposed, true);
  assert.equal(kept.isDisposed, false);
  close(kept.data() as Float32Array, [3, 3, 3]);
  const nested = tidy(() => {
    const pair = tidy(() => ({ a: Tensor.ones([1]), b: [Tensor.zeros([1])] }));
    return pair.a;
  });
  assert.equal(nested.isDisposed, false);
  assert.throws(
    () =>
      tidy(() => {
        Tensor.ones([1]);
        throw new Error('boom');
      }),
    /boom/,
  );
});
