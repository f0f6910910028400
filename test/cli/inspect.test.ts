import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { formatInspectTable, inspectFile, inspectPaths } from '../../src/cli/commands/inspect.js';
import { missingSharedData, sharedData } from '../helpers/shared-data.js';
import { tempFolder, writeDicom, writeImage } from '../data/helpers/tiny-images.js';

const SERIES = '1.2.826.0.1.3680043.10.99.2';
const EXPLICIT_LITTLE = '1.2.840.10008.1.2.1';
const CT_ONLY = 'modality MR is not CT; findstroke classifies CT only';

let root: string;
let remove: () => Promise<void>;
before(async () => {
  ({ root, remove } = await tempFolder());
  for (const instanceNumber of [1, 2, 4])
    await writeDicom(join(root, 'ct', `slice${instanceNumber}.dcm`), { rows: 2, columns: 3, seriesInstanceUid: SERIES, instanceNumber });
  await writeDicom(join(root, 'mr', '000001'), { modality: 'MR', seriesInstanceUid: `${SERIES}.9` });
  await writeImage(join(root, 'photo.png'), { width: 5, height: 4, channels: 3 });
  await writeFile(join(root, 'broken.jpg'), 'not a jpeg');
  await writeFile(join(root, 'notes.txt'), 'not an image, not inspected');
});
after(() => remove());

describe('inspectFile', () => {
  test('a CT file: modality, size, transfer syntax, series and HU range', async () => {
    const path = join(root, 'ct', 'slice1.dcm');
    assert.deepEqual(await inspectFile(path), {
      path,
      ok: true,
      format: 'dicom',
      modality: 'CT',
      rows: 2,
      columns: 3,
      channels: 1,
      transferSyntax: EXPLICIT_LITTLE,
      studyInstanceUid: '1.2.826.0.1.3680043.10.99.1',
      seriesInstanceUid: SERIES,
      patientId: 'SYNTHETIC',
      huMin: -24,
      huMax: 26,
      paddingPixels: 0,
    });
  });

  test('an MR file is not ok, with the CT-only reason, and still says its modality', async () => {
    const record = await inspectFile(join(root, 'mr', '000001'));
    assert.equal(record.ok, false);
    assert.equal(record.error, CT_ONLY);
    assert.equal(record.modality, 'MR');
    assert.equal(record.seriesInstanceUid, `${SERIES}.9`);
    assert.equal(record.huMin, undefined);
  });

  test('photos: format and size; a broken file: not ok with the reason', async () => {
    assert.deepEqual(await inspectFile(join(root, 'photo.png')), { path: join(root, 'photo.png'), ok: true, format: 'png', rows: 4, columns: 5, channels: 3 });
    const broken = await inspectFile(join(root, 'broken.jpg'));
    assert.equal(broken.ok, false);
    assert.match(broken.error!, /^cannot read image: /);
  });
});

describe('inspectPaths', () => {
  test('one record per image under the folders, in the order given; missing paths reported', async () => {
    const records = await inspectPaths([root, join(root, 'absent')]);
    assert.deepEqual(
      records.map((r) => [r.path.slice(root.length), r.ok]),
      [
        ['/broken.jpg', false],
        ['/ct/slice1.dcm', true],
        ['/ct/slice2.dcm', true],
        ['/ct/slice4.dcm', true],
        ['/mr/000001', false],
        ['/photo.png', true],
        ['/absent', false],
      ],
    );
    assert.equal(records.at(-1)!.error, 'no such file or folder');
    // Every record survives a JSON round trip: one line each for --json.
    for (const record of records) assert.deepEqual(JSON.parse(JSON.stringify(record)), record);
  });

  test('--series: one record per DICOM series with slice count, order and gaps; other files as they are', async () => {
    const records = await inspectPaths([root], { series: true });
    assert.deepEqual(
      records.map((r) => r.path.slice(root.length)),
      ['/broken.jpg', '/ct', '/mr/000001', '/photo.png'],
    );
    const [, ct, mr] = records;
    assert.deepEqual(
      { ...ct, path: undefined },
      {
        path: undefined,
        ok: true,
        format: 'dicom',
        modality: 'CT',
        rows: 2,
        columns: 3,
        transferSyntax: EXPLICIT_LITTLE,
        studyInstanceUid: '1.2.826.0.1.3680043.10.99.1',
        seriesInstanceUid: SERIES,
        patientId: 'SYNTHETIC',
        huMin: -24,
        huMax: 26,
        slices: 3,
        orderedBy: 'instanceNumber',
        missingSlices: 1,
      },
    );
    assert.deepEqual([mr.ok, mr.modality, mr.error, mr.slices], [false, 'MR', CT_ONLY, 1]);
  });

  test('the table has a row per record with the reason', async () => {
    const table = formatInspectTable(await inspectPaths([join(root, 'mr'), join(root, 'photo.png')]));
    const [header, mr, photo] = table.split('\n');
    assert.match(header, /^path\s+status\s+format\s+size/);
    assert.match(mr, /000001\s+FAIL\s+dicom MR\s+4 x 4 .*modality MR is not CT/);
    assert.match(photo, /photo\.png\s+ok\s+png\s+5 x 4$/);
  });
});

const dicom = sharedData('dicom');
test('shared DICOM: every file decodes; the DWI folder is MR and refused', { skip: dicom ? false : missingSharedData('dicom') }, async () => {
  const records = await inspectPaths([dicom!]);
  assert.ok(records.length >= 280, `found ${records.length} files`);
  const failures = records.filter((r) => !r.ok);
  assert.ok(
    failures.every((r) => r.path.includes('/aisd-0019983/DWI/') && r.modality === 'MR' && r.error === CT_ONLY),
    JSON.stringify(failures.filter((r) => r.modality !== 'MR')),
  );
  assert.equal(failures.length, 18);
  assert.ok(records.filter((r) => r.ok).every((r) => r.modality === 'CT' && r.huMin! < r.huMax!));
  const series = await inspectPaths([join(dicom!, 'aisd-0019983')], { series: true });
  assert.deepEqual(
    series.map((s) => [s.path.slice(dicom!.length), s.modality, s.ok, s.slices]),
    [
      ['/aisd-0019983/CT', 'CT', true, 17],
      ['/aisd-0019983/DWI', 'MR', false, 18],
    ],
  );
});
