import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { DicomError, readDicom, readDicomHeader, requireCT } from '../../../src/data/dicom/index.js';
import { SHARED_DICOM, SKIP_REASON, sharedFile } from './helpers/shared-data.js';
import { syntheticDicom, words } from './helpers/synthetic-ct.js';
import { TS, writeDicom } from './helpers/write-dicom.js';

const scratch = mkdtempSync(join(tmpdir(), 'findstroke-dicom-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

function fileWith(name: string, bytes: Uint8Array): string {
  const path = join(scratch, name);
  writeFileSync(path, bytes);
  return path;
}

/** Asserts that reading `path` fails with a DicomError naming it, for a reason matching `reason`. */
async function assertRefused(read: Promise<unknown>, path: string, reason: RegExp): Promise<void> {
  await assert.rejects(read, (error: unknown) => {
    assert.ok(error instanceof DicomError, `expected a DicomError, got ${String(error)}`);
    assert.equal(error.source, path);
    assert.ok(error.message.startsWith(`${path}: `), error.message);
    assert.match(error.reason, reason);
    return true;
  });
}

const GOOD = syntheticDicom({ rows: 4, columns: 4, transferSyntax: TS.explicitLittle, pixelData: words(new Array(16).fill(0)) });

describe('unusable input is refused with the file and the reason', () => {
  test('missing file', async () => {
    const path = join(scratch, 'absent.dcm');
    await assertRefused(readDicom(path), path, /cannot read file \(ENOENT\)/);
  });

  test('not DICOM at all', async () => {
    const path = fileWith('notes.txt', new TextEncoder().encode('this is not a DICOM file '.repeat(20)));
    await assertRefused(readDicom(path), path, /not a readable DICOM file: .*DICM prefix not found/);
  });

  test('empty file', async () => {
    const path = fileWith('empty.dcm', new Uint8Array(0));
    await assertRefused(readDicom(path), path, /not a readable DICOM file/);
  });

  test('truncated synthetic file, inside the header and inside Pixel Data', async () => {
    for (const length of [140, GOOD.length - 10]) {
      const path = fileWith(`truncated-${length}.dcm`, GOOD.subarray(0, length));
      await assertRefused(readDicom(path), path, /not a readable DICOM file/);
    }
  });

  test('truncated real files (native and JPEG lossless)', { skip: SHARED_DICOM ? false : SKIP_REASON }, async () => {
    for (const file of ['aisd-0019983/CT/000001.dcm', 'cq500-ct0-thin/CT000001.dcm']) {
      const bytes = readFileSync(sharedFile(file));
      const path = fileWith(file.replaceAll('/', '_'), bytes.subarray(0, bytes.length >> 1));
      await assertRefused(readDicom(path), path, /not a readable DICOM file: .*buffer overrun/);
    }
  });

  test('Pixel Data shorter than one frame', async () => {
    const path = fileWith('short-pixels.dcm', syntheticDicom({ rows: 4, columns: 4, transferSyntax: TS.explicitLittle, pixelData: words([1, 2, 3]) }));
    await assertRefused(readDicom(path), path, /Pixel Data holds 6 bytes; one 4x4 frame needs 32/);
  });

  test('corrupt compressed frames', async () => {
    const garbage = { fragments: [new Uint8Array(64).fill(7)] };
    const cases: Array<[string, RegExp]> = [
      [TS.jpegLsLossless, /JPEG-LS Lossless Pixel Data does not decode: .*JPEG-LS/],
      [TS.jpeg2000Lossless, /JPEG 2000 \(Lossless Only\) Pixel Data does not decode: \[ERROR\]/],
      [TS.jpegBaseline, /JPEG Baseline \(Process 1\) Pixel Data does not decode/],
      ['1.2.840.10008.1.2.4.70', /JPEG Lossless.*Pixel Data does not decode: Not a JPEG file/],
      [TS.rle, /RLE Lossless Pixel Data does not decode: RLE header declares/],
    ];
    for (const [transferSyntax, reason] of cases) {
      const path = fileWith(`corrupt-${transferSyntax}.dcm`, syntheticDicom({ rows: 4, columns: 4, transferSyntax, pixelData: garbage }));
      await assertRefused(readDicom(path), path, reason);
    }
  });

  test('unsupported transfer syntax: the header still reads, the pixels are refused', async () => {
    const path = fileWith('jpeg-extended.dcm', syntheticDicom({ rows: 4, columns: 4, transferSyntax: TS.jpegExtended, pixelData: { fragments: [new Uint8Array(8)] } }));
    assert.equal((await readDicomHeader(path)).transferSyntaxUid, TS.jpegExtended);
    await assertRefused(readDicom(path), path, /transfer syntax 1\.2\.840\.10008\.1\.2\.4\.51 is not supported; findstroke decodes 1\.2\.840\.10008\.1\.2, /);
  });

  test('colour image', async () => {
    const path = fileWith('rgb.dcm', syntheticDicom({ rows: 2, columns: 2, samplesPerPixel: 3, photometricInterpretation: 'RGB', bitsAllocated: 8, pixelRepresentation: 0, transferSyntax: TS.explicitLittle, pixelData: { bytes: new Uint8Array(12) } }));
    await assertRefused(readDicom(path), path, /SamplesPerPixel is 3 \(RGB\); findstroke reads greyscale images only/);
  });

  test('missing a required attribute', async () => {
    const path = fileWith('no-series.dcm', writeDicom([[0x00080018, 'UI', '1.2.3'], [0x00080060, 'CS', 'CT'], [0x7fe00010, 'OW', words([0])]], TS.explicitLittle));
    await assertRefused(readDicomHeader(path), path, /missing SeriesInstanceUID \(0020,000E\)/);
  });

  test('no Pixel Data', async () => {
    const path = fileWith('report.dcm', writeDicom([[0x00080018, 'UI', '1.2.3'], [0x00080060, 'CS', 'SR']], TS.explicitLittle));
    await assertRefused(readDicomHeader(path), path, /has no Pixel Data \(7FE0,0010\); not an image/);
  });

  test('non-CT modality is refused by requireCT, with the file named', async () => {
    const path = fileWith('mr.dcm', syntheticDicom({ rows: 4, columns: 4, modality: 'MR', transferSyntax: TS.explicitLittle, pixelData: words(new Array(16).fill(0)) }));
    const image = await readDicom(path);
    assert.equal(image.modality, 'MR');
    assert.throws(() => requireCT(image), { name: 'DicomError', message: `${path}: modality MR is not CT; findstroke classifies CT only` });
  });
});
