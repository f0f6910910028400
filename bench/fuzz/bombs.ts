/**
 * Small files that cost a reader far more than their size: a deflated data set (PS3.5 A.5) that
 * inflates to a long run of zeros, and images that declare more pixels than any head CT has, in
 * RLE (PS3.5 G), deflated or native Pixel Data. Each is made from an ordinary CT slice (explicit VR
 * little endian), so everything but the bomb is readable. The fuzzer itself never holds the inflated
 * bytes: the deflate stream of a 1 MiB zero chunk is repeated instead (see {@link deflateWithZeroRun}).
 */
import { constants, deflateRawSync } from 'node:zlib';
import { concatBytes, encodeDataSet } from '../../src/data/dicom/encode.js';
import { TAGS, editPart10, fileMetaOnly, part10Meta } from './dicom-edit.js';

const DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2.1.99';
const RLE_LOSSLESS = '1.2.840.10008.1.2.5';
/** A private block after Pixel Data (PS3.5 7.8.1): its creator, then the element holding the zeros. */
const PRIVATE_CREATOR = 0x7fe10010;
const PRIVATE_ZEROS = 0x7fe11010;

const ZERO_CHUNK = 1 << 20;

/**
 * `base` deflated, followed in the data set by a private OB element of `zeroBytes` zeros: a file of
 * about zeroBytes / 1000 bytes that inflates to zeroBytes.
 */
export function deflateBomb(base: Uint8Array, zeroBytes: number): Uint8Array {
  const { meta, dataSetStart } = part10Meta(base);
  const creator = encodeDataSet([[PRIVATE_CREATOR, 'LO', 'FINDSTROKE FUZZ']], { explicitVr: true, littleEndian: true });
  const prefix = concatBytes([base.subarray(dataSetStart), creator, longElementHeader(PRIVATE_ZEROS, 'OB', evenLength(zeroBytes))]);
  return concatBytes([fileMetaOnly({ ...meta, transferSyntaxUid: DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN }), deflateWithZeroRun(prefix, evenLength(zeroBytes))]);
}

/** `base` declared `rows` x `columns`, deflated, with Pixel Data of the zeros that many 16-bit pixels take. */
export function deflatedOversizedImage(base: Uint8Array, rows: number, columns: number): Uint8Array {
  const resized = editPart10(base, {
    set: [
      [TAGS.rows, 'US', [rows]],
      [TAGS.columns, 'US', [columns]],
      [TAGS.pixelData, 'OW', undefined],
    ],
  });
  const { meta, dataSetStart } = part10Meta(resized);
  const pixelBytes = rows * columns * 2;
  const prefix = concatBytes([resized.subarray(dataSetStart), longElementHeader(TAGS.pixelData, 'OW', pixelBytes)]);
  return concatBytes([fileMetaOnly({ ...meta, transferSyntaxUid: DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN }), deflateWithZeroRun(prefix, pixelBytes)]);
}

/**
 * `base` declared `rows` x `columns` in RLE Lossless, one fragment of two segments (16-bit samples,
 * PS3.5 G.2). `filled`: every pixel is there, as 128-byte runs (a 64:1 ratio); otherwise each segment
 * holds one run and the rest is missing.
 */
export function rleOversizedImage(base: Uint8Array, rows: number, columns: number, filled: boolean): Uint8Array {
  const runs = filled ? Math.ceil((rows * columns) / 128) : 1;
  // PackBits (G.3.1): header byte -127 repeats the next byte 128 times.
  const segment = new Uint8Array(runs * 2);
  for (let i = 0; i < segment.length; i += 2) segment[i] = 0x81;
  const header = new DataView(new ArrayBuffer(64));
  header.setUint32(0, 2, true);
  header.setUint32(4, 64, true);
  header.setUint32(8, 64 + segment.length, true);
  const frame = concatBytes([new Uint8Array(header.buffer), segment, segment]);
  return editPart10(base, {
    set: [
      [TAGS.rows, 'US', [rows]],
      [TAGS.columns, 'US', [columns]],
      [TAGS.pixelData, 'OB', { fragments: [frame] }],
    ],
    transferSyntaxUid: RLE_LOSSLESS,
  });
}

/** `base` declared `rows` x `columns` with its own, far too short, native Pixel Data. */
export function nativeOversizedImage(base: Uint8Array, rows: number, columns: number): Uint8Array {
  return editPart10(base, {
    set: [
      [TAGS.rows, 'US', [rows]],
      [TAGS.columns, 'US', [columns]],
    ],
  });
}

/**
 * A raw deflate stream (RFC 1951) of `prefix` then `zeroBytes` zeros. Each piece is deflated on its
 * own and ended with a full flush (RFC 1951 3.2.4: byte-aligned, no back-reference across it), so
 * one chunk's compressed bytes can stand for every 1 MiB of zeros; only the last piece is final.
 */
export function deflateWithZeroRun(prefix: Uint8Array, zeroBytes: number): Uint8Array {
  const flush = { finishFlush: constants.Z_FULL_FLUSH };
  const chunk = deflateRawSync(new Uint8Array(ZERO_CHUNK), flush);
  const parts = [deflateRawSync(prefix, flush)];
  for (let left = zeroBytes; left > 0; left -= ZERO_CHUNK) parts.push(left >= ZERO_CHUNK ? chunk : deflateRawSync(new Uint8Array(left), flush));
  parts.push(deflateRawSync(new Uint8Array(0)));
  return concatBytes(parts);
}

/** An explicit VR header with a 32-bit length (PS3.5 7.1.2): tag, VR, two reserved bytes, length. */
function longElementHeader(tag: number, vr: 'OB' | 'OW', length: number): Uint8Array {
  const view = new DataView(new ArrayBuffer(12));
  view.setUint16(0, tag >>> 16, true);
  view.setUint16(2, tag & 0xffff, true);
  view.setUint8(4, vr.charCodeAt(0));
  view.setUint8(5, vr.charCodeAt(1));
  view.setUint32(8, length, true);
  return new Uint8Array(view.buffer);
}

function evenLength(bytes: number): number {
  return bytes + (bytes % 2);
}
