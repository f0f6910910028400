import type { DataSet } from 'dicom-parser';
import { AttributeReader } from './attributes.js';
import { DicomError } from './errors.js';
import { loadDicomBytes, type DicomInput } from './input.js';
import { DICOM_LIMITS, type DicomLimits } from './limits.js';
import { parseDataSet } from './parse.js';
import { TAG } from './tags.js';

/** A point or direction in the patient coordinate system, in mm (PS3.3 C.7.6.2.1.1). */
export type Vector3 = readonly [number, number, number];

/**
 * The attributes of one DICOM image that findstroke uses: identity (for series grouping), geometry
 * (for slice order and spacing) and the pixel description needed to turn stored values into HU.
 */
export interface DicomHeader {
  /** The path, or the caller's label for in-memory bytes. */
  readonly source: string;
  readonly sopInstanceUid: string;
  readonly seriesInstanceUid: string;
  readonly studyInstanceUid: string;
  /** Type 2 in the Patient module: empty when the file leaves it empty. */
  readonly patientId: string;
  /** CT, MR, ... (PS3.3 C.7.3.1.1.1). */
  readonly modality: string;
  readonly transferSyntaxUid: string;
  readonly rows: number;
  readonly columns: number;
  /** Number of Frames (0028,0008); 1 for single-frame images. */
  readonly frameCount: number;
  readonly samplesPerPixel: number;
  readonly photometricInterpretation: string;
  readonly bitsAllocated: number;
  readonly bitsStored: number;
  /** 0: unsigned stored values, 1: two's complement. */
  readonly pixelRepresentation: 0 | 1;
  /** Modality LUT (PS3.3 C.11.1.1.2); 1 and 0 when the file has none (e.g. MR). */
  readonly rescaleSlope: number;
  readonly rescaleIntercept: number;
  /** Stored value that marks pixels outside the scanned area (PS3.3 C.7.5.1.1.2). */
  readonly pixelPaddingValue: number | undefined;
  /** With a padding value, the other end of an inclusive range of padding values. */
  readonly pixelPaddingRangeLimit: number | undefined;
  /** The file's own VOI windows (PS3.3 C.11.2.1.2), in modality-LUT units (HU for CT). */
  readonly windowCenters: readonly number[];
  readonly windowWidths: readonly number[];
  /** Centre of the first transmitted pixel (PS3.3 C.7.6.2.1.1). */
  readonly imagePositionPatient: Vector3 | undefined;
  /** Direction cosines of the first row, then of the first column. */
  readonly imageOrientationPatient: readonly [number, number, number, number, number, number] | undefined;
  readonly sliceThickness: number | undefined;
  readonly instanceNumber: number | undefined;
  /** Row spacing then column spacing, in mm (PS3.3 10.7.1.3). */
  readonly pixelSpacing: readonly [number, number] | undefined;
}

/**
 * Reads only the header of a DICOM file, stopping at Pixel Data: for inspection and series
 * grouping, where decoding every slice would be wasted work.
 * @throws {@link DicomError} when the file cannot be read, is not DICOM, is not an image, or its
 * deflated data set inflates past `limits`.
 */
export async function readDicomHeader(input: DicomInput, limits: DicomLimits = DICOM_LIMITS): Promise<DicomHeader> {
  const { bytes, source } = await loadDicomBytes(input);
  return headerFromDataSet(parseDataSet(bytes, source, true, limits), source);
}

/** The {@link DicomHeader} of a parsed data set. */
export function headerFromDataSet(dataSet: DataSet, source: string): DicomHeader {
  const read = new AttributeReader(dataSet, source);
  if (!read.has(TAG.pixelData)) throw new DicomError(source, 'has no Pixel Data (7FE0,0010); not an image');
  const identity = {
    source,
    sopInstanceUid: read.requiredString(TAG.sopInstanceUid, 'SOPInstanceUID'),
    seriesInstanceUid: read.requiredString(TAG.seriesInstanceUid, 'SeriesInstanceUID'),
    studyInstanceUid: read.requiredString(TAG.studyInstanceUid, 'StudyInstanceUID'),
    patientId: read.string(TAG.patientId) ?? '',
    modality: read.requiredString(TAG.modality, 'Modality'),
    transferSyntaxUid: read.requiredString(TAG.transferSyntaxUid, 'TransferSyntaxUID'),
  };
  const bitsAllocated = read.requiredUint16(TAG.bitsAllocated, 'BitsAllocated');
  const pixelRepresentation = read.uint16(TAG.pixelRepresentation) ?? 0;
  if (pixelRepresentation !== 0 && pixelRepresentation !== 1) {
    throw new DicomError(source, `PixelRepresentation ${pixelRepresentation} is neither 0 (unsigned) nor 1 (signed)`);
  }
  const signed = pixelRepresentation === 1;
  return {
    ...identity,
    rows: read.requiredUint16(TAG.rows, 'Rows'),
    columns: read.requiredUint16(TAG.columns, 'Columns'),
    frameCount: read.number(TAG.numberOfFrames, 'NumberOfFrames') ?? 1,
    samplesPerPixel: read.uint16(TAG.samplesPerPixel) ?? 1,
    photometricInterpretation: read.requiredString(TAG.photometricInterpretation, 'PhotometricInterpretation'),
    bitsAllocated,
    bitsStored: read.uint16(TAG.bitsStored) ?? bitsAllocated,
    pixelRepresentation,
    rescaleSlope: read.number(TAG.rescaleSlope, 'RescaleSlope') ?? 1,
    rescaleIntercept: read.number(TAG.rescaleIntercept, 'RescaleIntercept') ?? 0,
    pixelPaddingValue: read.uint16OrInt16(TAG.pixelPaddingValue, signed),
    pixelPaddingRangeLimit: read.uint16OrInt16(TAG.pixelPaddingRangeLimit, signed),
    windowCenters: read.numbers(TAG.windowCenter, 'WindowCenter'),
    windowWidths: read.numbers(TAG.windowWidth, 'WindowWidth'),
    imagePositionPatient: read.vector(TAG.imagePositionPatient, 'ImagePositionPatient', 3) as Vector3 | undefined,
    imageOrientationPatient: read.vector(TAG.imageOrientationPatient, 'ImageOrientationPatient', 6) as DicomHeader['imageOrientationPatient'],
    sliceThickness: read.number(TAG.sliceThickness, 'SliceThickness'),
    instanceNumber: read.number(TAG.instanceNumber, 'InstanceNumber'),
    pixelSpacing: read.vector(TAG.pixelSpacing, 'PixelSpacing', 2) as DicomHeader['pixelSpacing'],
  };
}
