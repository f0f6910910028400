import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { Tensor, inferenceMode, manualSeed, nn, noGrad, tidy } from '../../src/torch/index.js';
import { saveModuleWeights } from '../../src/torch/io/module-weights.js';
import { VisionClassifier, type ClassifierSpec } from '../../src/models/classifier.js';
import { StudyClassifier } from '../../src/models/study-classifier.js';
import { TORCHVISION } from '../../src/models/resnet.js';
import { readModelSpec, saveModel, saveStudyModel } from '../../src/learn/model-file.js';
import { Predictor } from '../../src/learn/predictor.js';
import { ONNX_METADATA_KEY, exportOnnx } from '../../src/inference/onnx-export.js';
import type { HostImage } from '../../src/data/types.js';
import { randomizeBatchNorms } from '../helpers/batch-norm.js';
import { tempFolder } from '../data/helpers/tiny-images.js';

const CLASSES = ['haemorrhagic', 'ischaemic', 'normal'];
const SIZE = 32;
const INPUT = { size: SIZE, resize: 40, windows: [{ center: 40, width: 80 }] };

/** `count` prepared slices (CHW in 0..1) with varied content, as the predictors take them. */
function slices(count: number): HostImage[] {
  return Array.from({ length: count }, (_, n) => ({
    width: SIZE,
    height: SIZE,
    channels: 3,
    data: Float32Array.from({ length: 3 * SIZE * SIZE }, (_, i) => (Math.sin(i * 0.37 + n * 1.7) + 1) / 2),
  }));
}

/** The ONNX file's outputs for `images` as one batch, run in ONNX Runtime. */
async function runOnnx(path: string, images: HostImage[]): Promise<{ logits: Float32Array; probabilities: Float32Array; dims: readonly number[] }> {
  const session = await ort.InferenceSession.create(path);
  try {
    assert.deepEqual(session.inputNames, ['image']);
    const data = new Float32Array(images.length * 3 * SIZE * SIZE);
    images.forEach((image, i) => data.set(image.data, i * image.data.length));
    const out = await session.run({ image: new ort.Tensor('float32', data, [images.length, 3, SIZE, SIZE]) });
    return { logits: out.logits.data as Float32Array, probabilities: out.probabilities.data as Float32Array, dims: out.probabilities.dims };
  } finally {
    await session.release();
  }
}

const largestDifference = (a: ArrayLike<number>, b: ArrayLike<number>) => Math.max(...Array.from(a, (v, i) => Math.abs(v - b[i])));

/**
 * A classifier in evaluation mode whose batch norms (body and head) change their input, its last layer scaled so
 * that its logits of `images` are within +-2: probabilities of 0 and 1 would hide any difference.
 */
function classifier(spec: ClassifierSpec, images: HostImage[]): VisionClassifier {
  manualSeed(1);
  const model = new VisionClassifier(spec);
  randomizeBatchNorms(model);
  model.eval();
  const last = model.head.layers.at(-1) as nn.Linear;
  noGrad(() =>
    tidy(() => {
      const largest = model.forward(batchOf(images)).abs().max().item();
      last.weight.copy_(last.weight.mul(2 / largest));
    }),
  );
  return model;
}

const batchOf = (images: HostImage[]) =>
  Tensor.fromHost({ dtype: 'float32', shape: [images.length, 3, SIZE, SIZE], data: Float32Array.from(images.flatMap((image) => [...image.data])) });

for (const { name, spec } of [
  { name: 'a ResNet-18 slice classifier (torchvision layout)', spec: { arch: 'resnet18', numClasses: 3 } },
  {
    name: 'a ResNet-50 slice classifier of the Keras variant (BGR caffe input, convolution biases, its epsilon)',
    spec: { arch: 'resnet50', numClasses: 3, normalization: 'caffe', variant: { strideOnFirst1x1: true, convBias: true, bnEps: 1e-3 } },
  },
] satisfies { name: string; spec: ClassifierSpec }[]) {
  test(`${name} exported to ONNX runs in ONNX Runtime as findstroke's predictor predicts, any batch size`, async () => {
    const { root, remove } = await tempFolder();
    const model = classifier(spec, slices(3));
    try {
      const modelPath = join(root, 'model.safetensors');
      const onnxPath = join(root, 'model.onnx');
      saveModel(modelPath, model, { classes: CLASSES, input: INPUT, thresholds: { haemorrhagic: 0.3 } });
      const metadata = await exportOnnx(modelPath, onnxPath);
      const predictor = Predictor.load(modelPath);
      for (const count of [3, 1]) {
        const images = slices(count);
        const onnx = await runOnnx(onnxPath, images);
        assert.deepEqual(onnx.dims, [count, 3]);
        const expected = predictor.probabilities(images);
        const difference = largestDifference(
          onnx.probabilities,
          expected.flatMap((row) => [...row]),
        );
        assert.ok(difference <= 1e-4, `probabilities differ by ${difference}`);
      }
      const file = await readFile(onnxPath);
      assert.ok(!file.includes('BatchNormalization'), 'every batch norm is folded');
      assert.ok(file.includes(JSON.stringify(metadata)), `the metadata is stored under '${ONNX_METADATA_KEY}'`);
      assert.deepEqual(metadata.classes, CLASSES);
      assert.deepEqual(metadata.input.preprocessing, readModelSpec(modelPath).preprocessing, 'the declared preprocessing of the model file');
      assert.deepEqual(
        metadata.input.preprocessing.map((step) => step.name),
        ['decode', 'windows', 'cache8bit', 'resize', 'centreCrop', 'rgb'],
      );
      assert.equal(metadata.input.preparation.length, metadata.input.preprocessing.length);
      assert.deepEqual(metadata.thresholds, { haemorrhagic: 0.3 });
      assert.deepEqual(metadata.studyPooling.rule, 'top-k mean');
      assert.equal(metadata.input.normalization.channelOrder, spec.normalization === 'caffe' ? 'BGR' : 'RGB');
      assert.ok(Math.abs(metadata.input.normalization.std[0] - (spec.normalization === 'caffe' ? 1 / 255 : 0.229)) < 1e-6);
    } finally {
      model.dispose();
      await remove();
    }
  });
}

