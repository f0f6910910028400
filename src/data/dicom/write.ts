/**
 * Writing CT slices as DICOM Part 10 files (PS3.10 7.1) of the CT Image IOD (PS3.3 A.3): Explicit VR
 * Little Endian, 16-bit signed stored values with Rescale Intercept -1024, so stored + (-1024) = HU.
 */
import { HEAD_CT_WINDOWS, type VoiWindow } from '../window.js';
import type { DataElement } from './encode.js';
import type { Vector3 } from './header.js';
import { writePart10 } from './part10.js';

/** CT Image Storage (PS3.4 B.5). */
export const CT_IMAGE_STORAGE = '1.2.840.10008.5.1.4.1.1.2';
/** Explicit VR Little Endian (PS3.5 A.2). */
export const EXPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2.1';
/** Rows along +x (patient left), columns along +y (posterior): a plain axial slice (PS3.3 C.7.6.2.1.1). */
export const AXIAL_ORIENTATION = [1, 0, 0, 0, 1, 0] as const;

/** One axial CT slice and the identity of the patient, study and series it belongs to. */
export interface CtSlice {
  readonly patientId: string;
  /** Person Name (PS3.5 6.2), e.g. `PHANTOM^P007`. */
  readonly patientName: string;
  readonly studyInstanceUid: string;
  readonly seriesInstanceUid: string;
  readonly sopInstanceUid: string;
  /** Shared by every slice of a series, so positions compare (PS3.3 C.7.4.1). */
  readonly frameOfReferenceUid: string;
  /** 1-based position in the series. */
  readonly instanceNumber: number;
  readonly rows: number;
  readonly columns: number;
  /** Row-major Hounsfield units, `rows * columns`; stored rounded to whole HU. */
  readonly hu: Float32Array;
  /** Centre of the first transmitted pixel, in mm (PS3.3 C.7.6.2.1.1). */
  readonly imagePositionPatient: Vector3;
  /** Direction cosines of a row then of a column; {@link AXIAL_ORIENTATION} when left out. */
  readonly imageOrientationPatient?: readonly [number, number, number, number, number, number];
  /** Distance between the centres of neighbouring rows, then of neighbouring columns, in mm (PS3.3 10.7.1.3). */
  readonly pixelSpacingMm: readonly [number, number];
  readonly sliceThicknessMm: number;
  /** The VOI window the file suggests (PS3.3 C.11.2); the brain window when left out. */
  readonly window?: VoiWindow;
  /** Further string attributes, e.g. `[0x00081030, 'LO', 'synthetic head CT']` (Study Description). */
  readonly extraAttributes?: readonly (readonly [tag: number, vr: string, value: string])[];
}

/** Stored value = HU - intercept (PS3.3 C.11.1.1.2 with slope 1). */
const RESCALE_INTERCEPT = -1024;
const INT16_MIN = -32768;
const INT16_MAX = 32767;

/**
 * A Part 10 file of `slice`: every Type 1 attribute of the CT Image IOD's modules (PS3.3 A.3) with
 * a value, the Type 2 ones this slice does not know (dates, physician, KVP...) present but empty.
 * @throws RangeError naming the argument when the pixel count, sizes or extra attributes are wrong.
 */
