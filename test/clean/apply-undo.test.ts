import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { applyDecisions, undoLastBatch, CleanError, LOG_NAME } from '../../src/clean/index.js';
import { datasetFromPath } from '../../src/data/sources/index.js';
import { tempFolder } from '../data/helpers/tiny-images.js';
import { CLASS_FOLDER_FILES, logEntries, snapshot, writeManifestDataset, writePngs } from './helpers.js';

async function classFolders(run: (root: string) => Promise<void>): Promise<void> {
  const { root, remove } = await tempFolder();
  try {
    await writePngs(root, CLASS_FOLDER_FILES);
    await run(root);
  } finally {
    await remove();
  }
}

function refusal(kind: CleanError['kind'], pattern: RegExp): (error: unknown) => boolean {
  return (error) => {
    assert.ok(error instanceof CleanError, String(error));
    assert.equal(error.kind, kind);
    assert.match(error.message, pattern);
    return true;
  };
}

test('relabel moves the file to its class folder, delete moves it to the trash, both logged; undo restores exactly', () =>
  classFolders(async (root) => {
    const before = await snapshot(root);
    const result = await applyDecisions(root, {
      'a/p1_s0.png': { relabel: 'b' },
      'b/p3_s1.png': 'delete',
      'a/p2_s0.png': 'keep',
      'a/p2_s1.png': { relabel: 'a' },
    });
    const batch = result.batch!;
    assert.match(batch, /^\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d-\d{3}Z$/);
    assert.ok(!existsSync(join(root, 'a/p1_s0.png')));
    assert.equal(await snapshot(root).then((s) => s['b/p1_s0.png']), before['a/p1_s0.png']);
    assert.equal(await snapshot(root).then((s) => s[`.trash/${batch}/b/p3_s1.png`]), before['b/p3_s1.png']);

    const dataset = await datasetFromPath(root);
    assert.equal(dataset.samples.find((s) => s.path.endsWith('p1_s0.png'))?.label, 'b');
    assert.ok(!dataset.samples.some((s) => s.path.endsWith('p3_s1.png')), 'the trash is hidden from the loaders');

    const log = await logEntries(root);
    assert.deepEqual(
      log.map(({ action, from, to }) => ({ action, from, to })),
      [
        { action: 'mkdir', from: undefined, to: '.trash' },
        { action: 'mkdir', from: undefined, to: `.trash/${batch}` },
        { action: 'mkdir', from: undefined, to: `.trash/${batch}/b` },
        { action: 'delete', from: 'b/p3_s1.png', to: `.trash/${batch}/b/p3_s1.png` },
        { action: 'relabel', from: 'a/p1_s0.png', to: 'b/p1_s0.png' },
      ],
    );
    assert.ok(log.every((entry) => entry.batch === batch && typeof entry.time === 'string'));
    assert.deepEqual(result.changes, log);

    const undo = await undoLastBatch(root);
    assert.equal(undo.undid, batch);
    assert.deepEqual(await snapshot(root), before, 'every file back, the trash gone');
    const undoEntries = (await logEntries(root)).slice(log.length);
    assert.ok(undoEntries.every((entry) => entry.undoes === batch && entry.batch === undo.batch));
    assert.deepEqual(
      undoEntries.filter((e) => e.action !== 'rmdir').map(({ action, from, to }) => ({ action, from, to })),
      [
        { action: 'relabel', from: 'b/p1_s0.png', to: 'a/p1_s0.png' },
        { action: 'restore', from: `.trash/${batch}/b/p3_s1.png`, to: 'b/p3_s1.png' },
      ],
    );
    await assert.rejects(undoLastBatch(root), refusal('conflict', /nothing to undo/));
  }));

test('undo goes back one batch at a time; a class folder emptied by a relabel is removed and comes back', () =>
  classFolders(async (root) => {
    const before = await snapshot(root);
    await applyDecisions(root, { 'a/p1_s0.png': 'delete' });
    const afterFirst = await snapshot(root);
    const all = Object.fromEntries(CLASS_FOLDER_FILES.filter((f) => f.startsWith('b/')).map((f) => [f, { relabel: 'c' }]));
    await applyDecisions(root, all, { classes: ['c'] });
    assert.ok(!existsSync(join(root, 'b')), 'an empty class folder would make the dataset unreadable');
    assert.deepEqual((await datasetFromPath(root)).classes, ['a', 'c']);

    await undoLastBatch(root);
    assert.deepEqual(await snapshot(root), afterFirst);
    await undoLastBatch(root);
    assert.deepEqual(await snapshot(root), before);
  }));

