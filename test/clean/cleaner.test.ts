import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Cleaner, CleanError } from '../../src/clean/index.js';
import { tempFolder } from '../data/helpers/tiny-images.js';
import { CLASS_FOLDER_FILES, fakeScorer, PROBABILITY_OF_A, writePngs } from './helpers.js';

test('images of a class, highest loss first, with prediction, probability, loss and split side', async () => {
  const { root, remove } = await tempFolder();
  try {
    await writePngs(root, CLASS_FOLDER_FILES);
    const model = fakeScorer(PROBABILITY_OF_A);
    const cleaner = await Cleaner.open({ data: root, model, validPct: 0.5, seed: 1 });
    assert.equal(model.asked, 8, 'every image predicted once');
    assert.deepEqual(cleaner.classes, ['a', 'b']);

    const images = cleaner.images('a', 'all');
    assert.deepEqual(images.map((i) => i.id), ['a/p2_s0.png', 'a/p1_s1.png', 'a/p2_s1.png', 'a/p1_s0.png']);
    assert.equal(images[0].error, 'cannot decode');
    assert.equal(images[0].loss, null);
    assert.deepEqual({ ...images[1], loss: images[1].loss!.toFixed(4), probability: images[1].probability!.toFixed(2) }, {
      id: 'a/p1_s1.png', path: 'a/p1_s1.png', label: 'a', predicted: 'b', probability: '0.90', loss: (-Math.log(0.1)).toFixed(4), side: images[1].side,
    });
    const train = cleaner.images('a', 'train').map((i) => i.id);
    const valid = cleaner.images('a', 'valid').map((i) => i.id);
    assert.deepEqual([...train, ...valid].sort(), images.map((i) => i.id).sort());
    // Split by patient: both slices of a patient on one side.
    assert.equal(new Set(valid.map((id) => id.slice(2, 4))).size, 1);

    assert.throws(() => cleaner.images('zebra', 'all'), (e) => e instanceof CleanError && e.kind === 'invalid' && /unknown class "zebra"/.test(e.message));
    assert.throws(() => cleaner.images('a', 'test' as never), (e) => e instanceof CleanError && /unknown side "test"/.test(e.message));
    assert.equal(cleaner.imagePath('a/p1_s0.png'), join(root, 'a/p1_s0.png'));
    assert.throws(() => cleaner.imagePath('../a/p1_s0.png'), (e) => e instanceof CleanError && e.kind === 'invalid');
    assert.throws(() => cleaner.imagePath('a/nope.png'), (e) => e instanceof CleanError && e.kind === 'not-found');
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
    assert.deepEqual(cleaner.images('a', 'all').find((i) => i.id === 'a/p1_s1.png'), before);
    assert.equal(model.asked, 8, 'no image predicted twice');
  } finally {
    await remove();
  }
});