export function writeCtSlice(slice: CtSlice): Uint8Array {
  const { rows, columns, hu } = slice;
  for (const [name, value] of [
    ['rows', rows],
    ['columns', columns],
  ] as const) {
    if (!Number.isInteger(value) || value < 1 || value > 0xffff) throw new RangeError(`CT slice ${name} must be an integer in 1..65535, got ${value}`);
  }
  if (hu.length !== rows * columns) throw new RangeError(`CT slice hu has ${hu.length} values, expected rows x columns = ${rows * columns}`);
  const window = slice.window ?? HEAD_CT_WINDOWS.brain;
  const dataSet: DataElement[] = [
    // SOP Common (PS3.3 C.12.1), General Image (C.7.6.1) and CT Image (C.8.2.1) identity.
    [0x00080008, 'CS', 'DERIVED\\SECONDARY\\AXIAL'],
    [0x00080016, 'UI', CT_IMAGE_STORAGE],
    [0x00080018, 'UI', slice.sopInstanceUid],
    // General Study (C.7.2.1), Patient (C.7.1.1), General Series (C.7.3.1), General Equipment (C.7.5.1).
    [0x00080020, 'DA', ''],
    [0x00080030, 'TM', ''],
    [0x00080050, 'SH', ''],
    [0x00080060, 'CS', 'CT'],
    [0x00080070, 'LO', 'findstroke'],
    [0x00080090, 'PN', ''],
    [0x00100010, 'PN', slice.patientName],
    [0x00100020, 'LO', slice.patientId],
    [0x00100030, 'DA', ''],
    [0x00100040, 'CS', ''],
    [0x00180050, 'DS', decimalStrings([slice.sliceThicknessMm])],
    [0x00180060, 'DS', ''],
    [0x0020000d, 'UI', slice.studyInstanceUid],
    [0x0020000e, 'UI', slice.seriesInstanceUid],
    [0x00200010, 'SH', ''],
    [0x00200011, 'IS', '1'],
    [0x00200012, 'IS', ''],
    [0x00200013, 'IS', String(slice.instanceNumber)],
    // Image Plane (C.7.6.2) and Frame of Reference (C.7.4.1).
    [0x00200032, 'DS', decimalStrings(slice.imagePositionPatient)],
    [0x00200037, 'DS', decimalStrings(slice.imageOrientationPatient ?? AXIAL_ORIENTATION)],
    [0x00200052, 'UI', slice.frameOfReferenceUid],
    [0x00201040, 'LO', ''],
    // Image Pixel (C.7.6.3) and CT Image (C.8.2.1): 16-bit two's complement, all 16 bits used.
    [0x00280002, 'US', [1]],
    [0x00280004, 'CS', 'MONOCHROME2'],
    [0x00280010, 'US', [rows]],
    [0x00280011, 'US', [columns]],
    [0x00280030, 'DS', decimalStrings(slice.pixelSpacingMm)],
    [0x00280100, 'US', [16]],
    [0x00280101, 'US', [16]],
    [0x00280102, 'US', [15]],
    [0x00280103, 'US', [1]],
    // VOI LUT (C.11.2) and Modality LUT (C.11.1).
    [0x00281050, 'DS', decimalStrings([window.center])],
    [0x00281051, 'DS', decimalStrings([window.width])],
    [0x00281052, 'DS', String(RESCALE_INTERCEPT)],
    [0x00281053, 'DS', '1'],
    [0x00281054, 'LO', 'HU'],
    [0x7fe00010, 'OW', { words: storedWords(hu) }],
  ];
  const own = new Set(dataSet.map(([tag]) => tag));
  for (const [tag] of slice.extraAttributes ?? []) {
    if (own.has(tag)) throw new RangeError(`CT slice extraAttributes: tag ${tag.toString(16).padStart(8, '0')} is written by writeCtSlice itself`);
  }
  return writePart10([...dataSet, ...(slice.extraAttributes ?? [])], {
    sopClassUid: CT_IMAGE_STORAGE,
    sopInstanceUid: slice.sopInstanceUid,
    transferSyntaxUid: EXPLICIT_VR_LITTLE_ENDIAN,
  });
}

/** Whole-HU stored values as 16-bit words, clamped to what a signed 16-bit sample holds. */
function storedWords(hu: Float32Array): Uint16Array {
  return Uint16Array.from(hu, (value) => Math.min(INT16_MAX, Math.max(INT16_MIN, Math.round(value) - RESCALE_INTERCEPT)) & 0xffff);
}

/** Decimal String values (PS3.5 6.2: at most 16 characters each), joined by `\`. */
function decimalStrings(values: readonly number[]): string {
  return values
    .map((value) => {
      if (!Number.isFinite(value)) throw new RangeError(`CT slice: ${value} cannot be written as a Decimal String`);
      let text = String(value);
      for (let digits = 15; text.length > 16; digits--) text = String(Number(value.toPrecision(digits)));
      return text;
    })
    .join('\\');
}
