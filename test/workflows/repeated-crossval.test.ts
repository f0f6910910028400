import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writePhantomDataset } from '../../src/data/phantoms/index.js';
import type { CrossvalResult, PatientOutOfFold } from '../../src/workflows/crossval.js';
import { crossval } from '../../src/workflows/crossval.js';
import { repeatedCrossval, repeatedRecipeCrossval } from '../../src/workflows/repeated-crossval.js';
import { LINEAR_STUDY } from '../../src/workflows/recipes/linear-study.js';
import type { StudyRecipe } from '../../src/workflows/recipes/study.js';
import { tempFolder } from '../data/helpers/tiny-images.js';

const patient = (id: string, label: string, fold: number, pA: number): PatientOutOfFold => ({
  patient: id,
  label,
  folds: [fold],
  probabilities: { a: pA, b: 1 - pA },
  loss: -Math.log(label === 'a' ? pA : 1 - pA),
});

/** A cross-validation's result with the given fold means and patients; nothing else matters to the summary. */
function canned(sliceAuc: number, patientAuc: number, patients: PatientOutOfFold[]): CrossvalResult {
  const at = (mean: number) => ({ mean, sd: 0.1 });
  return {
    classes: ['a', 'b'],
    folds: [],
    sliceAuc: at(sliceAuc),
    patientAuc: at(patientAuc),
    accuracy: at(0.5),
    seconds: 1,
    oofPath: '',
    oofPatientsPath: '',
    patients,
  };
}

test('repeated cross-validation: one run per partition, each seeded and in its own folder; the mean and sd of their means; patients averaged over them', async () => {
  const { root, remove } = await tempFolder();
  try {
    const calls: [number, string][] = [];
    const runs = [
      canned(0.6, 0.7, [patient('p1', 'a', 1, 0.2), patient('p2', 'b', 2, 0.4)]),
      canned(0.7, 0.8, [patient('p2', 'b', 1, 0.8), patient('p1', 'a', 2, 0.6)]),
      canned(0.8, 0.9, [patient('p1', 'a', 2, 0.4), patient('p2', 'b', 1, 0.9)]),
    ];
    const lines: string[] = [];
    const result = await repeatedCrossval(
      { out: root, seed: 7, partitions: 3, log: (l) => lines.push(l) },
      async (seed, out) => (calls.push([seed, out]), runs[calls.length - 1]),
    );
    assert.deepEqual(calls, [
      [7, join(root, 'partition-1')],
      [1007, join(root, 'partition-2')],
      [2007, join(root, 'partition-3')],
    ]);
    assert.ok(Math.abs(result.sliceAuc.mean - 0.7) < 1e-12 && Math.abs(result.sliceAuc.sd - 0.1) < 1e-12, "mean and sample sd over the partitions' means");
    assert.ok(Math.abs(result.patientAuc.mean - 0.8) < 1e-12);
    // p1 (label a): 0.2, 0.6, 0.4 -> a 0.4; p2 (label b): a 0.4, 0.8, 0.9 -> b 0.3: p2's loss is the higher.
    assert.deepEqual(
      result.patients.map((p) => [p.patient, p.probabilities.a.toFixed(3), p.folds]),
      [
        ['p2', '0.700', [2, 1, 1]],
        ['p1', '0.400', [1, 2, 2]],
      ],
    );
    assert.ok(Math.abs(result.patients[0].loss + Math.log(0.3)) < 1e-9);
    const csv = readFileSync(join(root, 'oof-patients.csv'), 'utf8').trim().split('\n');
    assert.deepEqual(
      csv.map((row) => row.split(',').slice(0, 3).join(',')),
      ['patient_id,label,fold', 'p2,b,2 1 1', 'p1,a,1 2 2'],
    );
    const saved = JSON.parse(readFileSync(join(root, 'crossval.json'), 'utf8'));
    assert.deepEqual(
      saved.partitions.map((p: { seed: number }) => p.seed),
      [7, 1007, 2007],
    );
    assert.match(lines.join('\n'), /mean \+\/- sd over partitions: slice AUC 0\.700 \+\/- 0\.100, patient AUC 0\.800 \+\/- 0\.100/);
    assert.match(lines.join('\n'), /highest out-of-fold loss .*: p2: b -> a \(mean p 0\.70 over 3 partitions\), p1: a -> b \(mean p 0\.60 over 3 partitions\)/);
    await assert.rejects(
      repeatedCrossval({ out: root, seed: 7, partitions: 1 }, async () => runs[0]),
      /at least 2 partitions, got 1/,
    );
  } finally {
    await remove();
  }
});

test('a repeated study cross-validation embeds the slices once; each partition is the cross-validation of its seed', async () => {
  const { root, remove } = await tempFolder();
  try {
    const data = join(root, 'data');
    await writePhantomDataset(data, { patients: 6, slices: 2, seed: 4, format: 'png', size: 48 });
    const recipe: StudyRecipe = { arch: 'resnet18', pretrained: 'none', size: 32, stages: [4], pooling: 'avg', head: 'linear', l2: 0.01 };
    const lines: string[] = [];
    const result = await repeatedRecipeCrossval(LINEAR_STUDY, {
      data,
      out: join(root, 'cv'),
      folds: 2,
      seed: 3,
      partitions: 2,
      options: recipe,
      log: (l) => lines.push(l),
    });
    assert.equal(lines.filter((l) => l.startsWith('embedding 12 slices')).length, 1, 'one embedding pass');
    assert.match(lines.join('\n'), /embedding every slice once, for all partitions: \d+ s/);
    const second = await crossval(LINEAR_STUDY, { data, out: join(root, 'single'), folds: 2, seed: 1003, options: recipe, log: () => {} });
    assert.deepEqual(
      JSON.parse(readFileSync(join(root, 'cv', 'partition-2', 'crossval.json'), 'utf8')).folds.map((f: { validPatients: string[]; sliceAuc: number }) => [
        f.validPatients,
        f.sliceAuc.toFixed(6),
      ]),
      second.folds.map((f) => [f.validPatients, f.sliceAuc.toFixed(6)]),
    );
    assert.equal(result.patients.length, 6);
    assert.ok(
      result.patients.every((p) => p.folds.length === 2),
      'each patient validated once per partition',
    );
  } finally {
    await remove();
  }
});

test('findstroke crossval --repeats runs the partitions and prints the summary', async () => {
  const { root, remove } = await tempFolder();
  try {
    const data = join(root, 'data');
    await writePhantomDataset(data, { patients: 6, slices: 2, seed: 6, format: 'png', size: 48 });
    const cli = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
    const out = execFileSync(
      process.execPath,
      [
        '--import',
        'tsx',
        cli,
        'crossval',
        data,
        '--recipe',
        'study-linear',
        '--arch',
        'resnet18',
        '--no-pretrained',
        '--size',
        '32',
        '--folds',
        '2',
        '--repeats',
        '2',
        '--out',
        join(root, 'cv'),
      ],
      { encoding: 'utf8' },
    );
    assert.match(out, /repeated patient-grouped cross-validation: 2 partitions of the patients into folds/);
    assert.match(out, /partition 2\/2 \(seed 1042\)/);
  } finally {
    await remove();
  }
});
