/**
 * Encoding of DICOM data elements (PS3.5 section 7.1): tag, VR (explicit VR only), value length and
 * value, in either byte order, with Pixel Data native or encapsulated (PS3.5 A.4).
 */

/**
 * The value of one element: text for string VRs (several values joined by `\`, PS3.5 6.4); numbers
 * for US, SS and UL; 16-bit words for OW; bytes for OB; compressed frames for encapsulated Pixel Data.
 */
export type ElementValue =
  string | readonly number[] | { readonly words: Uint16Array } | { readonly bytes: Uint8Array } | { readonly fragments: readonly Uint8Array[] };

/** One data element: tag as `0xGGGGEEEE`, the PS3.5 6.2 VR code, and the value. */
export type DataElement = readonly [tag: number, vr: string, value: ElementValue];

/** How elements are laid out: the transfer syntax's VR and byte-order rules (PS3.5 section 10). */
export interface ElementEncoding {
  readonly explicitVr: boolean;
  readonly littleEndian: boolean;
}

/** VRs whose explicit-VR header reserves 2 bytes then has a 32-bit length (PS3.5 7.1.2, Table 7.1-1). */
const LONG_LENGTH_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'SV', 'UC', 'UN', 'UR', 'UT', 'UV']);
/** Value Length of encapsulated Pixel Data (PS3.5 A.4): undefined, ended by a Sequence Delimitation Item. */
const UNDEFINED_LENGTH = 0xffffffff;

/** The elements in ascending tag order (PS3.5 7.1), each encoded by {@link encodeElement}, concatenated. */
export function encodeDataSet(elements: readonly DataElement[], encoding: ElementEncoding): Uint8Array {
  const sorted = [...elements].sort(([a], [b]) => a - b);
  return concatBytes(sorted.map((element) => encodeElement(element, encoding)));
}

/** One element: PS3.5 7.1.2 (explicit VR) or 7.1.3 (implicit VR) header, then the even-length value. */
function encodeElement([tag, vr, value]: DataElement, { explicitVr, littleEndian }: ElementEncoding): Uint8Array {
  const isEncapsulated = typeof value === 'object' && 'fragments' in value;
  const data = isEncapsulated ? encapsulate(value.fragments) : encodeValue(vr, value, littleEndian);
  const length = isEncapsulated ? UNDEFINED_LENGTH : data.length;
  const header = new DataView(new ArrayBuffer(12));
  header.setUint16(0, tag >>> 16, littleEndian);
  header.setUint16(2, tag & 0xffff, littleEndian);
  let headerLength: number;
  if (!explicitVr) {
    header.setUint32(4, length, littleEndian);
    headerLength = 8;
  } else if (LONG_LENGTH_VRS.has(vr)) {
    header.setUint8(4, vr.charCodeAt(0));
    header.setUint8(5, vr.charCodeAt(1));
    header.setUint32(8, length, littleEndian);
    headerLength = 12;
  } else {
    if (length > 0xffff) throw new RangeError(`element (${tagText(tag)}) of VR ${vr} is ${length} bytes; its 16-bit length field holds at most 65535`);
    header.setUint8(4, vr.charCodeAt(0));
    header.setUint8(5, vr.charCodeAt(1));
    header.setUint16(6, length, littleEndian);
    headerLength = 8;
  }
  return concatBytes([new Uint8Array(header.buffer, 0, headerLength), data]);
}

function encodeValue(vr: string, value: ElementValue, littleEndian: boolean): Uint8Array {
  if (typeof value === 'string') {
    // Values have even length (PS3.5 7.1.1): UI pads with NUL (PS3.5 9.1), other strings with a space (6.2).
    return ascii(value.length % 2 ? value + (vr === 'UI' ? '\0' : ' ') : value);
  }
  if (isNumberList(value)) {
    const size = vr === 'UL' ? 4 : 2;
    const view = new DataView(new ArrayBuffer(value.length * size));
    value.forEach((number, i) => {
      if (vr === 'UL') view.setUint32(i * 4, number, littleEndian);
      else if (vr === 'SS') view.setInt16(i * 2, number, littleEndian);
      else view.setUint16(i * 2, number, littleEndian);
    });
    return new Uint8Array(view.buffer);
  }
  if ('words' in value) {
    const view = new DataView(new ArrayBuffer(value.words.length * 2));
    value.words.forEach((word, i) => view.setUint16(i * 2, word, littleEndian));
    return new Uint8Array(view.buffer);
  }
  if ('bytes' in value) return evenLength(value.bytes);
  throw new Error('encapsulated fragments are encoded by encapsulate()');
}

function isNumberList(value: ElementValue): value is readonly number[] {
  return Array.isArray(value);
}

/**
 * Encapsulated Pixel Data (PS3.5 A.4): an empty Basic Offset Table item, one item per fragment
 * (always little endian, even length), then a Sequence Delimitation Item.
 */
function encapsulate(fragments: readonly Uint8Array[]): Uint8Array {
  const item = (bytes: Uint8Array) => {
    const even = evenLength(bytes);
    const header = new DataView(new ArrayBuffer(8));
    header.setUint16(0, 0xfffe, true);
    header.setUint16(2, 0xe000, true);
    header.setUint32(4, even.length, true);
    return concatBytes([new Uint8Array(header.buffer), even]);
  };
  const delimiter = Uint8Array.of(0xfe, 0xff, 0xdd, 0xe0, 0, 0, 0, 0);
  return concatBytes([item(new Uint8Array(0)), ...fragments.map(item), delimiter]);
}

function evenLength(bytes: Uint8Array): Uint8Array {
  return bytes.length % 2 ? concatBytes([bytes, new Uint8Array(1)]) : bytes;
}

function tagText(tag: number): string {
  const hex = tag.toString(16).toUpperCase().padStart(8, '0');
  return `${hex.slice(0, 4)},${hex.slice(4)}`;
}

/** The bytes of an ASCII string (the DICOM default character repertoire, PS3.5 6.1). */
export function ascii(text: string): Uint8Array {
  return Uint8Array.from(text, (char) => char.charCodeAt(0));
}

/** `parts` end to end in one new array. */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, part) => n + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
