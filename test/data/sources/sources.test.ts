import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { datasetFromPath, fromClassFolders, fromFileNames, fromManifest, manifestText } from '../../../src/data/sources/index.js';
import { missingSharedData, sharedData } from '../../helpers/shared-data.js';
import { tempFolder, writeDicom, writeImage } from '../helpers/tiny-images.js';

let root: string;
let remove: () => Promise<void>;
const tiny = { width: 2, height: 2, channels: 1 } as const;

before(async () => {
  ({ root, remove } = await tempFolder());
  // Classes out of alphabetical order on disk; a nested patient folder; a file that is not an image.
  await writeImage(join(root, 'folders/stroke/p002_s001.png'), tiny);
  await writeImage(join(root, 'folders/stroke/p002_s002.jpg'), tiny);
  await writeImage(join(root, 'folders/normal/p001_s001.png'), tiny);
  await writeImage(join(root, 'folders/Haemorrhage/p003/scan_01.png'), tiny);
  await writeFile(join(root, 'folders/normal/notes.txt'), 'ignore me');
  await writeImage(join(root, 'names/normalBrain_1.png'), tiny);
  await writeImage(join(root, 'names/ischaemicStroke_2.png'), tiny);
  await writeImage(join(root, 'names/haemorrhagicStroke_3.png'), tiny);
});
after(() => remove());

describe('fromClassFolders', () => {
  test('labels by class folder, sorts classes as fastai, finds patient ids in pNNN_ names', async () => {
    const dataset = await fromClassFolders(join(root, 'folders'));
    assert.deepEqual(dataset.classes, ['Haemorrhage', 'normal', 'stroke']);
    assert.deepEqual(
      dataset.samples.map((s) => [basename(s.path), s.label, s.patientId]),
      [
        ['scan_01.png', 'Haemorrhage', undefined],
        ['p001_s001.png', 'normal', 'p001'],
        ['p002_s001.png', 'stroke', 'p002'],
        ['p002_s002.jpg', 'stroke', 'p002'],
      ],
    );
  });

  test('classes and patientIdFrom options', async () => {
    const dataset = await fromClassFolders(join(root, 'folders'), { classes: ['stroke'], patientIdFrom: /_(s\d+)\./ });
    assert.deepEqual(dataset.classes, ['stroke']);
    assert.deepEqual(
      dataset.samples.map((s) => s.patientId),
      ['s001', 's002'],
    );
  });

  test('errors: missing root, missing class folder, class folder without images', async () => {
    const missing = join(root, 'nowhere');
    await assert.rejects(fromClassFolders(missing), { message: `${missing}: folder does not exist` });
    await assert.rejects(fromClassFolders(join(root, 'folders'), { classes: ['normal', 'absent'] }), {
      message: `${join(root, 'folders/absent')}: folder does not exist`,
    });
    await assert.rejects(fromClassFolders(join(root, 'folders'), { extensions: ['.webp'] }), /Haemorrhage: class folder has no images \(\.webp\)$/);
    await assert.rejects(fromClassFolders(join(root, 'names')), /names: has no class folders/);
  });
});

describe('fromFileNames', () => {
  test('a RegExp labels from the file name (first group), as fastai label_func', async () => {
    const dataset = await fromFileNames(join(root, 'names'), /^([a-zA-Z]+)_\d+/);
    assert.deepEqual(dataset.classes, ['haemorrhagicStroke', 'ischaemicStroke', 'normalBrain']);
    assert.equal(dataset.samples.length, 3);
  });

  test('a function gets the absolute path', async () => {
    const dataset = await fromFileNames(join(root, 'names'), (path) => (path.includes('Stroke') ? 'stroke' : 'normal'));
    assert.deepEqual(dataset.classes, ['normal', 'stroke']);
    assert.ok(dataset.samples.every((s) => s.path.startsWith(root)));
  });

  test('a name the pattern does not match is an error naming the file', async () => {
    await assert.rejects(fromFileNames(join(root, 'names'), /^normal/), new RegExp(`haemorrhagicStroke_3\\.png: file name does not match /\\^normal/$`));
  });
});

