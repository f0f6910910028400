/**
 * Edits of the top-level data elements of a DICOM Part 10 file whose data set is explicit VR little
 * endian, native or encapsulated (PS3.5 A.2, A.4): how the fuzzer gives a real or phantom slice new
 * UIDs, another patient, modality or size, or another transfer syntax, without decoding anything else.
 */
import dicomParser from 'dicom-parser';
import { concatBytes, encodeDataSet } from '../../src/data/dicom/encode.js';
import { writePart10, type DataElement, type FileMeta } from '../../src/data/dicom/index.js';
import { TAG } from '../../src/data/dicom/tags.js';

/** Tags as the edits take them (0xGGGGEEEE): those findstroke reads (PS3.6 names, as in tags.ts), and the few only the fuzzer writes. */
export const TAGS = {
  ...(Object.fromEntries(Object.entries(TAG).map(([name, key]) => [name, Number.parseInt(key.slice(1), 16)])) as Record<keyof typeof TAG, number>),
  sopClassUid: 0x00080016,
  patientName: 0x00100010,
  frameOfReferenceUid: 0x00200052,
};

/** Where a top-level element lies in the file, header included. */
export interface ElementSpan {
  tag: number;
  vr: string | undefined;
  /** Offset of the tag (the element's first byte). */
  start: number;
  /** Offset of the value. */
  valueStart: number;
  /** Offset just past the value (for encapsulated Pixel Data, past its Sequence Delimitation Item). */
  end: number;
}

export interface Part10Layout {
  meta: FileMeta;
  /** Offset of the data set: just past the File Meta Information (PS3.10 7.1). */
  dataSetStart: number;
  /** The data set's top-level elements, in file order. */
  elements: ElementSpan[];
}

/** VRs whose explicit-VR header is 12 bytes: 2 reserved bytes then a 32-bit length (PS3.5 7.1.2). */
const LONG_HEADER_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'SV', 'UC', 'UN', 'UR', 'UT', 'UV']);
const EXPLICIT_LITTLE = { explicitVr: true, littleEndian: true } as const;
const FILE_META_GROUP = 0x0002;

/**
 * The File Meta Information of `bytes` (PS3.10 7.1) and where the data set starts.
 * @throws Error when the preamble, "DICM" or the meta group cannot be read.
 */
export function part10Meta(bytes: Uint8Array): { meta: FileMeta; dataSetStart: number } {
  const header = dicomParser.readPart10Header(bytes);
  const meta = {
    sopClassUid: header.string('x00020002') ?? '',
    sopInstanceUid: header.string('x00020003') ?? '',
    transferSyntaxUid: header.string('x00020010') ?? '',
  };
  const dataSetStart = Math.max(132, ...Object.values(header.elements).map((element) => element.dataOffset + element.length));
  return { meta, dataSetStart };
}

/**
 * The meta information and top-level element spans of `bytes`, an explicit VR little endian file.
 * @throws Error when dicom-parser cannot read the file.
 */
export function part10Layout(bytes: Uint8Array): Part10Layout {
  const { meta, dataSetStart } = part10Meta(bytes);
  const dataSet = dicomParser.parseDicom(bytes);
  const spans: ElementSpan[] = [];
  for (const [key, element] of Object.entries(dataSet.elements)) {
    const tag = Number.parseInt(key.slice(1), 16);
    if (tag >>> 16 === FILE_META_GROUP) continue;
    const headerBytes = element.vr && LONG_HEADER_VRS.has(element.vr) ? 12 : 8;
    // Undefined-length sequences end with a Sequence Delimitation Item that `length` leaves out.
    const end = element.dataOffset + element.length + (element.hadUndefinedLength && !element.encapsulatedPixelData ? 8 : 0);
    spans.push({ tag, vr: element.vr, start: element.dataOffset - headerBytes, valueStart: element.dataOffset, end });
  }
  spans.sort((a, b) => a.start - b.start);
  return { meta, dataSetStart, elements: spans };
}

export interface Part10Edit {
  /** Elements to set (added in tag order when absent); a value of `undefined` removes the element. */
  set?: readonly (readonly [tag: number, vr: string, value: DataElement[2] | undefined])[];
  /** A new Transfer Syntax UID in the meta information; the data set bytes are not re-encoded. */
  transferSyntaxUid?: string;
}

/**
 * `bytes` with `edit` applied. The File Meta Information is written anew (PS3.10 7.1), its Media
 * Storage SOP Class and Instance UIDs following the data set's when the edit changes them.
 */
export function editPart10(bytes: Uint8Array, edit: Part10Edit): Uint8Array {
  const layout = part10Layout(bytes);
  const meta = { ...layout.meta };
  let dataSet = bytes.subarray(layout.dataSetStart);
  // Later elements first, so the offsets of earlier ones still hold.
  const edits = [...(edit.set ?? [])].sort(([a], [b]) => b - a);
  for (const [tag, vr, value] of edits) {
    if (tag === TAGS.sopClassUid && typeof value === 'string') meta.sopClassUid = value;
    if (tag === TAGS.sopInstanceUid && typeof value === 'string') meta.sopInstanceUid = value;
    const encoded = value === undefined ? new Uint8Array(0) : encodeDataSet([[tag, vr, value]], EXPLICIT_LITTLE);
    const existing = layout.elements.find((span) => span.tag === tag);
    const following = layout.elements.find((span) => span.tag > tag);
    const start = (existing ?? following)?.start ?? bytes.length;
    const end = existing ? existing.end : start;
    dataSet = concatBytes([dataSet.subarray(0, start - layout.dataSetStart), encoded, dataSet.subarray(end - layout.dataSetStart)]);
  }
  if (edit.transferSyntaxUid) meta.transferSyntaxUid = edit.transferSyntaxUid;
  return concatBytes([fileMetaOnly(meta), dataSet]);
}

/** The preamble, "DICM" and File Meta Information of `meta`, with no data set after them. */
export function fileMetaOnly(meta: FileMeta): Uint8Array {
  // writePart10 of no elements, cut after the meta group: a deflated syntax would add an empty deflate stream.
  const file = writePart10([], meta);
  // File Meta Information Group Length (0002,0000) is the first element, its UL value at byte 140 (PS3.10 7.1).
  const groupLength = new DataView(file.buffer, file.byteOffset).getUint32(140, true);
  return file.subarray(0, 144 + groupLength);
}
