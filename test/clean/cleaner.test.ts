import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Cleaner, CleanError } from '../../src/clean/index.js';
import { tempFolder } from '../data/helpers/tiny-images.js';
import { STUDY_MODEL_PATIENT_SCORE } from '../../src/learn/metrics.js';
import { CLASS_FOLDER_FILES, fakeScorer, fakeStudyScorer, PROBABILITY_OF_A, writePngs } from './helpers.js';

test('images of a class, highest loss first, with prediction, probability, loss and split side', async () => {
  const { root, remove } = await tempFolder();
  try {
    await writePngs(root, CLASS_FOLDER_FILES);
    const model = fakeScorer(PROBABILITY_OF_A);
    const cleaner = await Cleaner.open({ data: root, model, validPct: 0.5, seed: 1 });
    assert.equal(model.asked, 8, 'every image predicted once');
    assert.deepEqual(cleaner.classes, ['a', 'b']);

    const images = cleaner.images('a', 'all');
    assert.deepEqual(
      images.map((i) => i.id),
      ['a/p2_s0.png', 'a/p1_s1.png', 'a/p2_s1.png', 'a/p1_s0.png'],
    );
    assert.equal(images[0].error, 'cannot decode');
    assert.equal(images[0].loss, null);
    assert.deepEqual(
      { ...images[1], loss: images[1].loss!.toFixed(4), probability: images[1].probability!.toFixed(2) },
      {
        id: 'a/p1_s1.png',
        path: 'a/p1_s1.png',
        label: 'a',
        predicted: 'b',
        probability: '0.90',
        loss: (-Math.log(0.1)).toFixed(4),
        side: images[1].side,
      },
    );
    const train = cleaner.images('a', 'train').map((i) => i.id);
    const valid = cleaner.images('a', 'valid').map((i) => i.id);
    assert.deepEqual([...train, ...valid].sort(), images.map((i) => i.id).sort());
    // Split by patient: both slices of a patient on one side.
    assert.equal(new Set(valid.map((id) => id.slice(2, 4))).size, 1);

    assert.throws(
      () => cleaner.images('zebra', 'all'),
      (e) => e instanceof CleanError && e.kind === 'invalid' && /unknown class "zebra"/.test(e.message),
    );
    assert.throws(
      () => cleaner.images('a', 'test' as never),
      (e) => e instanceof CleanError && /unknown side "test"/.test(e.message),
    );
    assert.equal(cleaner.imagePath('a/p1_s0.png'), join(root, 'a/p1_s0.png'));
    assert.throws(
      () => cleaner.imagePath('../a/p1_s0.png'),
      (e) => e instanceof CleanError && e.kind === 'invalid',
    );
    assert.throws(
      () => cleaner.imagePath('a/nope.png'),
      (e) => e instanceof CleanError && e.kind === 'not-found',
    );
  } finally {
    await remove();
  }
});

test('a relabelled image keeps its prediction and side under its new class, and comes back on undo', async () => {
  const { root, remove } = await tempFolder();
  try {
    await writePngs(root, CLASS_FOLDER_FILES);
    const model = fakeScorer(PROBABILITY_OF_A);
    const cleaner = await Cleaner.open({ data: root, model, validPct: 0.5, seed: 1 });
    const before = cleaner.images('a', 'all').find((i) => i.id === 'a/p1_s1.png')!;
    await cleaner.apply({ 'a/p1_s1.png': { relabel: 'b' }, 'b/p4_s0.png': 'delete' });
    const moved = cleaner.images('b', 'all').find((i) => i.id === 'b/p1_s1.png')!;
    assert.deepEqual({ label: moved.label, predicted: moved.predicted, side: moved.side }, { label: 'b', predicted: 'b', side: before.side });
    assert.ok(moved.loss! < 0.2, 'the new label agrees with the model');
    assert.ok(!cleaner.images('b', 'all').some((i) => i.id === 'b/p4_s0.png'));
    await cleaner.undo();
    assert.deepEqual(
      cleaner.images('a', 'all').find((i) => i.id === 'a/p1_s1.png'),
      before,
    );
    assert.equal(model.asked, 8, 'no image predicted twice');
  } finally {
    await remove();
  }
});

