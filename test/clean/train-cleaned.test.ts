import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { applyDecisions } from '../../src/clean/index.js';
import { writePhantomDataset } from '../../src/data/phantoms/index.js';
import { trainRun } from '../../src/workflows/train-run.js';
import { tempFolder } from '../data/helpers/tiny-images.js';

test('training on a cleaned folder sees the relabelled image in its new class and not the deleted one', async () => {
  const { root, remove } = await tempFolder();
  try {
    const data = join(root, 'data');
    await writePhantomDataset(data, { patients: 6, slices: 2, seed: 2, format: 'png', size: 64 });
    await rm(join(data, 'manifest.csv'));
    // Seed 2 puts patient p000 in haemorrhagicStroke and p004 in normalBrain.
    const relabelled = 'haemorrhagicStroke/p000_s000.png';
    const deleted = 'normalBrain/p004_s001.png';
    const { batch } = await applyDecisions(data, { [relabelled]: { relabel: 'ischaemicStroke' }, [deleted]: 'delete' });
    assert.ok(batch);

    const run = await trainRun({
      data,
      out: join(root, 'run'),
      arch: 'resnet18',
      pretrained: 'none',
      size: 32,
      batchSize: 4,
      epochs: 1,
      validPct: 0.5,
      seed: 3,
      log: () => undefined,
    });
    const samples = run.dls.dataset.samples;
    assert.equal(samples.length, 11);
    assert.equal(samples.find((s) => s.path === join(data, 'ischaemicStroke/p000_s000.png'))?.label, 'ischaemicStroke');
    assert.ok(!samples.some((s) => s.path.includes('.trash') || s.path.endsWith('p004_s001.png')));
    assert.equal(run.dls.split.train.length + run.dls.split.valid.length, 11);
    assert.ok(existsSync(run.modelPath));
  } finally {
    await remove();
  }
});
