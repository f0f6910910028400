import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Tensor, noGrad, manualSeed } from '../../src/torch/index.js';
import { VisionClassifier } from '../../src/models/classifier.js';
import { StudyClassifier } from '../../src/models/study-classifier.js';
import { saveModel, saveStudyModel, loadModel, loadStudyModel, readModel, readModelSpec } from '../../src/learn/model-file.js';
import { saveModuleWeights } from '../../src/torch/io/module-weights.js';
import { encodeSafetensors } from '../../src/torch/io/safetensors.js';
import { preprocessingOf } from '../../src/data/preprocessing.js';
import { Predictor } from '../../src/learn/predictor.js';
import { tempFolder, writeImage } from '../data/helpers/tiny-images.js';
import { countFileReads } from '../helpers/file-reads.js';

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
  assert.equal(readModelSpec(path).format, 'findstroke-model');
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

test('a study model file of the first format, which said mirrorAverage, loads when it was false and is refused by name when it was true', async () => {
  const { root, remove } = await tempFolder();
  manualSeed(0);
  const model = new StudyClassifier({ arch: 'resnet18', stages: [4], pooling: 'avg', linear: { numClasses: 2 } });
  try {
    const spec = saveStudyModel(join(root, 'model.safetensors'), model, {
      classes: ['normal', 'stroke'],
      input: { size: 32, resize: 40, windows: [{ center: 40, width: 80 }] },
    });
    for (const mirrorAverage of [false, true]) {
      const path = join(root, `mirror-${mirrorAverage}.safetensors`);
      saveModuleWeights(model, path, { findstroke: JSON.stringify({ ...spec, classifier: { ...spec.classifier, mirrorAverage } }) });
      if (mirrorAverage) {
        assert.throws(() => loadStudyModel(path), {
          message: `${path}: a study model that averages each slice with its mirror image (mirrorAverage), which findstroke no longer does: train it again`,
        });
        continue;
      }
      const loaded = loadStudyModel(path);
      assert.deepEqual(loaded.spec.classifier, spec.classifier, 'the old flag is dropped, nothing else changes');
      assert.ok(!('mirrorAverage' in loaded.model.spec));
      loaded.model.dispose();
    }
  } finally {
    model.dispose();
    await remove();
  }
});

test('files of the two formats before the one with a kind load as a slice model and a study model, each read from disk once', async () => {
  const { root, remove } = await tempFolder();
  manualSeed(0);
  const slice = new VisionClassifier({ arch: 'resnet18', numClasses: 3, normalization: 'imagenet' }).eval();
  const study = new StudyClassifier({ arch: 'resnet18', stages: [4], pooling: 'avg', mil: { numClasses: 2, hidden: 8 } });
  try {
    // The headers as findstroke wrote them before: 'findstroke-model' version 1 without a kind, and the study model's own format.
    const classes = ['haemorrhagicStroke', 'ischaemicStroke', 'normalBrain'];
    const oldSlice = join(root, 'slice-v1.safetensors');
    saveModuleWeights(slice, oldSlice, {
      findstroke: JSON.stringify({
        format: 'findstroke-model',
        formatVersion: 1,
        classifier: slice.spec,
        classes,
        input: INPUT,
        thresholds: { normalBrain: 0.5 },
      }),
    });
    const oldStudy = join(root, 'study-v1.safetensors');
    saveModuleWeights(study, oldStudy, {
      findstroke: JSON.stringify({ format: 'findstroke-study-model', formatVersion: 1, classifier: study.spec, classes: ['normal', 'stroke'], input: INPUT }),
    });

    const { result: asSlice, reads } = countFileReads(oldSlice, () => readModel(oldSlice));
    assert.equal(reads, 1, 'the file is opened once, its header and weights read together');
    assert.equal(asSlice.kind, 'slice');
    assert.deepEqual(asSlice.spec.classes, classes);
    assert.deepEqual(asSlice.spec.thresholds, { normalBrain: 0.5 });
    assert.equal(asSlice.spec.formatVersion, 2);
    assert.deepEqual(asSlice.spec.preprocessing, preprocessingOf(INPUT), 'the pipeline its loose input fields declare');
    const x = Tensor.rand([1, 3, 64, 64]);
    assert.deepEqual(noGrad(() => asSlice.model.forward(x)).data(), noGrad(() => slice.forward(x)).data());

    const asStudy = readModel(oldStudy);
    assert.equal(asStudy.kind, 'study');
    assert.deepEqual(asStudy.spec.classifier, study.spec);
    assert.deepEqual(asStudy.spec.classes, ['normal', 'stroke']);
    assert.deepEqual(asStudy.spec.preprocessing, preprocessingOf(INPUT));
    assert.throws(() => loadModel(oldStudy), {
      message: `${oldStudy}: a study model (findstroke train --recipe study), where a slice model (findstroke train) is needed`,
    });
    asSlice.model.dispose();
    asStudy.model.dispose();
  } finally {
    slice.dispose();
    study.dispose();
    await remove();
  }
});

test('a model file carries its preprocessing as named steps, which prediction replays; a file with a step unknown here is refused by the file and the step', async () => {
  const { root, remove } = await tempFolder();
  manualSeed(0);
  const model = new VisionClassifier({ arch: 'resnet18', numClasses: 3, normalization: 'imagenet' }).eval();
  try {
    const classes = ['haemorrhagicStroke', 'ischaemicStroke', 'normalBrain'];
    const path = join(root, 'model.safetensors');
    saveModel(path, model, { classes, input: INPUT });
    assert.deepEqual(readModelSpec(path).preprocessing, preprocessingOf(INPUT), 'training declares what its input fields say');

    // A pipeline of its own (a smaller crop than the input fields say): prediction follows the file's steps.
    const cropped = path.replace('model', 'cropped');
    const steps = preprocessingOf(INPUT).map((step) => (step.name === 'centreCrop' ? { ...step, size: 48 } : step));
    saveModel(cropped, model, { classes, input: INPUT, preprocessing: steps });
    const slice = await writeImage(join(root, 'slice.png'), { width: 90, height: 80, channels: 1, value: (x, y) => (x * 3 + y) % 256 });
    const prepared = await Predictor.load(cropped).prepare(slice);
    assert.deepEqual([prepared.width, prepared.height, prepared.channels], [48, 48, 3]);

    const unknown = path.replace('model', 'unknown');
    saveModel(unknown, model, { classes, input: INPUT, preprocessing: [...steps, { name: 'sharpen' } as never] });
    assert.throws(() => readModel(unknown), {
      message: `${unknown}: preprocessing step 7 'sharpen' is not a step this findstroke knows (decode, windows, cache8bit, maskOutsideHead, resize, centreCrop, rgb); update findstroke`,
    });
  } finally {
    model.dispose();
    await remove();
  }
});
