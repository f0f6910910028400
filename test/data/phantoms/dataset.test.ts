import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import sharp from 'sharp';
import { groupSeries, readDicom } from '../../../src/data/dicom/index.js';
import {
  PHANTOM_CLASSES,
  type PhantomDatasetOptions,
  type PhantomFormat,
  generatePhantomPatient,
  writePhantomDataset,
} from '../../../src/data/phantoms/index.js';
import { HEAD_CT_WINDOWS, applyWindowUint8 } from '../../../src/data/window.js';

const TINY = { patients: 3, slices: 2, seed: 11, size: 64 } as const;

const scratch = mkdtempSync(join(tmpdir(), 'findstroke-phantoms-'));
after(() => rmSync(scratch, { recursive: true, force: true }));
let folders = 0;
const newFolder = () => join(scratch, `set-${folders++}`);

interface ManifestRow {
  path: string;
  label: string;
  patientId: string;
  sliceIndex: number;
}

function readManifest(dir: string): ManifestRow[] {
  const [header, ...lines] = readFileSync(join(dir, 'manifest.csv'), 'utf8').trimEnd().split('\n');
  assert.equal(header, 'path,label,patient_id,slice_index');
  return lines.map((line) => {
    const [path, label, patientId, sliceIndex] = line.split(',');
    return { path, label, patientId, sliceIndex: Number(sliceIndex) };
  });
}

/** Every file under `dir`, relative, sorted. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name).slice(dir.length + 1))
    .sort();
}

const written = new Map<PhantomFormat, Promise<string>>();
/** The tiny dataset in `format`, written once for the tests that only read it. */
function tinyDataset(format: PhantomFormat): Promise<string> {
  if (!written.has(format)) {
    const dir = newFolder();
    written.set(
      format,
      writePhantomDataset(dir, { ...TINY, format }).then(() => dir),
    );
  }
  return written.get(format)!;
}

