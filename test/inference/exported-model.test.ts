import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import sharp from 'sharp';
import { manualSeed } from '../../src/torch/index.js';
import { VisionClassifier } from '../../src/models/classifier.js';
import { StudyClassifier } from '../../src/models/study-classifier.js';
import { saveModel, saveStudyModel } from '../../src/learn/model-file.js';
import { loadExportedModel, studyScoreOf, topKStudyProbabilities, type ExportedModelSpec } from '../../src/inference/exported-model.js';
import { Predictor } from '../../src/learn/predictor.js';
import { tempFolder, writeDicom } from '../data/helpers/tiny-images.js';
import { countFileReads } from '../helpers/file-reads.js';

const CLASSES = ['haemorrhagicStroke', 'normalBrain'];
const INPUT = { size: 32, resize: 40, windows: [{ center: 40, width: 80 }] };

test('a slice model and a study model load through one interface: each predicts a study, slices in order, an unreadable one named', async () => {
  const { root, remove } = await tempFolder();
  manualSeed(0);
  const sliceModel = new VisionClassifier({ arch: 'resnet18', numClasses: 2, normalization: 'imagenet' }).eval();
  const studyModel = new StudyClassifier({ arch: 'resnet18', stages: [4], pooling: 'avg', linear: { numClasses: 2 } });
  try {
    saveModel(join(root, 'slice.safetensors'), sliceModel, { classes: CLASSES, input: INPUT });
    saveStudyModel(join(root, 'study.safetensors'), studyModel, { classes: CLASSES, input: INPUT });
    const files = await Promise.all([0, 1, 2].map((i) => writeDicom(join(root, `s${i}.dcm`), { rows: 40, columns: 40, instanceNumber: i + 1 })));
    const paths = [files[0], join(root, 'missing.dcm'), files[1], files[2]];

    for (const kind of ['slice', 'study']) {
      const path = join(root, `${kind}.safetensors`);
      const { result: model, reads } = countFileReads(path, () => loadExportedModel(path, 1));
      assert.equal(reads, 1, `${kind}: the model file is read once`);
      assert.equal(countFileReads(path, () => Predictor.load(path)).reads, 1, `${kind}: Predictor.load reads it once`);
      assert.deepEqual(model.spec.classes, CLASSES);
      const { slices, study } = await model.predictStudy(paths, 2);
      assert.equal(slices.length, 4, kind);
      assert.ok('error' in slices[1] && slices[1].error.includes('missing.dcm'), `${kind}: ${JSON.stringify(slices[1])}`);
      const read = slices.flatMap((slice) => ('probabilities' in slice ? [slice.probabilities] : []));
      assert.equal(read.length, 3);
      assert.ok(Math.abs(study[0] + study[1] - 1) < 1e-5, `${kind}: ${study}`);
      // A slice model's study is the top-k mean of its slices; a study model's its own, with each slice's weight in it.
      if (kind === 'slice') assert.deepEqual(study, topKStudyProbabilities(2, read));
      else assert.ok(slices.every((slice) => 'error' in slice || slice.weight !== undefined));
      assert.match(model.studyScore, kind === 'slice' ? /3 highest slice probabilities/ : /^a study model: /);

      const png = await model.heatmapPng(files[0]);
      assert.deepEqual(
        await sharp(png)
          .metadata()
          .then((m) => [m.width, m.height]),
        [40, 40],
        'drawn over the slice at its own size',
      );
    }
    const sliceOnly = loadExportedModel(join(root, 'slice.safetensors'), 1);
    await assert.rejects(sliceOnly.predictStudy([join(root, 'missing.dcm')], 2), /no slice could be prepared \(slice 0: .*missing\.dcm/);
  } finally {
    sliceModel.dispose();
    studyModel.dispose();
    await remove();
  }
});

test("a model's study score says how it pools slices into a study", () => {
  const spec = (fields: object) => fields as unknown as ExportedModelSpec;
  assert.match(studyScoreOf(spec({ kind: 'study', classifier: { linear: { inFeatures: 8 } } })), /mean of every slice's probabilities \(linear head/);
  assert.match(studyScoreOf(spec({ kind: 'study', classifier: { mil: { inFeatures: 8 } } })), /pooled by learnt attention weights/);
  assert.match(studyScoreOf(spec({ kind: 'slice' })), /mean of the 3 highest slice probabilities \(a slice model/);
});

test("a slice model's study probabilities are the renormalised top-k slice means", () => {
  const rows = [Float32Array.of(0.9, 0.1), Float32Array.of(0.1, 0.9), Float32Array.of(0.2, 0.8), Float32Array.of(0.0, 1.0)];
  const p = topKStudyProbabilities(2, rows, 2);
  // top-2 means: a (0.9 + 0.2) / 2 = 0.55, b (1.0 + 0.9) / 2 = 0.95; renormalised by 1.5.
  assert.ok(Math.abs(p[0] - 0.55 / 1.5) < 1e-6 && Math.abs(p[1] - 0.95 / 1.5) < 1e-6);
});
