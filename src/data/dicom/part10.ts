/**
 * DICOM Part 10 files (PS3.10 section 7.1): a 128-byte preamble, "DICM", the File Meta Information
 * (group 0002, always Explicit VR Little Endian, PS3.10 7.1), then the data set in its transfer syntax.
 */
import { deflateRawSync } from 'node:zlib';
import { type DataElement, type ElementEncoding, ascii, concatBytes, encodeDataSet } from './encode.js';

/** Transfer syntax UIDs (PS3.5 section 10, PS3.6 Annex A) whose data sets are not Explicit VR Little Endian. */
const IMPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2';
const EXPLICIT_VR_BIG_ENDIAN = '1.2.840.10008.1.2.2';
const DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2.1.99';

/** findstroke's Implementation Class UID (PS3.7 D.3.3.2), a UUID-derived UID (PS3.5 B.2). */
export const IMPLEMENTATION_CLASS_UID = '2.25.311254511176251940651596645829898142680';
/** Implementation Version Name (0002,0013): SH, at most 16 characters. */
const IMPLEMENTATION_VERSION_NAME = 'FINDSTROKE_0_1';

/** What the File Meta Information says about the data set it heads (PS3.10 7.1, Table 7.1-1). */
export interface FileMeta {
  /** Media Storage SOP Class UID (0002,0002): the data set's SOP Class UID. */
  readonly sopClassUid: string;
  /** Media Storage SOP Instance UID (0002,0003): the data set's SOP Instance UID. */
  readonly sopInstanceUid: string;
  /** Transfer Syntax UID (0002,0010) of the data set. */
  readonly transferSyntaxUid: string;
}

/**
 * A Part 10 file of `dataSet` encoded in `meta.transferSyntaxUid`: implicit or explicit VR, little
 * or big endian, deflated (PS3.5 A.5) where the syntax says so; encapsulated syntaxes are explicit
 * VR little endian (PS3.5 A.4) with Pixel Data given as fragments.
 */
export function writePart10(dataSet: readonly DataElement[], meta: FileMeta): Uint8Array {
  const metaElements = encodeDataSet(
    [
      [0x00020001, 'OB', { bytes: Uint8Array.of(0, 1) }],
      [0x00020002, 'UI', meta.sopClassUid],
      [0x00020003, 'UI', meta.sopInstanceUid],
      [0x00020010, 'UI', meta.transferSyntaxUid],
      [0x00020012, 'UI', IMPLEMENTATION_CLASS_UID],
      [0x00020013, 'SH', IMPLEMENTATION_VERSION_NAME],
    ],
    EXPLICIT_LITTLE,
  );
  // File Meta Information Group Length (0002,0000): the bytes of the group that follow it.
  const groupLength = encodeDataSet([[0x00020000, 'UL', [metaElements.length]]], EXPLICIT_LITTLE);
  const encoded = encodeDataSet(dataSet, dataSetEncoding(meta.transferSyntaxUid));
  const body = meta.transferSyntaxUid === DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN ? deflateRawSync(encoded) : encoded;
  return concatBytes([new Uint8Array(128), ascii('DICM'), groupLength, metaElements, body]);
}

const EXPLICIT_LITTLE: ElementEncoding = { explicitVr: true, littleEndian: true };

function dataSetEncoding(transferSyntaxUid: string): ElementEncoding {
  return {
    explicitVr: transferSyntaxUid !== IMPLICIT_VR_LITTLE_ENDIAN,
    littleEndian: transferSyntaxUid !== EXPLICIT_VR_BIG_ENDIAN,
  };
}
