import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { constants, deflateRawSync, inflateRawSync } from 'node:zlib';
import { DICOM_LIMITS, DicomError, readDicom, readDicomHeader, requireCT } from '../../../src/data/dicom/index.js';
import { encodeJpeg2000, encodeJpegBaseline, encodeJpegLs, encodeRle16 } from './helpers/encoders.js';
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
    const path = fileWith(
      'jpeg-extended.dcm',
      syntheticDicom({ rows: 4, columns: 4, transferSyntax: TS.jpegExtended, pixelData: { fragments: [new Uint8Array(8)] } }),
    );
    assert.equal((await readDicomHeader(path)).transferSyntaxUid, TS.jpegExtended);
    await assertRefused(readDicom(path), path, /transfer syntax 1\.2\.840\.10008\.1\.2\.4\.51 is not supported; findstroke decodes 1\.2\.840\.10008\.1\.2, /);
  });

  test('colour image', async () => {
    const path = fileWith(
      'rgb.dcm',
      syntheticDicom({
        rows: 2,
        columns: 2,
        samplesPerPixel: 3,
        photometricInterpretation: 'RGB',
        bitsAllocated: 8,
        pixelRepresentation: 0,
        transferSyntax: TS.explicitLittle,
        pixelData: { bytes: new Uint8Array(12) },
      }),
    );
    await assertRefused(readDicom(path), path, /SamplesPerPixel is 3 \(RGB\); findstroke reads greyscale images only/);
  });

  test('missing a required attribute', async () => {
    const path = fileWith(
      'no-series.dcm',
      writeDicom(
        [
          [0x00080018, 'UI', '1.2.3'],
          [0x00080060, 'CS', 'CT'],
          [0x7fe00010, 'OW', words([0])],
        ],
        TS.explicitLittle,
      ),
    );
    await assertRefused(readDicomHeader(path), path, /missing SeriesInstanceUID \(0020,000E\)/);
  });

  test('no Pixel Data', async () => {
    const path = fileWith(
      'report.dcm',
      writeDicom(
        [
          [0x00080018, 'UI', '1.2.3'],
          [0x00080060, 'CS', 'SR'],
        ],
        TS.explicitLittle,
      ),
    );
    await assertRefused(readDicomHeader(path), path, /has no Pixel Data \(7FE0,0010\); not an image/);
  });

  test('non-CT modality is refused by requireCT, with the file named', async () => {
    const path = fileWith(
      'mr.dcm',
      syntheticDicom({ rows: 4, columns: 4, modality: 'MR', transferSyntax: TS.explicitLittle, pixelData: words(new Array(16).fill(0)) }),
    );
    const image = await readDicom(path);
    assert.equal(image.modality, 'MR');
    assert.throws(() => requireCT(image), { name: 'DicomError', message: `${path}: modality MR is not CT; findstroke classifies CT only` });
  });
});