test('refusals: paths outside the dataset, unknown files and classes, malformed decisions, overwrites; nothing changes', () =>
  classFolders(async (root) => {
    await writePngs(root, ['b/p1_s0.png']);
    const before = await snapshot(root);
    const cases: [Record<string, unknown>, CleanError['kind'], RegExp][] = [
      [{ '../outside.png': 'delete' }, 'invalid', /leads outside the dataset folder/],
      [{ 'a/../../outside.png': 'delete' }, 'invalid', /leads outside/],
      [{ '/etc/passwd': 'delete' }, 'invalid', /leads outside/],
      [{ '.': 'delete' }, 'invalid', /leads outside/],
      [{ 'a/missing.png': 'delete' }, 'not-found', /a\/missing\.png is not an image of the dataset/],
      [{ [LOG_NAME]: 'delete' }, 'not-found', /not an image of the dataset/],
      [{ 'a/p2_s0.png': { relabel: 'zebra' } }, 'invalid', /unknown class "zebra" \(classes: a, b\)/],
      [{ 'a/p2_s0.png': 'remove' }, 'invalid', /must be "keep", "delete" or \{"relabel": class\}/],
      [{ 'a/p1_s0.png': { relabel: 'b' } }, 'conflict', /b\/p1_s0\.png already exists; refusing to overwrite/],
      [{ 'a/p2_s0.png': 'delete', 'a/p1_s0.png': { relabel: 'b' } }, 'conflict', /already exists/],
    ];
    for (const [decisions, kind, pattern] of cases) {
      await assert.rejects(applyDecisions(root, decisions as never), refusal(kind, pattern), JSON.stringify(decisions));
      assert.deepEqual(await snapshot(root), before, JSON.stringify(decisions));
    }
    await assert.rejects(applyDecisions(root, { 'a/p2_s0.png': { relabel: '../x' } }, { classes: ['../x'] }), refusal('invalid', /cannot be a folder name/));
    assert.ok(!existsSync(join(root, LOG_NAME)), 'a refused batch logs nothing');
  }));

test('two images that would land on one path are refused', () =>
  classFolders(async (root) => {
    await writePngs(root, ['c/p1_s0.png']);
    await assert.rejects(
      applyDecisions(root, { 'a/p1_s0.png': { relabel: 'b' }, 'c/p1_s0.png': { relabel: 'b' } }),
      refusal('conflict', /would both become b\/p1_s0\.png/),
    );
  }));

test('undo refuses, changing nothing, when a moved file is gone or its old place is taken', () =>
  classFolders(async (root) => {
    await applyDecisions(root, { 'a/p1_s0.png': { relabel: 'b' }, 'a/p1_s1.png': 'delete' });
    await writePngs(root, ['a/p1_s0.png']);
    const taken = await snapshot(root);
    await assert.rejects(undoLastBatch(root), refusal('conflict', /a\/p1_s0\.png already exists; refusing to overwrite/));
    assert.deepEqual(await snapshot(root), taken);

    await rm(join(root, 'a/p1_s0.png'));
    await rm(join(root, 'b/p1_s0.png'));
    const gone = await snapshot(root);
    await assert.rejects(undoLastBatch(root), refusal('conflict', /b\/p1_s0\.png is no longer there/));
    assert.deepEqual(await snapshot(root), gone);
  }));

test('a manifest dataset: relabel edits the label column, delete drops the row; undo restores the manifest byte for byte', async () => {
  const { root, remove } = await tempFolder();
  try {
    await writeManifestDataset(root);
    const before = await snapshot(root);
    const manifestBefore = await readFile(join(root, 'manifest.csv'), 'utf8');
    const { batch } = await applyDecisions(root, { 'images/p1_s0.png': { relabel: 'b' }, 'images/p3_s1.png': 'delete' });
    assert.ok(existsSync(join(root, 'images/p1_s0.png')), 'a manifest relabel moves no file');
    assert.ok(existsSync(join(root, `.trash/${batch}/images/p3_s1.png`)));
    assert.equal(await readFile(join(root, `.trash/${batch}/manifest.csv`), 'utf8'), manifestBefore, 'the previous manifest is kept');
    assert.equal(
      await readFile(join(root, 'manifest.csv'), 'utf8'),
      'path,label,patient_id,slice_index,"note, free text"\r\nimages/p1_s0.png,b,p1,0,\r\nimages/p1_s1.png,a,p1,1,\r\nimages/p3_s0.png,b,p3,0,\r\n',
    );
    const dataset = await datasetFromPath(root);
    assert.deepEqual(
      dataset.samples.map((s) => s.label),
      ['b', 'a', 'b'],
    );
    const relabel = (await logEntries(root)).find((e) => e.action === 'relabel');
    assert.deepEqual(relabel && { from: relabel.from, to: relabel.to, label: relabel.label }, {
      from: 'images/p1_s0.png',
      to: 'images/p1_s0.png',
      label: { from: 'a', to: 'b' },
    });

    await undoLastBatch(root);
    assert.deepEqual(await snapshot(root), before);
    assert.deepEqual(await readdir(root).then((names) => names.sort()), [LOG_NAME, 'images', 'manifest.csv']);
  } finally {
    await remove();
  }
});

test('undo refuses to replace a manifest edited after the batch', async () => {
  const { root, remove } = await tempFolder();
  try {
    await writeManifestDataset(root);
    await applyDecisions(root, { 'images/p1_s0.png': { relabel: 'b' } });
    await writeFile(join(root, 'manifest.csv'), (await readFile(join(root, 'manifest.csv'), 'utf8')) + 'images/p1_s1.png,b,p1,1,\r\n');
    const edited = await snapshot(root);
    await assert.rejects(undoLastBatch(root), refusal('conflict', /manifest\.csv was edited after the batch was applied/));
    assert.deepEqual(await snapshot(root), edited);
  } finally {
    await remove();
  }
});
