import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { groupSplit, kFoldGroups, randomSplit } from '../../src/data/split.js';
import type { Sample } from '../../src/data/types.js';

/** `patients` patients per class, each with 1 to 5 slices. */
function cohort(perClass: Record<string, number>): Sample[] {
  const samples: Sample[] = [];
  let patient = 0;
  for (const [label, patients] of Object.entries(perClass)) {
    for (let p = 0; p < patients; p++, patient++) {
      for (let s = 0; s <= patient % 5; s++) samples.push({ path: `/data/${label}/p${patient}_s${s}.jpg`, label, patientId: `p${patient}` });
    }
  }
  return samples;
}

const stroke = cohort({ normal: 41, stroke: 25 });
const patientOf = (index: number) => stroke[index].patientId!;

describe('randomSplit', () => {
  test('fastai RandomSplitter: floor(validPct x n) validation samples, the rest training, every index once', () => {
    const { train, valid } = randomSplit(stroke, 0.2, 42);
    assert.equal(valid.length, Math.floor(0.2 * stroke.length));
    assert.deepEqual(
      [...train, ...valid].sort((a, b) => a - b),
      stroke.map((_, i) => i),
    );
  });

  test('same seed, same split; another seed, another split', () => {
    assert.deepEqual(randomSplit(stroke, 0.2, 1), randomSplit(stroke, 0.2, 1));
    assert.notDeepEqual(randomSplit(stroke, 0.2, 1).valid, randomSplit(stroke, 0.2, 2).valid);
  });

  test('an empty side is an error', () => {
    assert.throws(() => randomSplit(stroke.slice(0, 3), 0.2, 0), /validation side is empty/);
    assert.throws(() => randomSplit(stroke, 1, 0), /validPct must be between 0 and 1/);
  });
});

describe('groupSplit', () => {
  test('no patient on both sides, for any seed', () => {
    for (let seed = 0; seed < 100; seed++) {
      for (const stratify of [false, true]) {
        const { train, valid, validGroups } = groupSplit(stroke, { validPct: 0.2, seed, stratify });
        const trainPatients = new Set(train.map(patientOf));
        assert.ok(
          valid.every((i) => !trainPatients.has(patientOf(i))),
          `seed ${seed}`,
        );
        assert.deepEqual(validGroups, [...new Set(valid.map(patientOf))].sort());
        assert.equal(train.length + valid.length, stroke.length);
      }
    }
  });

  test('round(validPct x patients) patients go to validation', () => {
    assert.equal(groupSplit(stroke, { validPct: 0.2, seed: 3 }).validGroups.length, Math.round(0.2 * 66));
  });

  test('stratified: each class sends round(validPct x its patients)', () => {
    for (let seed = 0; seed < 20; seed++) {
      const { validGroups } = groupSplit(stroke, { validPct: 0.2, seed, stratify: true });
      const strokeGroups = validGroups.filter((g) => Number(g.slice(1)) >= 41);
      assert.deepEqual([validGroups.length - strokeGroups.length, strokeGroups.length], [8, 5], `seed ${seed}`);
    }
  });

  test('deterministic, and independent of the samples order', () => {
    const split = groupSplit(stroke, { validPct: 0.25, seed: 9, stratify: true });
    assert.deepEqual(groupSplit(stroke, { validPct: 0.25, seed: 9, stratify: true }), split);
    assert.deepEqual(groupSplit([...stroke].reverse(), { validPct: 0.25, seed: 9, stratify: true }).validGroups, split.validGroups);
  });

  test('groupBy chooses the groups', () => {
    const groupBy = (s: Sample) => `${s.label}-${Number(s.patientId!.slice(1)) % 3}`;
    const { validGroups } = groupSplit(stroke, { validPct: 0.5, seed: 0, groupBy, stratify: true });
    assert.equal(validGroups.length, 4);
    assert.ok(validGroups.every((g) => /^(normal|stroke)-[0-2]$/.test(g)));
  });

  test('errors: a sample without a patient id, an empty side, a class without training patients', () => {
    assert.throws(() => groupSplit([...stroke, { path: '/x.jpg', label: 'normal' }], { validPct: 0.2, seed: 0 }), { message: /^\/x\.jpg: no patient id/ });
    assert.throws(() => groupSplit(cohort({ normal: 2 }), { validPct: 0.2, seed: 0 }), /validation side is empty/);
    assert.throws(() => groupSplit(cohort({ normal: 4, rare: 1 }), { validPct: 0.5, seed: 0, stratify: true }), /no training samples of class rare/);
  });
});

describe('kFoldGroups', () => {
  test('every patient validates in exactly one fold and never trains there', () => {
    const folds = kFoldGroups(stroke, 5, 7, { stratify: true });
    assert.equal(folds.length, 5);
    const validated = folds.flatMap((fold) => fold.validGroups).sort();
    assert.deepEqual(validated, [...new Set(stroke.map((s) => s.patientId!))].sort());
    for (const { train, validGroups } of folds) {
      const held = new Set(validGroups);
      assert.ok(train.every((i) => !held.has(patientOf(i))));
    }
  });

  test('stratified folds are balanced: sizes differ by at most 1, per class too', () => {
    const folds = kFoldGroups(stroke, 5, 7, { stratify: true });
    const counts = (filter: (g: string) => boolean) => folds.map((fold) => fold.validGroups.filter(filter).length);
    for (const sizes of [counts(() => true), counts((g) => Number(g.slice(1)) < 41), counts((g) => Number(g.slice(1)) >= 41)]) {
      assert.ok(Math.max(...sizes) - Math.min(...sizes) <= 1, String(sizes));
    }
  });

  test('deterministic; k must be between 2 and the patient count', () => {
    assert.deepEqual(kFoldGroups(stroke, 4, 1), kFoldGroups(stroke, 4, 1));
    assert.throws(() => kFoldGroups(stroke, 1, 0), /k must be an integer from 2 to the number of groups \(66\)/);
    assert.throws(() => kFoldGroups(cohort({ a: 3, b: 1 }), 2, 0, { stratify: true }), /fold \d of 2: no training samples of class b/);
  });
});
