import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { writePhantomDataset } from '../../src/data/phantoms/index.js';
import { datasetFromPath } from '../../src/data/sources/index.js';
import { imageDataLoaders, predictionLoader, renderingWindows } from '../../src/data/dataloaders.js';
import { cacheShortSide } from '../../src/data/preprocessing.js';
import { HEAD_CT_WINDOWS, RSNA_ICH_WINDOWS } from '../../src/data/window.js';
import { tempFolder } from './helpers/tiny-images.js';

test('the cache is large enough that the smallest RandomResizedCrop is shrunk, never enlarged', () => {
  for (const size of [64, 128, 224]) {
    const smallestCropSide = cacheShortSide(size) * Math.sqrt(0.35 * (3 / 4));
    assert.ok(smallestCropSide >= size, `${size}: smallest crop ${smallestCropSide.toFixed(1)} px`);
  }
});

test('loaders split by patient when ids are known, batch to the training size, and only augmentation is random', async () => {
  const { root, remove } = await tempFolder();
  try {
    const data = join(root, 'data');
    await writePhantomDataset(data, { patients: 6, slices: 2, seed: 3, format: 'png', size: 64 });
    const dataset = await datasetFromPath(data);
    const dls = imageDataLoaders(dataset, { size: 32, batchSize: 4, seed: 1, validPct: 0.34 });
    assert.equal(dls.split.by, 'patient');
    const validPatients = new Set(dls.split.valid.map((i) => dataset.samples[i].patientId));
    assert.deepEqual([...validPatients].sort(), [...dls.split.validPatients!].sort());
    assert.ok(
      dls.split.train.every((i) => !validPatients.has(dataset.samples[i].patientId)),
      'no patient on both sides',
    );
    const { value: batch } = await dls.train.epoch(0).next();
    assert.deepEqual(batch!.shape, [4, 3, 32, 32]);
    assert.equal(dls.train.deterministic, false);
    assert.equal(dls.valid.deterministic, true);
    assert.equal(imageDataLoaders(dataset, { size: 32, seed: 1, validPct: 0.34, augment: false }).train.deterministic, true);
    assert.equal(imageDataLoaders(dataset, { size: 32, seed: 1, splitBy: 'random' }).split.by, 'random');
    // Masking outside the head is recorded with the input, so that the saved model's prediction does it too.
    assert.equal(dls.input.maskOutsideHead, undefined);
    assert.equal(imageDataLoaders(dataset, { size: 32, seed: 1, validPct: 0.34, maskOutsideHead: true }).input.maskOutsideHead, true);
  } finally {
    await remove();
  }
});

test('a DICOM slice reaches a model trained on rendered images as those images did: in the brain window only', async () => {
  const { root, remove } = await tempFolder();
  try {
    const phantoms = { patients: 6, slices: 2, seed: 5, size: 64 };
    await writePhantomDataset(join(root, 'png'), { ...phantoms, format: 'png' });
    await writePhantomDataset(join(root, 'dicom'), { ...phantoms, format: 'dicom' });
    const png = await datasetFromPath(join(root, 'png'));
    const dicom = await datasetFromPath(join(root, 'dicom'));
    assert.deepEqual(renderingWindows(dicom.samples), RSNA_ICH_WINDOWS);
    assert.deepEqual(renderingWindows([...png.samples, ...dicom.samples]), [HEAD_CT_WINDOWS.brain]);

    const { input } = imageDataLoaders(png, { size: 32, seed: 1, validPct: 0.34 });
    assert.deepEqual(input.windows, [HEAD_CT_WINDOWS.brain]);
    assert.deepEqual(imageDataLoaders(dicom, { size: 32, seed: 1, validPct: 0.34 }).input.windows, RSNA_ICH_WINDOWS);
    // The same slice as a PNG (the brain-window rendering the model trained on) and as DICOM, prepared for prediction.
    const prepare = predictionLoader(input);
    for (const [k, sample] of png.samples.entries()) {
      const [fromPng, fromDicom] = [await prepare(sample.path), await prepare(dicom.samples[k].path)];
      assert.deepEqual([fromDicom.channels, fromDicom.width], [fromPng.channels, fromPng.width]);
      const largest = fromPng.data.reduce((m, v, i) => Math.max(m, Math.abs(v - fromDicom.data[i])), 0);
      assert.ok(largest <= 2 / 255, `${sample.path}: prepared from DICOM differs by up to ${largest.toFixed(3)}`);
    }
  } finally {
    await remove();
  }
});
