import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Tensor, manualSeed, noGrad, tidy } from '../../src/torch/index.js';
import { LinearMeanHead } from '../../src/models/linear-mean-head.js';

test("the linear study head scores each standardised slice alone; a study is the mean of its slices' probabilities, with equal attention", () => {
  manualSeed(0);
  const head = new LinearMeanHead({ inFeatures: 4, numClasses: 3 }).eval();
  noGrad(() =>
    tidy(() => {
      const x = Tensor.rand([5, 4]).mul(10).add(3);
      head.standardizeWith(x);
      const out = head.bag(x);
      const z = x.sub(x.mean(0)).div(x.std(0, false, false));
      assert.ok(out.slices.sub(head.classify.forward(z)).abs().max().item() < 1e-4, 'slices standardised by the training statistics');
      assert.ok(
        out.study
          .softmax(1)
          .sub(out.slices.softmax(1).mean([0], true))
          .abs()
          .max()
          .item() < 1e-6,
        'study = mean slice probabilities',
      );
      assert.deepEqual(out.attention.floats(), new Float32Array(5).fill(0.2));
      // A slice is scored the same alone or in any study: nothing pools before the classifier.
      assert.ok(
        head
          .bag(x.slice(0, 1, 3))
          .slices.sub(out.slices.slice(0, 1, 3))
          .abs()
          .max()
          .item() < 1e-6,
      );
    }),
  );
  assert.throws(() => new LinearMeanHead({ inFeatures: 4, numClasses: 1 }), /at least 2 classes, got 1/);
  head.dispose();
});
