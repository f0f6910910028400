import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { timePrediction } from '../../bench/realdata/inference.js';
import { createClassifier } from '../../src/models/create.js';
import { saveModel } from '../../src/learn/model-file.js';
import { tempFolder, writeImage } from '../data/helpers/tiny-images.js';

/** A tiny untrained slice model file in `folder`, and `count` PNG slices beside it. */
async function modelAndSlices(folder: string, count: number): Promise<{ modelPath: string; paths: string[] }> {
  const model = await createClassifier({ arch: 'resnet18', numClasses: 2, pretrained: 'none' });
  const modelPath = join(folder, 'model.safetensors');
  saveModel(modelPath, model, { classes: ['normal', 'stroke'], input: { size: 32, resize: 40, windows: [{ center: 40, width: 80 }] } });
  model.dispose();
  const paths = await Promise.all(Array.from({ length: count }, (_, i) => writeImage(join(folder, `slice${i}.png`), { width: 48, height: 48, channels: 1 })));
  return { modelPath, paths };
}

test('the inference timing predicts every file with the model file, in batches, and counts them', async () => {
  const { root, remove } = await tempFolder();
  try {
    const { modelPath, paths } = await modelAndSlices(root, 5);
    const timing = await timePrediction(modelPath, paths, 2);
    assert.equal(timing.slices, 5);
    assert.equal(timing.slices_per_s, 5 / timing.seconds);
  } finally {
    await remove();
  }
});

test('the inference timing refuses a file it cannot predict, naming the model, the file and why', async () => {
  const { root, remove } = await tempFolder();
  try {
    const { modelPath, paths } = await modelAndSlices(root, 2);
    const broken = join(root, 'broken.png');
    await writeFile(broken, 'not an image');
    await assert.rejects(timePrediction(modelPath, [...paths, broken], 2), (e: Error) => {
      assert.match(e.message, new RegExp(`^${modelPath} could not predict ${broken}: .+`));
      return true;
    });
  } finally {
    await remove();
  }
});
