import type { DataElement, ElementValue } from '../../../../src/data/dicom/encode.js';
import { writeDicom } from './write-dicom.js';

/** What a synthetic image varies; everything else gets a plain head-CT default. */
export interface SyntheticImage {
  rows: number;
  columns: number;
  /** Native Pixel Data words (or 8-bit samples), or encapsulated frames. */
  pixelData: ElementValue;
  transferSyntax: string;
  modality?: string;
  photometricInterpretation?: string;
  bitsAllocated?: number;
  bitsStored?: number;
  pixelRepresentation?: 0 | 1;
  rescaleSlope?: string;
  rescaleIntercept?: string;
  pixelPaddingValue?: number;
  pixelPaddingRangeLimit?: number;
  numberOfFrames?: number;
  samplesPerPixel?: number;
  seriesInstanceUid?: string;
  sopInstanceUid?: string;
  instanceNumber?: number;
  imagePositionPatient?: string;
  imageOrientationPatient?: string;
}

/** A Part 10 file of one synthetic image. */
export function syntheticDicom(image: SyntheticImage): Uint8Array {
  const bitsAllocated = image.bitsAllocated ?? 16;
  const signed = image.pixelRepresentation ?? 1;
  const paddingVr = signed ? 'SS' : 'US';
  const optional: Array<DataElement | false> = [
    image.rescaleSlope !== undefined && [0x00281053, 'DS', image.rescaleSlope],
    image.rescaleIntercept !== undefined && [0x00281052, 'DS', image.rescaleIntercept],
    image.pixelPaddingValue !== undefined && [0x00280120, paddingVr, [image.pixelPaddingValue]],
    image.pixelPaddingRangeLimit !== undefined && [0x00280121, paddingVr, [image.pixelPaddingRangeLimit]],
    image.numberOfFrames !== undefined && [0x00280008, 'IS', String(image.numberOfFrames)],
    image.instanceNumber !== undefined && [0x00200013, 'IS', String(image.instanceNumber)],
    image.imagePositionPatient !== undefined && [0x00200032, 'DS', image.imagePositionPatient],
    image.imageOrientationPatient !== undefined && [0x00200037, 'DS', image.imageOrientationPatient],
  ];
  const attributes: DataElement[] = [
    [0x00080018, 'UI', image.sopInstanceUid ?? '1.2.826.0.1.3680043.10.99.3'],
    [0x00080060, 'CS', image.modality ?? 'CT'],
    [0x00100020, 'LO', 'SYNTHETIC'],
    [0x0020000d, 'UI', '1.2.826.0.1.3680043.10.99.1'],
    [0x0020000e, 'UI', image.seriesInstanceUid ?? '1.2.826.0.1.3680043.10.99.2'],
    [0x00280002, 'US', [image.samplesPerPixel ?? 1]],
    [0x00280004, 'CS', image.photometricInterpretation ?? 'MONOCHROME2'],
    [0x00280010, 'US', [image.rows]],
    [0x00280011, 'US', [image.columns]],
    [0x00280100, 'US', [bitsAllocated]],
    [0x00280101, 'US', [image.bitsStored ?? bitsAllocated]],
    [0x00280102, 'US', [(image.bitsStored ?? bitsAllocated) - 1]],
    [0x00280103, 'US', [signed]],
    [0x7fe00010, bitsAllocated === 8 ? 'OB' : 'OW', image.pixelData],
    ...optional.filter((attribute): attribute is DataElement => attribute !== false),
  ];
  return writeDicom(attributes, image.transferSyntax);
}

/** 16-bit words holding `values` as two's complement (the low 16 bits). */
export function words(values: ArrayLike<number>): { words: Uint16Array } {
  return { words: Uint16Array.from(values as ArrayLike<number>, (value) => value & 0xffff) };
}