test('patients of a class, highest patient-level loss first, each scored as the evaluation scores a patient; images most in favour of the prediction first', async () => {
  const { root, remove } = await tempFolder();
  try {
    await writePngs(root, CLASS_FOLDER_FILES);
    const cleaner = await Cleaner.open({ data: root, model: fakeScorer(PROBABILITY_OF_A), validPct: 0.5, seed: 1 });
    // p1: slices 0.9 / 0.1 for a (mean of both: 0.5, a tie goes to the first class); p2: one readable slice, 0.6 for a.
    const a = cleaner.patients('a', 'all');
    assert.deepEqual(
      a.map((p) => [p.patient, p.predicted, p.loss!.toFixed(4)]),
      [
        ['p1', 'a', (-Math.log(0.5)).toFixed(4)],
        ['p2', 'a', (-Math.log(0.6)).toFixed(4)],
      ],
    );
    assert.deepEqual(
      a[1].images.map((i) => i.id),
      ['a/p2_s1.png', 'a/p2_s0.png'],
      'the unreadable slice last',
    );
    assert.equal(a[0].side, cleaner.images('a', 'all').find((i) => i.id === 'a/p1_s0.png')!.side, 'a patient sits on one side of a patient split');
    // p3: 0.2 / 0.7 for a, so b 0.55; p4: 0.05 / 0.4, so b 0.775.
    const b = cleaner.patients('b', 'all');
    assert.deepEqual(
      b.map((p) => [p.patient, p.predicted, p.probability!.toFixed(3)]),
      [
        ['p3', 'b', '0.550'],
        ['p4', 'b', '0.775'],
      ],
    );
    assert.deepEqual(
      b[0].images.map((i) => i.id),
      ['b/p3_s0.png', 'b/p3_s1.png'],
      'most in favour of b first',
    );
    assert.deepEqual(
      cleaner.patients('b', a[0].side === 'train' ? 'valid' : 'train').map((p) => p.side),
      [a[0].side === 'train' ? 'valid' : 'train'],
    );

    // A patient relabelled as a whole: one decision per image, all of them.
    await cleaner.apply(Object.fromEntries(b[1].images.map((i) => [i.id, { relabel: 'a' }])));
    assert.deepEqual(
      cleaner
        .patients('a', 'all')
        .find((p) => p.patient === 'p4')!
        .images.map((i) => i.id)
        .sort(),
      ['a/p4_s0.png', 'a/p4_s1.png'],
    );

    await writePngs(root, ['a/scan.png']);
    const withOrphan = await Cleaner.open({ data: root, model: fakeScorer(PROBABILITY_OF_A), validPct: 0.5, seed: 1, splitBy: 'random' });
    assert.throws(
      () => withOrphan.patients('a', 'all'),
      (e) => e instanceof CleanError && e.kind === 'invalid' && /a\/scan\.png has no patient id/.test(e.message),
    );
  } finally {
    await remove();
  }
});

test('with a study model, images ranked by their own slice scores and patients by the study prediction, predicted again when a slice is deleted or restored', async () => {
  const { root, remove } = await tempFolder();
  try {
    await writePngs(root, [...CLASS_FOLDER_FILES, 'a/p5_s0.png']);
    const model = fakeStudyScorer(PROBABILITY_OF_A);
    const cleaner = await Cleaner.open({ data: root, model, validPct: 0.5, seed: 1 });
    assert.deepEqual(
      model.studies.map((files) => files.join(' ')).sort(),
      ['p1_s0.png p1_s1.png', 'p2_s0.png p2_s1.png', 'p3_s0.png p3_s1.png', 'p4_s0.png p4_s1.png', 'p5_s0.png'],
      'each patient predicted once, as one study',
    );
    assert.equal(cleaner.patientScoring, STUDY_MODEL_PATIENT_SCORE);
    const sliceModel = await Cleaner.open({ data: root, model: fakeScorer(PROBABILITY_OF_A), validPct: 0.5, seed: 1 });
    assert.deepEqual(
      cleaner.images('a', 'all'),
      sliceModel.images('a', 'all').map((item) => (item.id === 'a/p5_s0.png' ? { ...item, error: 'study p5: none of its 1 slices could be read' } : item)),
      "a study model's slice scores rank images as a slice model's would",
    );

    // p1: the least of 0.9 and 0.1 for a, so b at 0.9 (the top-slice mean would say a at 0.5); p2: 0.6; p5: unreadable.
    const a = cleaner.patients('a', 'all');
    assert.deepEqual(
      a.map((p) => [p.patient, p.predicted, p.probability?.toFixed(2) ?? null]),
      [
        ['p5', null, null],
        ['p1', 'b', '0.90'],
        ['p2', 'a', '0.60'],
      ],
    );
    const sides = cleaner.images('a', 'all').map((item) => [item.id, item.side]);

    await cleaner.apply({ 'b/p3_s0.png': { relabel: 'a' } });
    assert.equal(model.studies.length, 5, 'a relabel does not change a prediction');
    await cleaner.apply({ 'a/p1_s1.png': 'delete' });
    assert.deepEqual(model.studies.slice(5), [['p1_s0.png']], 'the patient a slice was deleted from is predicted again');
    assert.deepEqual(cleaner.patients('a', 'all').find((p) => p.patient === 'p1')!.predicted, 'a');
    await cleaner.undo();
    assert.deepEqual(model.studies.slice(6), [['p1_s0.png', 'p1_s1.png']], 'and again when it is restored');
    assert.deepEqual(
      cleaner
        .patients('a', 'all')
        .find((p) => p.patient === 'p1')!
        .probability!.toFixed(2),
      '0.90',
    );
    assert.deepEqual(
      cleaner
        .images('a', 'all')
        .filter((item) => !item.id.startsWith('a/p3'))
        .map((item) => [item.id, item.side])
        .sort(),
      sides.sort(),
      'every image keeps its split side',
    );
  } finally {
    await remove();
  }
});