describe('decompression bombs are refused by name, before the work they ask for', () => {
  /**
   * `file` (Deflated Explicit VR Little Endian) with its deflate stream ending in bytes that are no deflate block
   * (BTYPE 11, RFC 1951 3.2.3) instead of its final block: inflating it to the end fails on them.
   */
  function withCorruptEnd(file: Uint8Array): Uint8Array {
    // File Meta Information Group Length (0002,0000) is the UL value at 140; the group follows it (PS3.10 7.1).
    const dataSetStart = 144 + new DataView(file.buffer, file.byteOffset).getUint32(140, true);
    const dataSet = inflateRawSync(file.subarray(dataSetStart));
    const unfinished = deflateRawSync(dataSet, { finishFlush: constants.Z_SYNC_FLUSH });
    return Buffer.concat([file.subarray(0, dataSetStart), unfinished, Uint8Array.of(0xff, 0xff)]);
  }

  test('a deflated data set inflating past the limit is inflated no further than the limit', async () => {
    // 1024x1024 16-bit pixels: a 2 MiB data set that deflates to a few KB.
    const file = syntheticDicom({ rows: 1024, columns: 1024, transferSyntax: TS.deflated, pixelData: words(new Uint16Array(1024 * 1024)) });
    const path = fileWith('deflate-bomb.dcm', withCorruptEnd(file));
    // Under the default limit the whole stream is inflated, up to its corrupt end...
    await assertRefused(readDicom(path), path, /not a readable DICOM file: invalid block type/);
    // ...under 1 MiB the corrupt end is never reached.
    const limits = { ...DICOM_LIMITS, maxInflatedBytes: 2 ** 20 };
    // Each read starts only when awaited: a second rejecting promise created early would be reported as unhandled.
    for (const read of [() => readDicom(path, limits), () => readDicomHeader(path, limits)]) {
      await assertRefused(read(), path, /^Deflated Explicit VR Little Endian data set inflates past the 1048576-byte limit$/);
    }
  });

  test('an RLE or native image declaring 8192x8192 is refused before its pixels are decoded', async () => {
    const pixelData = [
      [TS.rle, { fragments: [encodeRle16(new Uint16Array(16))] }],
      [TS.explicitLittle, words(new Array(16).fill(0))],
    ] as const;
    for (const [transferSyntax, pixels] of pixelData) {
      const path = fileWith(`8192-${transferSyntax}.dcm`, syntheticDicom({ rows: 8192, columns: 8192, transferSyntax, pixelData: pixels }));
      await assertRefused(readDicom(path), path, /^8192x8192 image is over the 4096x4096 limit; not decoded$/);
    }
  });

  test('an image declaring no rows or no columns is refused: it has no pixels to classify', async () => {
    const path = fileWith('1x0.dcm', syntheticDicom({ rows: 1, columns: 0, transferSyntax: TS.explicitLittle, pixelData: words([0]) }));
    await assertRefused(readDicom(path), path, /^0x1 image has no pixels$/);
  });

  test("the image size limit is the caller's, and inclusive", async () => {
    const limits = { ...DICOM_LIMITS, maxImageSide: 16 };
    const image = (rows: number) => syntheticDicom({ rows, columns: 16, transferSyntax: TS.explicitLittle, pixelData: words(new Array(rows * 16).fill(0)) });
    assert.equal((await readDicom({ bytes: image(16), source: 'sixteen.dcm' }, limits)).rows, 16);
    await assertRefused(
      readDicom({ bytes: image(17), source: 'seventeen.dcm' }, limits),
      'seventeen.dcm',
      /^16x17 image is over the 16x16 limit; not decoded$/,
    );
  });

  test("a codestream declaring a larger image than the header's is refused before its decoder allocates for it", async () => {
    const side = 16;
    const samples = new Uint16Array(side * side);
    /** `codestream` with the two sizes it declares (big endian, `bytes` wide, the first at `at`) set to 4096. */
    const declaring4096 = (codestream: Uint8Array, at: number, bytes: 2 | 4) => {
      const patched = codestream.slice();
      const view = new DataView(patched.buffer);
      const set = bytes === 2 ? view.setUint16.bind(view) : view.setUint32.bind(view);
      set(at, 4096);
      set(at + bytes, 4096);
      return patched;
    };
    /** The offset of Y in the frame header (ISO 10918-1 B.2.2) that starts with `marker`. */
    const frameHeight = (codestream: Uint8Array, marker: number) => codestream.findIndex((byte, i) => byte === 0xff && codestream[i + 1] === marker) + 5;
    const jpegLs = await encodeJpegLs(samples, side, side, 12);
    const { jpeg } = await encodeJpegBaseline(new Uint8Array(side * side), side, side);
    const cases = [
      // SOF55, JPEG-LS's frame header (ISO 14495-1 C.2.2): Y then X.
      [TS.jpegLsLossless, 16, declaring4096(jpegLs, frameHeight(jpegLs, 0xf7), 2), 'JPEG-LS Lossless'],
      [TS.jpegBaseline, 8, declaring4096(jpeg, frameHeight(jpeg, 0xc0), 2), 'JPEG Baseline \\(Process 1\\)'],
      // SIZ (ISO 15444-1 A.5.1): Xsiz at 8, then Ysiz; the offsets are 0.
      [TS.jpeg2000Lossless, 16, declaring4096(await encodeJpeg2000(samples, side, side, 12, false), 8, 4), 'JPEG 2000 \\(Lossless Only\\)'],
    ] as const;
    for (const [transferSyntax, bitsAllocated, frame, name] of cases) {
      const path = fileWith(
        `declares-4096-${transferSyntax}.dcm`,
        syntheticDicom({ rows: side, columns: side, bitsAllocated, pixelRepresentation: 0, transferSyntax, pixelData: { fragments: [frame] } }),
      );
      await assertRefused(readDicom(path), path, new RegExp(`^${name} codestream declares 4096x4096x1, but the header says 16x16x1; not decoded$`));
    }
  });
});
