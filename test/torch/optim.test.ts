import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor, Optimizer } from '../../src/torch/index.js';

function param(values: number[]): Tensor {
  const p = Tensor.of(values);
  p.requiresGrad = true;
  return p;
}

test("AdamW follows fastai's Adam with decoupled weight decay, and beta1 can change every step", () => {
  const p = param([1, -2]);
  const lr = 0.1,
    wd = 0.01,
    beta2 = 0.99,
    eps = 1e-5;
  const opt = Optimizer.adamW([{ params: [p] }], { lr, weightDecay: wd, beta2, eps, momentum: 0.95 });
  // Reference implementation in plain numbers, with the same momentum schedule.
  let w = [1, -2];
  const m = [0, 0],
    v = [0, 0];
  const moms = [0.95, 0.9, 0.85];
  moms.forEach((beta1, step) => {
    opt.setHyper(0, { momentum: beta1 });
    opt.zeroGrad();
    p.mul(p).sum().backward(); // grad = 2w
    opt.step();
    const t = step + 1;
    w = w.map((wi, i) => {
      const g = 2 * wi;
      const decayed = wi * (1 - lr * wd);
      m[i] = beta1 * m[i] + (1 - beta1) * g;
      v[i] = beta2 * v[i] + (1 - beta2) * g * g;
      const denom = Math.sqrt(v[i] / (1 - beta2 ** t)) + eps;
      return decayed - (lr / (1 - beta1 ** t)) * (m[i] / denom);
    });
  });
  const got = p.data() as Float32Array;
  w.forEach((wi, i) => assert.ok(Math.abs(got[i] - wi) < 1e-5, `${got[i]} vs ${wi}`));
});

test('parameter groups take their own learning rates; frozen parameters are not updated', () => {
  const a = param([1]);
  const b = param([1]);
  const frozen = param([1]);
  const opt = Optimizer.sgd(
    [
      { params: [a], lr: 0.1 },
      { params: [b, frozen], lr: 0.01 },
    ],
    { momentum: 0 },
  );
  frozen.requiresGrad = false;
  a.mul(3).sum().add(b.mul(3).sum()).backward();
  opt.step();
  assert.ok(Math.abs((a.data() as Float32Array)[0] - 0.7) < 1e-6);
  assert.ok(Math.abs((b.data() as Float32Array)[0] - 0.97) < 1e-6);
  assert.equal((frozen.data() as Float32Array)[0], 1);
  opt.setHyper(1, { lr: 0.5 });
  assert.equal(opt.hypers[1].lr, 0.5);
  assert.throws(() => opt.setHyper(2, { lr: 1 }), /no parameter group 2/);
  assert.throws(() => Optimizer.adamW([{ params: [] }]), /group 0 has no parameters/);
});
