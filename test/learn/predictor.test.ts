import { test } from 'node:test';
import assert from 'node:assert/strict';
import { manualSeed, noGrad, tidy, Tensor } from '../../src/torch/index.js';
import { VisionClassifier } from '../../src/models/classifier.js';
import { join } from 'node:path';
import { Predictor } from '../../src/learn/predictor.js';
import { StudyPredictor } from '../../src/learn/study-predictor.js';
import { StudyClassifier } from '../../src/models/study-classifier.js';
import { tempFolder, writeImage } from '../data/helpers/tiny-images.js';
import { batchNormCalls, countBatchNormCalls, randomizeBatchNorms } from '../helpers/batch-norm.js';
import { gradCam } from '../../src/interpret/gradcam.js';
import { MODEL_FORMAT, MODEL_FORMAT_VERSION, type ModelSpec, type StudyModelSpec } from '../../src/learn/model-file.js';
import { Rng } from '../../src/data/rng.js';
import { preprocessingOf } from '../../src/data/preprocessing.js';
import type { HostImage } from '../../src/data/types.js';

const CLASSES = ['haemorrhagicStroke', 'ischaemicStroke', 'normalBrain'];

/** A fresh ResNet-18 classifier (seeded) and the spec a model file would carry for it. */
function classifier(seed: number): { model: VisionClassifier; spec: ModelSpec } {
  manualSeed(seed);
  const model = new VisionClassifier({ arch: 'resnet18', numClasses: CLASSES.length });
  const spec: ModelSpec = {
    format: MODEL_FORMAT,
    formatVersion: MODEL_FORMAT_VERSION,
    kind: 'slice',
    classifier: model.spec,
    classes: CLASSES,
    input: { size: 64, resize: 72, windows: [{ center: 40, width: 80 }] },
    preprocessing: preprocessingOf({ size: 64, windows: [{ center: 40, width: 80 }] }),
  };
  return { model, spec };
}

/** A fresh linear study model (seeded) on 32 px slices and the spec a model file would carry for it. */
function studyModel(seed: number): { model: StudyClassifier; spec: StudyModelSpec } {
  manualSeed(seed);
  const model = new StudyClassifier({ arch: 'resnet18', stages: [4], pooling: 'avg', linear: { numClasses: 2 } });
  const spec: StudyModelSpec = {
    format: MODEL_FORMAT,
    formatVersion: MODEL_FORMAT_VERSION,
    kind: 'study',
    classifier: model.spec,
    classes: ['normal', 'stroke'],
    input: { size: 32, resize: 40, windows: [{ center: 40, width: 80 }] },
    preprocessing: preprocessingOf({ size: 32, windows: [{ center: 40, width: 80 }] }),
  };
  return { model, spec };
}

function images(count: number, size = 64): HostImage[] {
  const rng = new Rng(3);
  return Array.from({ length: count }, () => ({
    width: size,
    height: size,
    channels: 3,
    data: Float32Array.from({ length: 3 * size * size }, () => rng.next()),
  }));
}

const worstDifference = (a: Float32Array[], b: Float32Array[]) => Math.max(...a.map((row, i) => Math.max(...row.map((v, c) => Math.abs(v - b[i][c])))));

test('a predictor puts its model into channels-last on the CPU by default and predicts what it predicts in NCHW', () => {
  const nchw = classifier(4);
  const last = classifier(4);
  const reference = new Predictor(nchw.model, nchw.spec, { memoryFormat: 'contiguous' });
  const predictor = new Predictor(last.model, last.spec);
  const weight = last.model.stateDict().get('body.conv1.weight')!;
  assert.ok(weight.isContiguous('channels_last') && !weight.isContiguous());
  assert.ok(nchw.model.stateDict().get('body.conv1.weight')!.isContiguous());
  const layouts: boolean[] = [];
  last.model.normalize.registerForwardHook((out) => void layouts.push(out.isContiguous('channels_last')));
  const batch = images(3);
  const difference = worstDifference(predictor.probabilities(batch), reference.probabilities(batch));
  assert.ok(difference < 1e-5, `probabilities differ by ${difference}`);
  assert.deepEqual(layouts, [true], 'the batch entered the model in channels-last');
});

