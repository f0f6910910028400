/**
 * Part 10 fixtures in every transfer syntax the reader decodes, written by findstroke's own writer
 * (src/data/dicom/part10.ts): native Pixel Data in any byte order, or compressed frames as
 * encapsulated Pixel Data (PS3.5 A.4).
 */
import type { DataElement } from '../../../../src/data/dicom/encode.js';
import { writePart10 } from '../../../../src/data/dicom/part10.js';
import { CT_IMAGE_STORAGE } from '../../../../src/data/dicom/write.js';

export const TS = {
  implicitLittle: '1.2.840.10008.1.2',
  explicitLittle: '1.2.840.10008.1.2.1',
  deflated: '1.2.840.10008.1.2.1.99',
  explicitBig: '1.2.840.10008.1.2.2',
  rle: '1.2.840.10008.1.2.5',
  jpegBaseline: '1.2.840.10008.1.2.4.50',
  jpegExtended: '1.2.840.10008.1.2.4.51',
  jpegLsLossless: '1.2.840.10008.1.2.4.80',
  jpeg2000Lossless: '1.2.840.10008.1.2.4.90',
} as const;

/** A CT Image Storage file of `attributes` (which may lack a SOP Instance UID, to test the reader's errors). */
export function writeDicom(attributes: readonly DataElement[], transferSyntax: string): Uint8Array {
  const sopInstance = attributes.find(([tag]) => tag === 0x00080018)?.[2];
  return writePart10(attributes, {
    sopClassUid: CT_IMAGE_STORAGE,
    sopInstanceUid: typeof sopInstance === 'string' ? sopInstance : '1.2.3',
    transferSyntaxUid: transferSyntax,
  });
}