describe('writePhantomDataset', () => {
  for (const format of ['png', 'dicom'] as const) {
    test(`${format}: class folders, one patient per class, a manifest row per slice`, async () => {
      const dir = await tinyDataset(format);
      const rows = readManifest(dir);
      const extension = format === 'png' ? 'png' : 'dcm';
      assert.deepEqual(filesUnder(dir), ['manifest.csv', ...rows.map((row) => row.path)].sort());
      assert.equal(rows.length, TINY.patients * TINY.slices);
      assert.deepEqual([...new Set(rows.map((row) => row.label))].sort(), [...PHANTOM_CLASSES].sort());
      for (const row of rows) {
        assert.equal(row.path, `${row.label}/${row.patientId}_s${String(row.sliceIndex).padStart(3, '0')}.${extension}`);
        assert.match(row.patientId, /^p00[0-2]$/);
      }
      for (const name of PHANTOM_CLASSES) {
        const ofClass = rows.filter((row) => row.label === name);
        assert.equal(new Set(ofClass.map((row) => row.patientId)).size, 1, `${name} has one patient`);
        assert.deepEqual(
          ofClass.map((row) => row.sliceIndex),
          [0, 1],
        );
      }
    });
  }

  test('the same seed gives byte-identical files; another seed different ones', async () => {
    for (const format of ['png', 'dicom'] as const) {
      const first = await tinyDataset(format);
      const again = newFolder();
      await writePhantomDataset(again, { ...TINY, format });
      assert.deepEqual(filesUnder(again), filesUnder(first));
      for (const file of filesUnder(first)) assert.ok(readFileSync(join(again, file)).equals(readFileSync(join(first, file))), `${format}: ${file} differs`);
      const other = newFolder();
      await writePhantomDataset(other, { ...TINY, format, seed: TINY.seed + 1 });
      const same = (file: string) => existsSync(join(first, file)) && readFileSync(join(other, file)).equals(readFileSync(join(first, file)));
      assert.ok(
        !filesUnder(other)
          .filter((file) => file !== 'manifest.csv')
          .some(same),
        `${format}: another seed, same files`,
      );
    }
  });

  test('png: 8-bit greyscale of the patient in the brain window', async () => {
    const dir = await tinyDataset('png');
    const row = readManifest(dir)[1];
    const file = join(dir, row.path);
    const { width, height, channels } = await sharp(file).metadata();
    assert.deepEqual([width, height, channels], [TINY.size, TINY.size, 1]);
    const data = await sharp(file).toColourspace('b-w').raw().toBuffer();
    const patient = generatePhantomPatient({ ...TINY, patientIndex: Number(row.patientId.slice(1)), label: row.label as never });
    assert.deepEqual(new Uint8Array(data), applyWindowUint8(patient.slices[row.sliceIndex], HEAD_CT_WINDOWS.brain));
  });

  test('dicom: CT in whole HU, one series per patient ordered foot to head, UIDs unique per slice', async () => {
    const dir = await tinyDataset('dicom');
    const rows = readManifest(dir);
    const images = await Promise.all(rows.map((row) => readDicom(join(dir, row.path))));
    assert.ok(images.every((image) => image.modality === 'CT'));
    assert.equal(new Set(images.map((image) => image.sopInstanceUid)).size, images.length);
    const series = groupSeries(images);
    assert.equal(series.length, TINY.patients);
    for (const one of series) {
      const ofPatient = rows.filter((row) => row.patientId === one.patientId);
      assert.equal(one.orderedBy, 'position');
      assert.deepEqual(
        one.slices.map((slice) => slice.source),
        ofPatient.map((row) => join(dir, row.path)),
      );
      assert.deepEqual(one.gaps, []);
      const patient = generatePhantomPatient({ ...TINY, patientIndex: Number(one.patientId.slice(1)), label: ofPatient[0].label as never });
      assert.ok(Math.abs(one.sliceSpacingMm! - patient.sliceSpacingMm) < 1e-3);
      // `|| 0`: the file has no negative zero.
      one.slices.forEach((slice, k) =>
        assert.deepEqual(
          Array.from(slice.hu()),
          Array.from(patient.slices[k], (hu) => Math.round(hu) || 0),
        ),
      );
    }
    assert.equal(new Set(series.map((one) => one.studyInstanceUid)).size, TINY.patients);
  });

  test('classes: only those asked for, balanced', async () => {
    const dir = newFolder();
    const summary = await writePhantomDataset(dir, {
      ...TINY,
      patients: 5,
      slices: 1,
      size: 16,
      format: 'png',
      classes: ['haemorrhagicStroke', 'normalBrain'],
    });
    assert.deepEqual(
      [...summary.patientsPerClass],
      [
        ['haemorrhagicStroke', 3],
        ['normalBrain', 2],
      ],
    );
    assert.equal(summary.filesWritten, 5);
    assert.deepEqual(readdirSync(dir).sort(), ['haemorrhagicStroke', 'manifest.csv', 'normalBrain']);
  });

  test('bad options and a used folder are errors naming them', async () => {
    const good: PhantomDatasetOptions = { ...TINY, format: 'png' };
    const refused: Array<[Partial<PhantomDatasetOptions>, RegExp]> = [
      [{ patients: 0 }, /patients must be an integer from 1 to 100000, got 0/],
      [{ slices: 1.5 }, /slices must be an integer from 1 to 10000, got 1.5/],
      [{ size: 4 }, /size must be an integer from 16 to 2048, got 4/],
      [{ seed: -3 }, /seed must be an integer from 0 to 4294967295, got -3/],
      [{ format: 'jpeg' as PhantomFormat }, /format must be one of dicom, png, got "jpeg"/],
      [{ classes: [] }, /classes must name at least one of/],
      [{ classes: ['tumour' as never] }, /classes: unknown class "tumour"/],
      [{ classes: ['normalBrain', 'normalBrain'] }, /classes: "normalBrain" is given twice/],
    ];
    for (const [change, message] of refused) {
      const dir = newFolder();
      await assert.rejects(writePhantomDataset(dir, { ...good, ...change }), message);
      assert.ok(!existsSync(dir), `${message}: nothing is written`);
    }
    const used = newFolder();
    await writePhantomDataset(used, { ...good, patients: 1, slices: 1, size: 16 });
    await assert.rejects(writePhantomDataset(used, good), new RegExp(`${used}: already exists and is not empty`));
    const file = join(scratch, 'a-file');
    writeFileSync(file, '');
    await assert.rejects(writePhantomDataset(file, good), new RegExp(`${file}: cannot be used as the dataset folder \\(ENOTDIR\\)`));
  });
});