test('a study predictor puts its model and slices into channels-last on the CPU by default, compiles its embedding (batch norms folded), and predicts what it predicts in NCHW', async () => {
  const { root, remove } = await tempFolder();
  try {
    const slices = await Promise.all(
      [0, 1, 2].map((i) => writeImage(join(root, `s${i}.png`), { width: 40, height: 40, channels: 1, value: (x, y) => (x * 5 + y * (i + 2)) % 256 })),
    );
    const nchw = studyModel(5);
    const last = studyModel(5);
    const reference = await new StudyPredictor(nchw.model, nchw.spec, { memoryFormat: 'contiguous' }).predictStudy('s', slices);
    const predictor = new StudyPredictor(last.model, last.spec);
    const layouts: boolean[] = [];
    last.model.normalize.registerForwardHook((out) => void layouts.push(out.isContiguous('channels_last')));
    await predictor.predictStudy('s', slices);
    const bodyBatchNorms = countBatchNormCalls(last.model.body);
    const prediction = await predictor.predictStudy('s', slices);
    assert.equal(bodyBatchNorms.stop(), 0, 'once traced, the body predicts through its compiled graph, batch norms folded');
    assert.ok(last.model.body.conv1.weight.isContiguous('channels_last') && !last.model.body.conv1.weight.isContiguous());
    assert.deepEqual(layouts, [true], 'traced in channels-last');
    for (const c of ['normal', 'stroke'])
      assert.ok(
        Math.abs(prediction.probabilities[c] - reference.probabilities[c]) < 1e-5,
        `${c}: ${prediction.probabilities[c]} vs ${reference.probabilities[c]}`,
      );
  } finally {
    await remove();
  }
});

test('with bf16, a predictor runs its convolutions in bfloat16, compiled, and gives float32 probabilities close to float32 prediction', () => {
  const fp32 = classifier(6);
  const bf16 = classifier(6);
  const reference = new Predictor(fp32.model, fp32.spec);
  const predictor = new Predictor(bf16.model, bf16.spec, { bf16: true });
  const dtypes: string[] = [];
  bf16.model.body.stages[0].registerForwardHook((out) => void dtypes.push(out.dtype));
  const batch = images(3);
  const expected = reference.probabilities(batch);
  const probabilities = predictor.probabilities(batch);
  assert.deepEqual(dtypes, ['bfloat16']);
  predictor.probabilities(batch);
  assert.deepEqual(dtypes, ['bfloat16'], 'traced once, then its graph compiled in bfloat16 runs');
  assert.ok(probabilities.every((row) => row instanceof Float32Array && Math.abs(row.reduce((a, b) => a + b) - 1) < 1e-5));
  const difference = worstDifference(probabilities, expected);
  assert.ok(difference > 0 && difference < 0.05, `bf16 probabilities differ from float32's by ${difference}`);
});

test('with bf16, a study predictor embeds its slices in bfloat16 and pools them in float32', async () => {
  const { root, remove } = await tempFolder();
  const { model, spec } = studyModel(7);
  try {
    const slices = await Promise.all(
      [0, 1].map((i) => writeImage(join(root, `s${i}.png`), { width: 40, height: 40, channels: 1, value: (x, y) => (x * 3 + y * (i + 2)) % 256 })),
    );
    const reference = await new StudyPredictor(model, spec).predictStudy('s', slices);
    const dtypes: string[] = [];
    model.body.stages[3].registerForwardHook((out) => void dtypes.push(out.dtype));
    const predictor = new StudyPredictor(model, spec, { bf16: true });
    const prediction = await predictor.predictStudy('s', slices);
    assert.deepEqual(dtypes, ['bfloat16']);
    await predictor.predictStudy('s', slices);
    assert.deepEqual(dtypes, ['bfloat16'], 'traced once, then its graph compiled in bfloat16 runs');
    const difference = Math.abs(prediction.probabilities.stroke - reference.probabilities.stroke);
    assert.ok(difference > 0 && difference < 0.05, `bf16 study probability differs from float32's by ${difference}`);
  } finally {
    model.dispose();
    await remove();
  }
});

test("a predictor predicts through its model's compiled graph, the body's batch norms folded; the model stays as it was for Grad-CAM", () => {
  const { model, spec } = classifier(6);
  randomizeBatchNorms(model);
  const predictor = new Predictor(model, spec);
  const batch = images(2);
  const expected = tidy(() =>
    noGrad(() =>
      model
        .forward(Tensor.fromHost({ dtype: 'float32', shape: [2, 3, 64, 64], data: Float32Array.from(batch.flatMap((b) => [...b.data])) }))
        .softmax(1)
        .floats(),
    ),
  );
  let probabilities = predictor.probabilities(batch);
  assert.equal(
    batchNormCalls(model.body, () => void (probabilities = predictor.probabilities(batch))),
    0,
    'once traced, no body batch norm ran',
  );
  const difference = Math.max(...probabilities.flatMap((row, i) => [...row].map((v, c) => Math.abs(v - expected[i * CLASSES.length + c]))));
  assert.ok(difference < 1e-4, `probabilities differ by ${difference}`);
  assert.equal(
    batchNormCalls(model.body, () => void new Predictor(model, spec).probabilities(batch)),
    0,
    "a new predictor of the same model uses the model's compiled graph",
  );
  assert.ok(
    batchNormCalls(model.body, () => void tidy(() => gradCam(model, Tensor.rand([1, 3, 64, 64])))) > 0,
    'Grad-CAM runs the unfolded model, with gradients',
  );
});
