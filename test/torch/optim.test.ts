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

test("an optimiser given another's state (AdamW's moments and step counts, SGD's momentum) takes the same steps as the original", () => {
  const kinds = [
    { make: (ps: Tensor[]) => Optimizer.adamW([{ params: ps }], { lr: 0.1 }), steps: 3 },
    { make: (ps: Tensor[]) => Optimizer.sgd([{ params: ps }], { lr: 0.1 }), steps: undefined },
  ];
  for (const { make, steps } of kinds) {
    const step = (opt: Optimizer, ps: Tensor[]) => {
      opt.zeroGrad();
      ps[0].mul(ps[0]).sum().add(ps[1].mul(ps[1]).mul(3).sum()).backward();
      opt.step();
    };
    const original = [param([1, -2]), param([0.5])];
    const opt = make(original);
    for (let i = 0; i < 3; i++) step(opt, original);
    const state = opt.state();
    assert.equal(state.get(original[0])!.step, steps);

    const copy = original.map((p) => param(Array.from(p.floats())));
    const resumed = make(copy);
    resumed.loadState(new Map([...state].map(([p, s]) => [copy[original.indexOf(p)], s])));
    assert.deepEqual(
      [...resumed.state().values()].map((s) => s.step),
      [...state.values()].map((s) => s.step),
    );
    step(opt, original);
    step(resumed, copy);
    copy.forEach((p, i) => assert.deepEqual(p.floats(), original[i].floats(), `parameter ${i} after the next step`));
    opt.dispose();
    resumed.dispose();
  }
});

test('loading optimiser state of the wrong shape fails naming the parameter, and leaves the state as it was', () => {
  const p = param([1, -2]);
  const opt = Optimizer.adamW([{ params: [p] }]);
  assert.throws(
    () => opt.loadState(new Map([[p, { step: 1, tensors: { exp_avg: Tensor.of([0]), exp_avg_sq: Tensor.of([0]) } }]])),
    /optimizer state of parameter 0: exp_avg has shape \[1\], the parameter \[2\]/,
  );
  assert.throws(() => opt.loadState(new Map([[p, { tensors: { exp_avg: Tensor.of([0, 0]), exp_avg_sq: Tensor.of([0, 0]) } }]])), /expected step: number/);
  assert.equal(opt.state().size, 0);
  opt.dispose();
});
