import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { bagsOf } from '../../src/learn/mil.js';
import { AttentionMil } from '../../src/models/attention-mil.js';
import { Tensor, tidy } from '../../src/torch/index.js';

describe('AttentionMil', () => {
  test('gives study logits, per-slice logits and attention weights that sum to 1', () => {
    const model = new AttentionMil({ inFeatures: 5, numClasses: 3, hidden: 4, attention: 3 }).eval();
    tidy(() => {
      const out = model.bag(Tensor.rand([7, 5]));
      assert.deepEqual(out.study.shape, [1, 3]);
      assert.deepEqual(out.slices.shape, [7, 3]);
      assert.deepEqual(out.attention.shape, [7]);
      assert.ok(Math.abs(out.attention.sum().item() - 1) < 1e-5);
    });
    model.dispose();
  });

  test('refuses fewer than 2 classes', () => {
    assert.throws(() => new AttentionMil({ inFeatures: 4, numClasses: 1 }), /at least 2 classes/);
  });
});

describe('bagsOf', () => {
  test('groups rows into studies in the order given, and refuses a study with mixed labels', () => {
    const groups = ['a', 'b', 'a', 'b', 'a'];
    const bags = bagsOf(
      [4, 0, 1, 2, 3],
      (r) => groups[r],
      () => 1,
    );
    assert.deepEqual(bags, [
      { id: 'a', rows: [4, 0, 2], label: 1 },
      { id: 'b', rows: [1, 3], label: 1 },
    ]);
    assert.throws(
      () =>
        bagsOf(
          [0, 2],
          (r) => groups[r],
          (r) => r,
        ),
      /study a has slices of 2 classes/,
    );
  });
});
