import { DicomError } from './errors.js';

/**
 * How a transfer syntax stores Pixel Data: native (uncompressed, PS3.5 section 8.1) in either byte
 * order, or encapsulated (PS3.5 section 8.2, A.4) with one of the compression schemes below.
 */
export type PixelEncoding = 'native-little-endian' | 'native-big-endian' | 'rle' | 'jpeg-baseline' | 'jpeg-lossless' | 'jpeg-ls' | 'jpeg-2000';

/** A transfer syntax findstroke can decode (PS3.5 section 10 and Annex A). */
export interface TransferSyntax {
  uid: string;
  name: string;
  encoding: PixelEncoding;
}

const SUPPORTED: readonly TransferSyntax[] = [
  // PS3.5 A.1, A.2: dicom-parser reads the VRs; pixel bytes are little endian either way.
  { uid: '1.2.840.10008.1.2', name: 'Implicit VR Little Endian', encoding: 'native-little-endian' },
  { uid: '1.2.840.10008.1.2.1', name: 'Explicit VR Little Endian', encoding: 'native-little-endian' },
  // PS3.5 A.5: dicom-parser inflates (zlib inflateRaw) everything after the File Meta Information.
  { uid: '1.2.840.10008.1.2.1.99', name: 'Deflated Explicit VR Little Endian', encoding: 'native-little-endian' },
  // PS3.5 A.3 (retired, still met in old archives).
  { uid: '1.2.840.10008.1.2.2', name: 'Explicit VR Big Endian', encoding: 'native-big-endian' },
  // PS3.5 A.4.2 and Annex G.
  { uid: '1.2.840.10008.1.2.5', name: 'RLE Lossless', encoding: 'rle' },
  // PS3.5 A.4.1 (ISO 10918-1).
  { uid: '1.2.840.10008.1.2.4.50', name: 'JPEG Baseline (Process 1)', encoding: 'jpeg-baseline' },
  { uid: '1.2.840.10008.1.2.4.57', name: 'JPEG Lossless, Non-Hierarchical (Process 14)', encoding: 'jpeg-lossless' },
  { uid: '1.2.840.10008.1.2.4.70', name: 'JPEG Lossless, Non-Hierarchical, First-Order Prediction (Process 14, SV1)', encoding: 'jpeg-lossless' },
  // PS3.5 A.4.3 (ISO 14495-1).
  { uid: '1.2.840.10008.1.2.4.80', name: 'JPEG-LS Lossless', encoding: 'jpeg-ls' },
  { uid: '1.2.840.10008.1.2.4.81', name: 'JPEG-LS Near-Lossless', encoding: 'jpeg-ls' },
  // PS3.5 A.4.4 (ISO 15444-1).
  { uid: '1.2.840.10008.1.2.4.90', name: 'JPEG 2000 (Lossless Only)', encoding: 'jpeg-2000' },
  { uid: '1.2.840.10008.1.2.4.91', name: 'JPEG 2000', encoding: 'jpeg-2000' },
];

const BY_UID = new Map(SUPPORTED.map((syntax) => [syntax.uid, syntax]));

/** The UIDs of every transfer syntax `readDicom` decodes. */
export const SUPPORTED_TRANSFER_SYNTAX_UIDS: readonly string[] = SUPPORTED.map((syntax) => syntax.uid);

/** The supported transfer syntax with this UID; a {@link DicomError} naming `source` otherwise. */
export function transferSyntaxOf(uid: string, source: string): TransferSyntax {
  const syntax = BY_UID.get(uid);
  if (!syntax) {
    throw new DicomError(source, `transfer syntax ${uid || '(none)'} is not supported; findstroke decodes ${SUPPORTED_TRANSFER_SYNTAX_UIDS.join(', ')}`);
  }
  return syntax;
}
