import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PADDING_HU, readDicom } from '../../../src/data/dicom/index.js';
import { encodeJpeg2000, encodeJpegBaseline, encodeJpegLs, encodeRle16 } from './helpers/encoders.js';
import { type SyntheticImage, syntheticDicom, words } from './helpers/synthetic-ct.js';
import { TS } from './helpers/write-dicom.js';

const ROWS = 16;
const COLUMNS = 16;
/** Signed 12-bit stored values covering -2000..1999, so sign extension from Bits Stored matters. */
const STORED = Int16Array.from({ length: ROWS * COLUMNS }, (_, i) => ((i * 397) % 4000) - 2000);
const CT_12_BIT = { rows: ROWS, columns: COLUMNS, bitsStored: 12, pixelRepresentation: 1, rescaleSlope: '1', rescaleIntercept: '-1024' } as const;

async function huOf(image: SyntheticImage): Promise<Float32Array> {
  return (await readDicom({ bytes: syntheticDicom(image), source: 'synthetic.dcm' })).hu();
}

function expectedHu(stored: ArrayLike<number>, slope = 1, intercept = -1024): number[] {
  return Array.from(stored, (value) => value * slope + intercept);
}

describe('transfer syntaxes (fixtures encoded here)', () => {
  const native: Array<[string, string]> = [
    ['Implicit VR Little Endian', TS.implicitLittle],
    ['Explicit VR Little Endian', TS.explicitLittle],
    ['Deflated Explicit VR Little Endian', TS.deflated],
    ['Explicit VR Big Endian', TS.explicitBig],
  ];
  for (const [name, transferSyntax] of native) {
    test(name, async () => {
      const hu = await huOf({ ...CT_12_BIT, transferSyntax, pixelData: words(STORED) });
      assert.deepEqual(Array.from(hu), expectedHu(STORED));
    });
  }

  test('RLE Lossless', async () => {
    const frame = encodeRle16(words(STORED).words);
    const hu = await huOf({ ...CT_12_BIT, transferSyntax: TS.rle, pixelData: { fragments: [frame] } });
    assert.deepEqual(Array.from(hu), expectedHu(STORED));
  });

  test('JPEG-LS Lossless (12-bit codestream, signed in the header)', async () => {
    const frame = await encodeJpegLs(
      Uint16Array.from(STORED, (value) => value & 0xfff),
      COLUMNS,
      ROWS,
      12,
    );
    const hu = await huOf({ ...CT_12_BIT, transferSyntax: TS.jpegLsLossless, pixelData: { fragments: [frame] } });
    assert.deepEqual(Array.from(hu), expectedHu(STORED));
  });

  test('JPEG 2000 Lossless, signed codestream', async () => {
    const frame = await encodeJpeg2000(STORED, COLUMNS, ROWS, 12, true);
    const hu = await huOf({ ...CT_12_BIT, transferSyntax: TS.jpeg2000Lossless, pixelData: { fragments: [frame] } });
    assert.deepEqual(Array.from(hu), expectedHu(STORED));
  });

  test("JPEG 2000 with an unsigned codestream but Pixel Representation 1 reads as two's complement", async () => {
    const frame = await encodeJpeg2000(
      Uint16Array.from(STORED, (value) => value & 0x1fff),
      COLUMNS,
      ROWS,
      13,
      false,
    );
    const hu = await huOf({ ...CT_12_BIT, bitsStored: 13, transferSyntax: TS.jpeg2000Lossless, pixelData: { fragments: [frame] } });
    assert.deepEqual(Array.from(hu), expectedHu(STORED));
  });

  test('JPEG Baseline 8-bit decodes as libjpeg-turbo (via sharp) does', async () => {
    const samples = Uint8Array.from({ length: ROWS * COLUMNS }, (_, i) => (i * 7) % 256);
    const { jpeg, decoded } = await encodeJpegBaseline(samples, COLUMNS, ROWS);
    const hu = await huOf({
      rows: ROWS,
      columns: COLUMNS,
      bitsAllocated: 8,
      pixelRepresentation: 0,
      transferSyntax: TS.jpegBaseline,
      pixelData: { fragments: [jpeg] },
    });
    assert.deepEqual(Array.from(hu), Array.from(decoded));
  });
});

