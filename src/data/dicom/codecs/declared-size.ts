/**
 * The image size a JPEG, JPEG-LS or JPEG 2000 codestream declares in its header. Decoders size their
 * output from it, not from the DICOM header, so it is read (without decoding anything) and checked
 * before a decoder is given the codestream.
 */

/** What a codestream's header declares: columns, rows and components. */
export interface DeclaredSize {
  width: number;
  height: number;
  components: number;
}

export type CodestreamFamily = 'jpeg' | 'jpeg-2000';

/**
 * The size `codestream` declares; undefined when it does not begin with its family's start marker
 * (SOI for JPEG and JPEG-LS, SOC for JPEG 2000), which every decoder refuses before reading further.
 * @throws Error when the codestream begins like one but its header ends before the size.
 */
export function declaredSize(codestream: Uint8Array, family: CodestreamFamily): DeclaredSize | undefined {
  return family === 'jpeg' ? jpegFrameHeader(codestream) : jpeg2000ImageSize(codestream);
}

const MARKER = 0xff;
const START_OF_IMAGE = 0xd8;
const START_OF_SCAN = 0xda;
/** SOFn (ISO 10918-1 B.1.1.3; C4, C8 and CC are DHT, JPG and DAC) and SOF55, JPEG-LS's (ISO 14495-1 C.2.2). */
const START_OF_FRAME = new Set([0xc0, 0xc1, 0xc2, 0xc3, 0xc5, 0xc6, 0xc7, 0xc9, 0xca, 0xcb, 0xcd, 0xce, 0xcf, 0xf7]);
/** Markers without a length field: TEM and RSTm (ISO 10918-1 B.1.1.4). */
const STANDALONE = new Set([0x01, 0xd0, 0xd1, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7]);

/**
 * The frame header (ISO 10918-1 B.2.2: Lf, P, Y, X, Nf), which comes before the first scan. Between
 * segments, bytes that are not a marker are skipped, as libjpeg does.
 */
function jpegFrameHeader(bytes: Uint8Array): DeclaredSize | undefined {
  if (bytes[0] !== MARKER || bytes[1] !== START_OF_IMAGE) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 2;
  while (at + 4 <= bytes.length) {
    if (bytes[at] !== MARKER || bytes[at + 1] === MARKER || bytes[at + 1] === 0) {
      at++;
      continue;
    }
    const marker = bytes[at + 1];
    if (marker === START_OF_SCAN) break;
    if (STANDALONE.has(marker)) {
      at += 2;
      continue;
    }
    if (START_OF_FRAME.has(marker)) {
      if (at + 10 > bytes.length) break;
      return { height: view.getUint16(at + 5), width: view.getUint16(at + 7), components: bytes[at + 9] };
    }
    at += 2 + view.getUint16(at + 2);
  }
  throw new Error('JPEG codestream has no frame header (SOFn) before its first scan');
}

/** SOC then SIZ (ISO 15444-1 A.4.1, A.5.1): Lsiz, Rsiz, Xsiz, Ysiz, XOsiz, YOsiz, tile sizes and offsets, Csiz. */
function jpeg2000ImageSize(bytes: Uint8Array): DeclaredSize | undefined {
  if (bytes[0] !== MARKER || bytes[1] !== 0x4f) return undefined;
  if (bytes.length < 42 || bytes[2] !== MARKER || bytes[3] !== 0x51) throw new Error('JPEG 2000 codestream has no image and tile size (SIZ) marker after SOC');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const [xsiz, ysiz, xosiz, yosiz] = [8, 12, 16, 20].map((offset) => view.getUint32(offset));
  return { width: xsiz - xosiz, height: ysiz - yosiz, components: view.getUint16(40) };
}
