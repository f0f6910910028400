import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Rng } from '../../src/data/rng.js';
import { bagsOf, fitAttentionMil, predictBag, type Bag } from '../../src/learn/mil.js';
import { binaryAuc } from '../../src/learn/metrics.js';
import { AttentionMil } from '../../src/models/attention-mil.js';
import { Tensor, tidy } from '../../src/torch/index.js';

/**
 * Synthetic studies as head CT labels them: every study has 6-12 slices of noise embeddings; in a
 * positive study only one or two slices carry the lesion signal (feature 0 raised), the rest look normal.
 */
function studies(count: number, seed: number, dim = 8): Bag[] {
  const rng = new Rng(seed);
  return Array.from({ length: count }, (_, i) => {
    const slices = 6 + rng.int(7);
    const label = i % 2;
    const features = new Float32Array(slices * dim).map(() => rng.uniform(-1, 1));
    if (label) for (let k = 0; k < 1 + rng.int(2); k++) features[rng.int(slices) * dim] += 3;
    return { id: `s${i}`, features, slices, label };
  });
}

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

describe('fitAttentionMil', () => {
  test('learns a label carried by one or two slices of a study, and points its attention and slice scores at them', () => {
    const model = fitAttentionMil(studies(40, 1), 2, { epochs: 40, lr: 3e-3, hidden: 16, attention: 8, seed: 0 });
    const held = studies(30, 2);
    const predictions = held.map((bag) => predictBag(model, bag));
    assert.ok(binaryAuc(predictions.map((p) => p.study[1]), held.map((b) => b.label === 1)) > 0.9);
    // In positive studies the lesion slices get the highest slice score.
    let hits = 0;
    let positives = 0;
    held.forEach((bag, i) => {
      if (!bag.label) return;
      positives++;
      const scores = Array.from({ length: bag.slices }, (_, k) => predictions[i].slices[k * 2 + 1]);
      const top = scores.indexOf(Math.max(...scores));
      if (bag.features[top * 8] > 1.5) hits++;
    });
    assert.ok(hits >= positives - 2, `${hits} of ${positives} studies have their lesion slice on top`);
    model.dispose();
  });

  test('the same seed gives the same model', () => {
    const bags = studies(10, 3);
    const a = fitAttentionMil(bags, 2, { epochs: 3, seed: 5 });
    const b = fitAttentionMil(bags, 2, { epochs: 3, seed: 5 });
    assert.deepEqual(predictBag(a, bags[0]), predictBag(b, bags[0]));
    a.dispose();
    b.dispose();
  });

  test('names a bag that does not fit', () => {
    const bags = studies(4, 4);
    assert.throws(() => fitAttentionMil([...bags, { id: 'odd', features: new Float32Array(5), slices: 1, label: 0 }], 2), /bag odd/);
    assert.throws(() => fitAttentionMil([{ ...bags[0], label: 2 }], 2), /label 2/);
  });
});

describe('bagsOf', () => {
  test('groups embedding rows into studies in the order given, and refuses a study with mixed labels', () => {
    const features = Float32Array.from({ length: 10 }, (_, i) => i); // 5 rows of 2
    const groups = ['a', 'b', 'a', 'b', 'a'];
    const bags = bagsOf(features, 2, [4, 0, 1, 2, 3], (r) => groups[r], () => 1);
    assert.deepEqual(bags.map((b) => [b.id, b.slices, [...b.features]]), [
      ['a', 3, [8, 9, 0, 1, 4, 5]],
      ['b', 2, [2, 3, 6, 7]],
    ]);
    assert.deepEqual(bags.map((b) => b.rows), [[4, 0, 2], [1, 3]]);
    assert.throws(() => bagsOf(features, 2, [0, 2], (r) => groups[r], (r) => r), /study a has slices of 2 classes/);
  });
});
