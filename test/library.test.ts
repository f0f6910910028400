/**
 * findstroke imported by its package name, as a user imports it. Here the name resolves to src/index.ts
 * through tsconfig.json's "paths" (tsx reads them); the built package resolves it through package.json's
 * "exports" to dist/, which the last test checks against what tsc builds.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import {
  VisionLearner,
  Predictor,
  createClassifier,
  datasetFromPath,
  evaluateDataset,
  imageDataLoaders,
  saveModel,
  torch,
  writePhantomDataset,
} from 'findstroke';
import { tempFolder } from './data/helpers/tiny-images.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

test('by its package name: a tiny model trained on phantoms, exported, evaluated and used to predict', async () => {
  const { root, remove } = await tempFolder();
  try {
    const data = join(root, 'data');
    await writePhantomDataset(data, { patients: 6, slices: 2, seed: 5, format: 'png', size: 64 });
    torch.manualSeed(5);
    const dataset = await datasetFromPath(data);
    const dls = imageDataLoaders(dataset, { size: 32, batchSize: 4, validPct: 0.34, seed: 5 });
    const model = await createClassifier({ arch: 'resnet18', numClasses: dls.classes.length, pretrained: 'none' });
    const history = await new VisionLearner(model, dls).fineTune(1, 1e-3);
    assert.deepEqual(
      history.map((epoch) => epoch.phase),
      ['frozen', 'unfrozen'],
    );

    const modelPath = join(root, 'model.safetensors');
    saveModel(modelPath, model, { classes: dls.classes, input: dls.input });
    const predictor = Predictor.load(modelPath);
    const files = dataset.samples.slice(0, 3).map((sample) => sample.path);
    const predictions = await predictor.predict(files);
    assert.equal(predictions.length, files.length);
    for (const [i, prediction] of predictions.entries()) {
      assert.ok('label' in prediction, `${files[i]} predicted`);
      assert.equal(prediction.path, files[i]);
      assert.deepEqual(Object.keys(prediction.probabilities), dataset.classes);
      assert.equal(prediction.label, dataset.classes[prediction.index]);
      assert.ok(Math.abs(Object.values(prediction.probabilities).reduce((a, b) => a + b, 0) - 1) < 1e-5);
    }
    const evaluation = await evaluateDataset(predictor, dataset);
    assert.equal(evaluation.n, dataset.samples.length);
    assert.equal(evaluation.patients, 6);
  } finally {
    await remove();
  }
});

test("package.json's exports name the JavaScript and declarations tsc builds from src/index.ts", () => {
  const configPath = join(ROOT, 'tsconfig.json');
  const parsed = ts.parseJsonConfigFileContent(ts.readConfigFile(configPath, ts.sys.readFile).config, ts.sys, ROOT, undefined, configPath);
  assert.equal(parsed.options.declaration, true, 'declarations are built');
  const built = ts.getOutputFileNames(parsed, join(ROOT, 'src', 'index.ts'), false).map((path) => `./${path.slice(ROOT.length)}`);
  const { exports } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { exports: { '.': { types: string; default: string } } };
  for (const path of [exports['.'].default, exports['.'].types]) assert.ok(built.includes(path), `${path} is not among what tsc builds (${built.join(', ')})`);
});

test("the README's Library example is examples/library.ts (which tsc type-checks), word for word", () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const quoted = /\n### Library\n[\s\S]*?\n```ts\n([\s\S]*?)```\n/.exec(readme)?.[1];
  assert.equal(quoted, readFileSync(join(ROOT, 'examples', 'library.ts'), 'utf8'));
});
