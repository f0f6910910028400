import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writePhantomDataset } from '../../src/data/phantoms/index.js';
import { crossval, meanSd } from '../../src/workflows/crossval.js';
import { tempFolder } from '../data/helpers/tiny-images.js';

test('mean and sample standard deviation skip NaN folds', () => {
  assert.deepEqual(meanSd([1, 3]), { mean: 2, sd: Math.SQRT2 });
  assert.deepEqual(meanSd([2, NaN]), { mean: 2, sd: 0 });
});

test('patient-grouped cross-validation validates every patient exactly once and writes out-of-fold predictions', async () => {
  const { root, remove } = await tempFolder();
  try {
    const data = join(root, 'data');
    await writePhantomDataset(data, { patients: 6, slices: 2, seed: 4, format: 'png', size: 48 });
    const out = join(root, 'cv');
    const lines: string[] = [];
    const result = await crossval({ data, out, folds: 2, arch: 'resnet18', pretrained: 'none', size: 32, batchSize: 4, epochs: 1, seed: 1, log: (l) => lines.push(l) });
    assert.equal(result.folds.length, 2);
    const patients = result.folds.flatMap((f) => f.validPatients);
    assert.equal(new Set(patients).size, 6, 'every patient validated once');
    assert.equal(patients.length, 6, 'no patient in two validation folds');
    const oof = readFileSync(join(out, 'oof.csv'), 'utf8').trim().split('\n');
    assert.equal(oof[0], 'path,patient_id,label,fold,prob_haemorrhagicStroke,prob_ischaemicStroke,prob_normalBrain');
    assert.equal(oof.length, 1 + 12, 'one row per image');
    for (const row of oof.slice(1)) {
      const cells = row.split(',');
      const fold = result.folds[Number(cells[3]) - 1];
      assert.ok(fold.validPatients.includes(cells[1]), `${cells[1]} predicted by the fold that held it out`);
      const total = cells.slice(4).reduce((a, p) => a + Number(p), 0);
      assert.ok(Math.abs(total - 1) < 1e-4);
    }
    const saved = JSON.parse(readFileSync(join(out, 'crossval.json'), 'utf8'));
    for (const key of ['sliceAuc', 'patientAuc', 'accuracy']) assert.ok('mean' in saved[key] && 'sd' in saved[key], key);
    assert.match(lines.join('\n'), /mean \+\/- sd\s+slice AUC/);
  } finally {
    await remove();
  }
});
