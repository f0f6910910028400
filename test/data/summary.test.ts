import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fromClassFolders, fromManifest } from '../../src/data/sources/index.js';
import { formatSummary, summarize } from '../../src/data/summary.js';
import { verifyImages } from '../../src/data/verify.js';
import { missingSharedData, sharedData } from '../helpers/shared-data.js';
import { tempFolder, writeDicom, writeImage } from './helpers/tiny-images.js';

let root: string;
let remove: () => Promise<void>;
before(async () => {
  ({ root, remove } = await tempFolder());
  await writeImage(join(root, 'normal/p001_s001.png'), { width: 8, height: 6, channels: 1 });
  await writeImage(join(root, 'normal/p001_s002.png'), { width: 8, height: 6, channels: 1 });
  await writeImage(join(root, 'normal/p002_s001.jpg'), { width: 8, height: 6, channels: 3 });
  await writeDicom(join(root, 'stroke/p003_s001.dcm'), { rows: 4, columns: 5 });
  await writeDicom(join(root, 'stroke/mr.dcm'), { modality: 'MR' });
  await writeFile(join(root, 'stroke/p004_broken.png'), 'not a png');
});
after(() => remove());

test('summary: images and patients per class, sizes from headers, unreadable files listed', async () => {
  const summary = await summarize(await fromClassFolders(root));
  assert.deepEqual(summary.classes, [
    { label: 'normal', images: 3, patients: 2 },
    { label: 'stroke', images: 3, patients: 2 },
  ]);
  assert.equal(summary.images, 6);
  assert.equal(summary.patients, 4);
  assert.equal(summary.imagesWithoutPatient, 1);
  assert.deepEqual(
    summary.sizes,
    [
      { width: 4, height: 4, channels: 1, images: 1 },
      { width: 5, height: 4, channels: 1, images: 1 },
      { width: 8, height: 6, channels: 1, images: 2 },
      { width: 8, height: 6, channels: 3, images: 1 },
    ].sort((a, b) => b.images - a.images),
  );
  assert.deepEqual(
    summary.unreadable.map((u) => u.path),
    [join(root, 'stroke/p004_broken.png')],
  );
  const text = formatSummary(summary);
  assert.match(text, /^.*: 6 images, 4 patients \(1 images without a patient id\)/);
  assert.match(text, /normal\s+3\s+2\nstroke\s+3\s+2/);
  assert.match(text, /8 x 6\s+1\s+2/);
});

test('verify: reports each unusable file with its reason, and nothing else', async () => {
  const dataset = await fromClassFolders(root);
  const problems = await verifyImages(dataset.samples.map((s) => s.path));
  assert.deepEqual(
    problems.map((p) => p.path),
    [join(root, 'stroke/mr.dcm'), join(root, 'stroke/p004_broken.png')],
  );
  assert.equal(problems[0].reason, 'modality MR is not CT; findstroke classifies CT only');
  assert.match(problems[1].reason, /^cannot read image: /);
});

const shared = sharedData('brain-stroke-ct');
test(
  'brain-stroke-ct summary: 1250 normal and 780 stroke slices of 41 and 25 patients, all 650x650 greyscale (the raw originals)',
  { skip: shared ? false : missingSharedData('brain-stroke-ct') },
  async () => {
    const summary = await summarize(await fromManifest(join(shared!, 'manifest.csv')));
    assert.deepEqual(summary.classes, [
      { label: 'normal', images: 1250, patients: 41 },
      { label: 'stroke', images: 780, patients: 25 },
    ]);
    assert.deepEqual(summary.sizes, [{ width: 650, height: 650, channels: 1, images: 2030 }]);
    assert.deepEqual(summary.unreadable, []);
  },
);