test("a linear study model exported to ONNX gives each slice's probabilities as findstroke's predictor does; their mean is the study's", async () => {
  const { root, remove } = await tempFolder();
  manualSeed(2);
  const model = new StudyClassifier({ arch: 'resnet18', stages: [3, 4], pooling: 'avg-max', stretchedViews: [[0.3, 0.7]], linear: { numClasses: 3 } });
  try {
    randomizeBatchNorms(model);
    model.eval();
    // A standardisation away from the identity, as one fitted on training features is.
    noGrad(() => (model.head as { standardizeWith(f: Tensor): void }).standardizeWith(Tensor.randn([8, model.spec.linear!.inFeatures]).mul(3).add(1)));
    const modelPath = join(root, 'study.safetensors');
    const onnxPath = join(root, 'study.onnx');
    saveStudyModel(modelPath, model, { classes: CLASSES, input: INPUT });
    const metadata = await exportOnnx(modelPath, onnxPath);
    assert.equal(metadata.studyPooling.rule, 'mean');
    const images = slices(4);
    const onnx = await runOnnx(onnxPath, images);
    const expected = Predictor.load(modelPath).probabilities(images);
    const difference = largestDifference(
      onnx.probabilities,
      expected.flatMap((row) => [...row]),
    );
    assert.ok(difference <= 1e-4, `slice probabilities differ by ${difference}`);
    const study = inferenceMode(() =>
      tidy(() => {
        return model.forward(batchOf(images)).softmax(1).floats();
      }),
    );
    const mean = CLASSES.map((_, c) => (onnx.probabilities[c] + onnx.probabilities[3 + c] + onnx.probabilities[6 + c] + onnx.probabilities[9 + c]) / 4);
    assert.ok(largestDifference(mean, study) <= 1e-4, `study ${study} vs mean of slices ${mean}`);
  } finally {
    model.dispose();
    await remove();
  }
});

test('a file that cannot be exported to ONNX is refused with its name and the reason', async () => {
  const { root, remove } = await tempFolder();
  manualSeed(3);
  const sliceModel = new VisionClassifier({ arch: 'resnet18', numClasses: 3, variant: TORCHVISION });
  const milModel = new StudyClassifier({ arch: 'resnet18', stages: [4], pooling: 'avg', mil: { numClasses: 3 } });
  try {
    const notAModel = join(root, 'notes.safetensors');
    await writeFile(notAModel, 'not a model');
    await assert.rejects(exportOnnx(notAModel, join(root, 'a.onnx')), (e: Error) => e.message.startsWith(`${notAModel}: `));

    const slicePath = join(root, 'slice.safetensors');
    saveModel(slicePath, sliceModel, { classes: CLASSES, input: INPUT });
    const unknownArch = join(root, 'resnet101.safetensors');
    const spec = readModelSpec(slicePath);
    saveModuleWeights(sliceModel, unknownArch, { findstroke: JSON.stringify({ ...spec, classifier: { ...spec.classifier, arch: 'resnet101' } }) });
    await assert.rejects(exportOnnx(unknownArch, join(root, 'b.onnx')), {
      message: `${unknownArch}: unknown ResNet architecture 'resnet101' (resnet18, resnet34, resnet50)`,
    });

    const milPath = join(root, 'mil.safetensors');
    saveStudyModel(milPath, milModel, { classes: CLASSES, input: INPUT });
    await assert.rejects(exportOnnx(milPath, join(root, 'c.onnx')), {
      message: `${milPath}: an attention-MIL study model has no ONNX export yet (its slices are pooled by learnt attention); linear study models have`,
    });
  } finally {
    sliceModel.dispose();
    milModel.dispose();
    await remove();
  }
});
