import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Tensor, manualSeed, noGrad, tidy } from '../../src/torch/index.js';
import { ResNet } from '../../src/models/resnet.js';
import { Normalize } from '../../src/models/normalize.js';
import { SliceEncoder, StudyClassifier, embedSlices, embeddingWidth, stageMaps, stretchContrast } from '../../src/models/study-classifier.js';
import { AttentionMil } from '../../src/models/attention-mil.js';

test('slice embeddings: average and max pooled stages and their width', () => {
  manualSeed(0);
  const body = new ResNet('resnet18', { numClasses: 0 }).eval();
  const normalize = new Normalize('imagenet');
  assert.equal(embeddingWidth(body, [4]), 1024);
  assert.equal(embeddingWidth(body, [1, 2, 3, 4]), 2 * (64 + 128 + 256 + 512));
  noGrad(() =>
    tidy(() => {
      const x = Tensor.rand([2, 3, 32, 32]);
      const last = embedSlices(normalize, body, x, { stages: [4] });
      assert.deepEqual(last.shape, [2, 1024]);
      const features = body.features(normalize.forward(x));
      const expected = Tensor.cat([features.mean([2, 3]), features.flatten(2).maxAlong(2).values], 1);
      assert.ok(last.sub(expected).abs().max().item() < 1e-5);
      assert.throws(() => embedSlices(normalize, body, x, { stages: [5] }), /stages must be among 1..4/);
    }),
  );
  body.dispose();
  normalize.dispose();
});

test('stretched views: grey levels low..high stretched to the full range, each embedded beside the slice', () => {
  manualSeed(2);
  const body = new ResNet('resnet18', { numClasses: 0 }).eval();
  const normalize = new Normalize('imagenet');
  assert.equal(embeddingWidth(body, [4], 'avg', 1), 2 * 512);
  noGrad(() =>
    tidy(() => {
      assert.deepEqual(
        [...stretchContrast(Tensor.fromHost({ dtype: 'float32', shape: [4], data: Float32Array.from([0.1, 0.25, 0.5, 0.9]) }), [0.25, 0.75]).floats()],
        [0, 0, 0.5, 1],
      );
      assert.throws(() => stretchContrast(Tensor.rand([1]), [0.5, 0.5]), /0 <= low < high <= 1, got \[0.5, 0.5\]/);
      const x = Tensor.rand([2, 3, 32, 32]);
      const embedding = { stages: [4], pooling: 'avg' as const };
      const both = embedSlices(normalize, body, x, { ...embedding, stretchedViews: [[0.25, 0.75]] });
      const expected = Tensor.cat([embedSlices(normalize, body, x, embedding), embedSlices(normalize, body, stretchContrast(x, [0.25, 0.75]), embedding)], 1);
      assert.deepEqual(both.shape, [2, 1024]);
      assert.ok(both.sub(expected).abs().max().item() < 1e-5);
    }),
  );
  body.dispose();
  normalize.dispose();
});

test('a slice encoder over the maps of the first stages gives the slice embedding, and owns only the stages it runs', () => {
  manualSeed(1);
  const body = new ResNet('resnet18', { numClasses: 0 }).eval();
  const normalize = new Normalize('imagenet');
  noGrad(() =>
    tidy(() => {
      const x = Tensor.rand([2, 3, 32, 32]);
      const encoder = new SliceEncoder(body, 2, [3, 4]);
      const maps = stageMaps(normalize, body, x, 2);
      assert.deepEqual(maps.shape, [2, 128, 4, 4]);
      const direct = embedSlices(normalize, body, x, { stages: [3, 4] });
      assert.ok(encoder.forward(maps).sub(direct).abs().max().item() < 1e-5);
      const owned = new Set(encoder.parameters());
      assert.equal(owned.size, body.stages[2].parameters().length + body.stages[3].parameters().length);
      assert.ok(body.stages[3].parameters().every((p) => owned.has(p)) && !body.stages[1].parameters().some((p) => owned.has(p)));
      assert.throws(() => new SliceEncoder(body, 3, [3, 4]), /stages must be among 4..4, got \[3, 4\]/);
    }),
  );
  body.dispose();
  normalize.dispose();
});

test('a study classifier refuses a head of the wrong width', () => {
  const mil = new AttentionMil({ inFeatures: 10, numClasses: 2 });
  assert.throws(
    () => new StudyClassifier({ arch: 'resnet18', stages: [4], mil: { numClasses: 2 } }, { head: mil }),
    /takes 10 features, the body's stages \[4\] give 1024/,
  );
  mil.dispose();
});
