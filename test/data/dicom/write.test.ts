import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import dicomParser from 'dicom-parser';
import {
  type CtSlice,
  CT_IMAGE_STORAGE,
  EXPLICIT_VR_LITTLE_ENDIAN,
  UidGenerator,
  groupSeries,
  readDicom,
  writeCtSlice,
} from '../../../src/data/dicom/index.js';
import { IMPLEMENTATION_CLASS_UID } from '../../../src/data/dicom/part10.js';
import { Rng } from '../../../src/data/rng.js';

const ROWS = 3;
const COLUMNS = 4;
/** Whole HU from below air to dense bone, plus values the writer must round. */
const HU = Float32Array.of(-1024, -1000, -1, 0, 1, 37, 80, 1500, 3071, 12.4, -12.6, 40.5);

function slice(overrides: Partial<CtSlice> = {}): CtSlice {
  return {
    patientId: 'p001',
    patientName: 'PHANTOM^P001',
    studyInstanceUid: '2.25.1',
    seriesInstanceUid: '2.25.2',
    sopInstanceUid: '2.25.3',
    frameOfReferenceUid: '2.25.4',
    instanceNumber: 1,
    rows: ROWS,
    columns: COLUMNS,
    hu: HU,
    imagePositionPatient: [-119.53125, -119.53125, 12.5],
    pixelSpacingMm: [0.9375, 0.9375],
    sliceThicknessMm: 5,
    ...overrides,
  };
}