describe('fromManifest', () => {
  test('reads path,label[,patient_id][,slice_index] with extra columns and quoted fields, paths relative to the CSV', async () => {
    const csv = join(root, 'folders/manifest.csv');
    await writeDicom(join(root, 'folders/dicom/17106'));
    await writeFile(
      csv,
      'path,label,patient_id,slice_index,note\nstroke/p002_s001.png,stroke,P2,1,"a, b"\n"normal/p001_s001.png",normal,,3,\ndicom/17106,haemorrhage,p9,,\n',
    );
    const dataset = await fromManifest(csv);
    assert.deepEqual(dataset.classes, ['haemorrhage', 'normal', 'stroke']);
    assert.deepEqual(dataset.samples, [
      { path: join(root, 'folders/stroke/p002_s001.png'), label: 'stroke', patientId: 'P2', sliceIndex: 1 },
      // An empty patient_id falls back to the file name.
      { path: join(root, 'folders/normal/p001_s001.png'), label: 'normal', patientId: 'p001', sliceIndex: 3 },
      { path: join(root, 'folders/dicom/17106'), label: 'haemorrhage', patientId: 'p9' },
    ]);
    assert.equal((await datasetFromPath(join(root, 'folders'))).source, csv, 'a folder with manifest.csv is read through it');
  });

  test('manifestText writes path,label,patient_id,slice_index that fromManifest reads back, quoting where a field needs it', async () => {
    const csv = join(root, 'folders/written.csv');
    const text = manifestText([
      { path: 'stroke/p002_s001.png', label: 'stroke', patientId: 'P2, left', sliceIndex: 1 },
      { path: 'normal/p001_s001.png', label: 'normal', patientId: 'the "first"', sliceIndex: 0 },
    ]);
    assert.equal(text, 'path,label,patient_id,slice_index\nstroke/p002_s001.png,stroke,"P2, left",1\nnormal/p001_s001.png,normal,"the ""first""",0\n');
    await writeFile(csv, text);
    assert.deepEqual((await fromManifest(csv)).samples, [
      { path: join(root, 'folders/stroke/p002_s001.png'), label: 'stroke', patientId: 'P2, left', sliceIndex: 1 },
      { path: join(root, 'folders/normal/p001_s001.png'), label: 'normal', patientId: 'the "first"', sliceIndex: 0 },
    ]);
  });

  const bad: [string, string][] = [
    ['label,patient_id\nx,y\n', 'line 1: header lacks path (found: label, patient_id)'],
    ['path,label\nstroke/p002_s001.png\n', 'line 2: 1 fields, but the header has 2'],
    ['path,label\nstroke/p002_s001.png,stroke\n,normal\n', 'line 3: path is empty'],
    ['path,label\nstroke/p002_s001.png, \n', 'line 2: label is empty'],
    ['path,label\nstroke/missing.png,stroke\n', "line 2: stroke/missing.png does not exist (paths are relative to the manifest's folder)"],
    ['path,label\nnormal/notes.txt,normal\n', 'line 2: normal/notes.txt is not an image (png, jpg, jpeg, webp, tif, tiff, dcm or extension-less DICOM)'],
    ['path,label,slice_index\nstroke/p002_s001.png,stroke,1.5\n', 'line 2: slice_index "1.5" is not an integer'],
    ['path,label\n"stroke/p002_s001.png,stroke\n', 'line 2: quoted field is not closed'],
  ];
  for (const [content, reason] of bad) {
    test(`error: ${reason}`, async () => {
      const csv = join(root, 'folders/bad.csv');
      await writeFile(csv, content);
      await assert.rejects(fromManifest(csv), { message: `${csv}: ${reason}` });
    });
  }
});

const shared = sharedData('brain-stroke-ct');
test('brain-stroke-ct: manifest and class folders agree', { skip: shared ? false : missingSharedData('brain-stroke-ct') }, async () => {
  const fromCsv = await fromManifest(join(shared!, 'manifest.csv'));
  const fromFolders = await fromClassFolders(shared!);
  assert.deepEqual(fromCsv.classes, ['normal', 'stroke']);
  assert.equal(fromCsv.samples.length, 2030);
  assert.equal(new Set(fromCsv.samples.map((s) => s.patientId)).size, 66);
  const byPath = new Map(fromFolders.samples.map((s) => [s.path, s]));
  for (const sample of fromCsv.samples) {
    const twin = byPath.get(sample.path);
    assert.equal(twin?.label, sample.label, sample.path);
    assert.equal(twin?.patientId, sample.patientId, sample.path);
  }
});