describe('stored values to Hounsfield units', () => {
  test('bits above Bits Stored are ignored (PS3.5 8.1.1)', async () => {
    const noisyHighBits = Uint16Array.from(STORED, (value) => (value & 0xfff) | 0xa000);
    const hu = await huOf({ ...CT_12_BIT, transferSyntax: TS.explicitLittle, pixelData: { words: noisyHighBits } });
    assert.deepEqual(Array.from(hu), expectedHu(STORED));
  });

  test('Rescale Slope and Intercept apply as stored * slope + intercept', async () => {
    const hu = await huOf({ ...CT_12_BIT, rescaleSlope: '0.5', rescaleIntercept: '-100', transferSyntax: TS.explicitLittle, pixelData: words(STORED) });
    assert.deepEqual(Array.from(hu), expectedHu(STORED, 0.5, -100));
  });

  test('no Modality LUT means slope 1, intercept 0', async () => {
    const { rescaleSlope, rescaleIntercept, ...noRescale } = CT_12_BIT;
    const hu = await huOf({ ...noRescale, transferSyntax: TS.explicitLittle, pixelData: words(STORED) });
    assert.deepEqual(Array.from(hu), Array.from(STORED));
  });

  test('Pixel Padding Value becomes PADDING_HU; Implicit VR reads it signed from Pixel Representation', async () => {
    const stored = Int16Array.from(STORED);
    stored.fill(-2000, 0, 20);
    for (const transferSyntax of [TS.explicitLittle, TS.implicitLittle, TS.explicitBig]) {
      const hu = await huOf({ ...CT_12_BIT, pixelPaddingValue: -2000, transferSyntax, pixelData: words(stored) });
      const expected = expectedHu(stored).map((value, i) => (stored[i] === -2000 ? PADDING_HU : value));
      assert.deepEqual(Array.from(hu), expected, transferSyntax);
    }
  });

  test('Pixel Padding Range Limit pads the inclusive range, in either order', async () => {
    for (const [value, limit] of [
      [-2000, -1500],
      [-1500, -2000],
    ]) {
      const hu = await huOf({
        ...CT_12_BIT,
        pixelPaddingValue: value,
        pixelPaddingRangeLimit: limit,
        transferSyntax: TS.explicitLittle,
        pixelData: words(STORED),
      });
      const expected = expectedHu(STORED).map((hu, i) => (STORED[i] >= -2000 && STORED[i] <= -1500 ? PADDING_HU : hu));
      assert.deepEqual(Array.from(hu), expected);
    }
  });

  test('unsigned data with Pixel Padding Value 0', async () => {
    const stored = Uint16Array.from(STORED, (value) => value + 2000);
    const hu = await huOf({ ...CT_12_BIT, pixelRepresentation: 0, pixelPaddingValue: 0, transferSyntax: TS.explicitLittle, pixelData: { words: stored } });
    assert.deepEqual(
      Array.from(hu),
      Array.from(stored, (value) => (value === 0 ? PADDING_HU : value - 1024)),
    );
  });

  test('MONOCHROME1 is inverted within the stored range for non-CT only', async () => {
    const stored = Uint16Array.of(0, 1, 2048, 4095);
    const base = {
      rows: 2,
      columns: 2,
      bitsStored: 12,
      pixelRepresentation: 0,
      photometricInterpretation: 'MONOCHROME1',
      transferSyntax: TS.explicitLittle,
      pixelData: { words: stored },
    } as const;
    assert.deepEqual(Array.from(await huOf({ ...base, modality: 'MR' })), [4095, 4094, 2047, 0]);
    assert.deepEqual(Array.from(await huOf({ ...base, modality: 'CT' })), [0, 1, 2048, 4095]);
    const signed = { ...base, modality: 'CR', pixelRepresentation: 1, pixelData: words([-2048, -1, 0, 2047]) } as const;
    assert.deepEqual(Array.from(await huOf(signed)), [2047, 0, -1, -2048]);
  });
});

describe('multi-frame', () => {
  const frame1 = Int16Array.from({ length: 4 }, (_, i) => i);
  const frame2 = Int16Array.from({ length: 4 }, (_, i) => 100 + i);
  const base = { rows: 2, columns: 2, numberOfFrames: 2 } as const;

  test('native: frame count exposed, first frame decoded', async () => {
    const image = await readDicom({
      bytes: syntheticDicom({ ...base, transferSyntax: TS.explicitLittle, pixelData: words([...frame1, ...frame2]) }),
      source: 'multi.dcm',
    });
    assert.equal(image.frameCount, 2);
    assert.deepEqual(Array.from(image.hu()), Array.from(frame1));
  });

  test('encapsulated, one fragment per frame and no offset table', async () => {
    const fragments = [encodeRle16(words(frame1).words), encodeRle16(words(frame2).words)];
    const image = await readDicom({ bytes: syntheticDicom({ ...base, transferSyntax: TS.rle, pixelData: { fragments } }), source: 'multi-rle.dcm' });
    assert.equal(image.frameCount, 2);
    assert.deepEqual(Array.from(image.hu()), Array.from(frame1));
  });
});
