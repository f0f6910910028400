import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Tensor, noGrad, manualSeed } from '../../src/torch/index.js';
import { VisionClassifier } from '../../src/models/classifier.js';
import { saveModel, loadModel, readModelSpec, modelFileFormat } from '../../src/learn/model-file.js';
import { loadStudyModel } from '../../src/learn/study-model-file.js';
import { encodeSafetensors } from '../../src/torch/io/safetensors.js';

const INPUT = { size: 64, resize: 72, windows: [{ center: 40, width: 80 }] };

function saved(dir: string, classes = ['haemorrhagicStroke', 'ischaemicStroke', 'normalBrain']) {
  manualSeed(0);
  const model = new VisionClassifier({ arch: 'resnet18', numClasses: 3, normalization: 'imagenet' }).eval();
  const path = join(dir, 'model.safetensors');
  saveModel(path, model, { classes, input: INPUT, thresholds: { haemorrhagicStroke: 0.2 }, provenance: { seed: 0, split: 'patient' } });
  return { model, path };
}

test('an exported model reloads with its architecture, classes, preprocessing, thresholds and provenance', () => {
  const dir = mkdtempSync(join(tmpdir(), 'findstroke-model-'));
  const { model, path } = saved(dir);
  const { model: loaded, spec } = loadModel(path);
  assert.deepEqual(spec.classes, ['haemorrhagicStroke', 'ischaemicStroke', 'normalBrain']);
  assert.deepEqual(spec.input, INPUT);
  assert.equal(spec.classifier.arch, 'resnet18');
  assert.deepEqual(spec.thresholds, { haemorrhagicStroke: 0.2 });
  assert.deepEqual(spec.provenance, { seed: 0, split: 'patient' });
  const x = Tensor.rand([2, 3, 64, 64]);
  assert.deepEqual(noGrad(() => loaded.forward(x)).data(), noGrad(() => model.forward(x)).data());
  assert.deepEqual(readModelSpec(path), spec);
  assert.equal(modelFileFormat(path), 'findstroke-model');
  assert.throws(() => loadStudyModel(path), {
    message: `${path}: a slice model (findstroke train), where a study model (findstroke train --recipe study) is needed`,
  });
});

test('a truncated file, a foreign safetensors file, another format version and a class-count mismatch are refused clearly', () => {
  const dir = mkdtempSync(join(tmpdir(), 'findstroke-model-'));
  const { path, model } = saved(dir);
  const bytes = readFileSync(path);
  const truncated = join(dir, 'truncated.safetensors');
  writeFileSync(truncated, bytes.subarray(0, 1000));
  assert.throws(
    () => loadModel(truncated),
    (e: Error) => e.message.startsWith(truncated) && /truncat|past the end|beyond/i.test(e.message),
  );

  const foreign = join(dir, 'foreign.safetensors');
  writeFileSync(foreign, encodeSafetensors(new Map([['w', { dtype: 'float32', shape: [1], data: new Float32Array(1) }]])));
  assert.throws(() => loadModel(foreign), /foreign\.safetensors: not a findstroke model/);

  const header = (meta: object) => {
    const p = join(dir, 'other.safetensors');
    writeFileSync(p, encodeSafetensors(new Map([['w', { dtype: 'float32', shape: [1], data: new Float32Array(1) }]]), { findstroke: JSON.stringify(meta) }));
    return p;
  };
  const spec = readModelSpec(path);
  assert.throws(() => loadModel(header({ ...spec, formatVersion: 99 })), /format version 99, this findstroke reads version 1/);
  assert.throws(() => loadModel(header({ ...spec, classes: ['a', 'b'] })), /2 class names but 3 model outputs/);
  assert.throws(() => saveModel(join(dir, 'x.safetensors'), model, { classes: ['a'], input: INPUT }), /1 class names for a model with 3 outputs/);
});
