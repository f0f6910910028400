import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writePhantomDataset } from '../../src/data/phantoms/index.js';
import { crossval, meanSd } from '../../src/workflows/crossval.js';
import { FINE_TUNE } from '../../src/workflows/recipes/fine-tune.js';
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
    const result = await crossval(FINE_TUNE, {
      data,
      out,
      folds: 2,
      options: { arch: 'resnet18', pretrained: 'none', size: 32, batchSize: 4, epochs: 1, seed: 1 },
      seed: 1,
      log: (l) => lines.push(l),
    });
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
    // Patients out of fold, highest loss first, each scored as the evaluation scores a patient (top slices' mean, renormalised).
    const [patientHeader, ...patientRows] = readFileSync(join(out, 'oof-patients.csv'), 'utf8').trim().split('\n');
    assert.equal(patientHeader, 'patient_id,label,fold,loss,predicted,prob_haemorrhagicStroke,prob_ischaemicStroke,prob_normalBrain');
    assert.equal(patientRows.length, 6, 'one row per patient');
    const losses = patientRows.map((row) => Number(row.split(',')[3]));
    assert.deepEqual(
      losses,
      [...losses].sort((a, b) => b - a),
      'highest loss first',
    );
    const classes = ['haemorrhagicStroke', 'ischaemicStroke', 'normalBrain'];
    for (const row of patientRows) {
      const [patient, label, , loss, , ...probs] = row.split(',');
      const slices = oof
        .slice(1)
        .map((r) => r.split(','))
        .filter((cells) => cells[1] === patient);
      const means = classes.map((_, c) => slices.reduce((a, cells) => a + Number(cells[4 + c]), 0) / slices.length);
      const total = means.reduce((a, b) => a + b, 0);
      probs.forEach((p, c) => assert.ok(Math.abs(Number(p) - means[c] / total) < 1e-4, `${patient} ${classes[c]}: ${p}`));
      assert.ok(Math.abs(Number(loss) + Math.log(Number(probs[classes.indexOf(label)]))) < 1e-4, `${patient}: loss of its label`);
    }
    assert.match(
      lines.join('\n'),
      new RegExp(`patients with the highest out-of-fold loss \\(check these first for a wrong label\\): ${patientRows[0].split(',')[0]}: `),
    );
    const saved = JSON.parse(readFileSync(join(out, 'crossval.json'), 'utf8'));
    for (const key of ['sliceAuc', 'patientAuc', 'accuracy']) assert.ok('mean' in saved[key] && 'sd' in saved[key], key);
    assert.match(lines.join('\n'), /mean \+\/- sd\s+slice AUC/);
  } finally {
    await remove();
  }
});