describe('writeCtSlice (PS3.10 Part 10, Explicit VR Little Endian, CT Image IOD)', () => {
  test('round trip through readDicom: HU (rounded to whole units), identity, geometry, pixel description', async () => {
    const image = await readDicom({ bytes: writeCtSlice(slice()), source: 'written.dcm' });
    assert.deepEqual(Array.from(image.hu()), Array.from(HU, Math.round));
    assert.equal(image.modality, 'CT');
    assert.equal(image.transferSyntaxUid, EXPLICIT_VR_LITTLE_ENDIAN);
    assert.deepEqual(
      [image.patientId, image.studyInstanceUid, image.seriesInstanceUid, image.sopInstanceUid, image.instanceNumber],
      ['p001', '2.25.1', '2.25.2', '2.25.3', 1],
    );
    assert.deepEqual([image.rows, image.columns, image.bitsAllocated, image.bitsStored, image.pixelRepresentation], [ROWS, COLUMNS, 16, 16, 1]);
    assert.equal(image.photometricInterpretation, 'MONOCHROME2');
    assert.deepEqual([image.rescaleSlope, image.rescaleIntercept], [1, -1024]);
    assert.deepEqual([image.windowCenters, image.windowWidths], [[40], [80]]);
    assert.deepEqual(image.imagePositionPatient, [-119.53125, -119.53125, 12.5]);
    assert.deepEqual(image.imageOrientationPatient, [1, 0, 0, 0, 1, 0]);
    assert.deepEqual(image.pixelSpacing, [0.9375, 0.9375]);
    assert.equal(image.sliceThickness, 5);
  });

  test('preamble, DICM, File Meta group whose length (0002,0000) counts exactly the rest of group 0002', () => {
    const bytes = writeCtSlice(slice());
    assert.ok(bytes.subarray(0, 128).every((byte) => byte === 0));
    assert.equal(Buffer.from(bytes.subarray(128, 132)).toString('latin1'), 'DICM');
    const view = new DataView(bytes.buffer, bytes.byteOffset);
    assert.deepEqual([view.getUint16(132, true), view.getUint16(134, true), Buffer.from(bytes.subarray(136, 138)).toString('latin1')], [2, 0, 'UL']);
    const groupEnd = 144 + view.getUint32(140, true);
    assert.equal(view.getUint16(groupEnd, true), 0x0008, 'the data set starts right after the declared group length');
    const meta = dicomParser.parseDicom(bytes, { untilTag: 'x00080000' });
    assert.equal(meta.string('x00020002'), CT_IMAGE_STORAGE);
    assert.equal(meta.string('x00020003'), '2.25.3');
    assert.equal(meta.string('x00020010'), EXPLICIT_VR_LITTLE_ENDIAN);
    assert.equal(meta.string('x00020012'), IMPLEMENTATION_CLASS_UID);
  });

  test('every element has an even length (PS3.5 7.1.1) and long decimals fit Decimal String (16 characters)', () => {
    const bytes = writeCtSlice(slice({ patientId: 'odd', imagePositionPatient: [-124.51171875123, 1 / 3, 2e-7] }));
    const dataSet = dicomParser.parseDicom(bytes);
    for (const element of Object.values(dataSet.elements)) assert.equal(element.length % 2, 0, element.tag);
    const position = dataSet.string('x00200032')!.split('\\');
    assert.ok(
      position.every((value) => value.length <= 16),
      position.join('\\'),
    );
    assert.ok(Math.abs(Number(position[0]) + 124.51171875123) < 1e-9);
    assert.equal(dataSet.string('x00100020'), 'odd');
  });

  test('extra string attributes are written; one that the writer owns is refused', () => {
    const described = dicomParser.parseDicom(writeCtSlice(slice({ extraAttributes: [[0x00081030, 'LO', 'phantom study']] })));
    assert.equal(described.string('x00081030'), 'phantom study');
    assert.throws(
      () => writeCtSlice(slice({ extraAttributes: [[0x00080060, 'CS', 'MR']] })),
      /extraAttributes: tag 00080060 is written by writeCtSlice itself/,
    );
  });

  test('HU beyond 16-bit stored values are clamped', async () => {
    const image = await readDicom({ bytes: writeCtSlice(slice({ rows: 1, columns: 2, hu: Float32Array.of(-40000, 40000) })), source: 'clamped.dcm' });
    assert.deepEqual(Array.from(image.hu()), [-32768 - 1024, 32767 - 1024]);
  });

  test('bad sizes are errors naming the argument', () => {
    assert.throws(() => writeCtSlice(slice({ hu: new Float32Array(5) })), /CT slice hu has 5 values, expected rows x columns = 12/);
    assert.throws(() => writeCtSlice(slice({ rows: 0 })), /CT slice rows must be an integer in 1\.\.65535, got 0/);
    assert.throws(() => writeCtSlice(slice({ sliceThicknessMm: Number.NaN })), /NaN cannot be written as a Decimal String/);
  });

  test('a series of written slices groups and orders by position', async () => {
    const zs = [10, -5, 0];
    const headers = await Promise.all(
      zs.map((z, i) =>
        readDicom({
          bytes: writeCtSlice(slice({ sopInstanceUid: `2.25.${10 + i}`, instanceNumber: i + 1, imagePositionPatient: [0, 0, z] })),
          source: `z${z}`,
        }),
      ),
    );
    const [series] = groupSeries(headers);
    assert.equal(series.orderedBy, 'position');
    assert.deepEqual(
      series.slices.map((s) => s.source),
      ['z-5', 'z0', 'z10'],
    );
  });
});

describe('UidGenerator (PS3.5 B.2, UUID-derived)', () => {
  test('2.25 then the decimal of a version-4 UUID, at most 64 characters, no leading zero', () => {
    const uids = new UidGenerator(new Rng(1));
    for (let i = 0; i < 50; i++) {
      const uid = uids.next();
      assert.match(uid, /^2\.25\.[1-9]\d*$/);
      assert.ok(uid.length <= 64);
      const uuid = BigInt(uid.slice(5)).toString(16).padStart(32, '0');
      assert.equal(uuid[12], '4', `version nibble of ${uuid}`);
      assert.ok('89ab'.includes(uuid[16]), `variant of ${uuid}`);
    }
  });

  test('the same seed gives the same UIDs; UIDs do not repeat', () => {
    const draw = (seed: number) => {
      const uids = new UidGenerator(new Rng(seed));
      return Array.from({ length: 100 }, () => uids.next());
    };
    const first = draw(7);
    assert.deepEqual(draw(7), first);
    assert.notDeepEqual(draw(8), first);
    assert.equal(new Set(first).size, first.length);
  });
});
