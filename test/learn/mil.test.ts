import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Rng } from '../../src/data/rng.js';
import { bagsOf, fitAttentionMil, predictBag, type MilData, type StudyBag } from '../../src/learn/mil.js';
import { binaryAuc } from '../../src/learn/metrics.js';
import { AttentionMil } from '../../src/models/attention-mil.js';
import { Tensor, keep, nn, tidy } from '../../src/torch/index.js';

/**
 * Synthetic studies as head CT labels them: every study has 6-12 slices of noise embeddings (rows of one
 * instance tensor); in a positive study only one or two slices carry the lesion signal (feature 0
 * raised), the rest look normal.
 */
function studies(count: number, seed: number, dim = 8): { features: Float32Array; data: MilData; bags: StudyBag[] } {
  const rng = new Rng(seed);
  const rows: number[][] = [];
  const bags: StudyBag[] = [];
  for (let i = 0; i < count; i++) {
    const label = i % 2;
    const slices = Array.from({ length: 6 + rng.int(7) }, () => Array.from({ length: dim }, () => rng.uniform(-1, 1)));
    if (label) for (let k = 0; k < 1 + rng.int(2); k++) slices[rng.int(slices.length)][0] += 3;
    bags.push({ id: `s${i}`, rows: slices.map((_, k) => rows.length + k), label });
    rows.push(...slices);
  }
  const features = Float32Array.from(rows.flat());
  return { features, data: { instances: keep(Tensor.fromHost({ dtype: 'float32', shape: [rows.length, dim], data: features })) }, bags };
}

/** An encoder that records how many rows each call gets, and adds a trainable scale to them. */
class CountingEncoder extends nn.Module {
  readonly calls: number[] = [];
  readonly scale = this.registerParameter('scale', Tensor.ones([1]));
  forward(x: Tensor): Tensor {
    this.calls.push(x.shape[0]);
    return x.mul(this.scale);
  }
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
  test('learns a label carried by one or two slices of a study, and points its attention and slice scores at them', async () => {
    const train = studies(40, 1);
    const model = await fitAttentionMil(train.data, train.bags, 2, { epochs: 40, lr: 3e-3, hidden: 16, attention: 8, seed: 0 });
    const held = studies(30, 2);
    const predictions = held.bags.map((bag) => predictBag(model, held.data, bag));
    assert.ok(
      binaryAuc(
        predictions.map((p) => p.study[1]),
        held.bags.map((b) => b.label === 1),
      ) > 0.9,
    );
    // In positive studies the lesion slices get the highest slice score.
    let hits = 0;
    let positives = 0;
    held.bags.forEach((bag, i) => {
      if (!bag.label) return;
      positives++;
      const scores = bag.rows.map((_, k) => predictions[i].slices[k * 2 + 1]);
      const top = scores.indexOf(Math.max(...scores));
      if (held.features[bag.rows[top] * 8] > 1.5) hits++;
    });
    assert.ok(hits >= positives - 2, `${hits} of ${positives} studies have their lesion slice on top`);
    model.dispose();
    train.data.instances.dispose();
    held.data.instances.dispose();
  });

  test('the same seed gives the same model', async () => {
    const { data, bags } = studies(10, 3);
    const a = await fitAttentionMil(data, bags, 2, { epochs: 3, seed: 5 });
    const b = await fitAttentionMil(data, bags, 2, { epochs: 3, seed: 5 });
    const inference: boolean[] = [];
    a.classify.registerForwardHook((out) => void inference.push(out.isInference));
    assert.deepEqual(predictBag(a, data, bags[0]), predictBag(b, data, bags[0]));
    assert.deepEqual(inference, [true, true], 'a bag is predicted under inference mode');
    a.dispose();
    b.dispose();
    data.instances.dispose();
  });

  test('trains an encoder with the head, one encoder pass per step over at most maxSlices of each bag', async () => {
    const { data, bags } = studies(12, 6);
    const encoder = new CountingEncoder();
    const model = await fitAttentionMil({ ...data, encoder }, bags, 2, { epochs: 2, bagsPerStep: 4, keepSlices: 1, maxSlices: 3, encoderLr: 0.05, seed: 1 });
    const steps = encoder.calls.slice(-6); // after the standardisation pass: 2 epochs x 3 steps
    assert.deepEqual(steps, [12, 12, 12, 12, 12, 12], 'every step encodes 4 bags x 3 slices at once');
    assert.notEqual(encoder.scale.item(), 1, 'the encoder trained');
    model.dispose();
    data.instances.dispose();
  });

  test('names a bag that does not fit', async () => {
    const { data, bags } = studies(4, 4);
    await assert.rejects(fitAttentionMil(data, [...bags, { id: 'odd', rows: [999], label: 0 }], 2), /bag odd: rows \[999\]/);
    await assert.rejects(fitAttentionMil(data, [{ ...bags[0], label: 2 }], 2), /label 2/);
    data.instances.dispose();
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
