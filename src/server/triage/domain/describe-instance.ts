/**
 * What a received file is: DICOM CT (identity from its header, pixels decoded once to prove they can be),
 * or a PNG/JPEG photo, which becomes a single-image study. Anything else is refused with the reason.
 */
import { createHash } from 'node:crypto';
import dicomParser from 'dicom-parser';
import sharp from 'sharp';
import { DicomError, requireCT, type DicomHeader } from '../../../data/dicom/index.js';
import { contentUid } from './content-uid.js';
import type { DecodeRequest } from './dicom-decoders.js';
import { IngestRejection, STORE_STATUS } from './store-status.js';
import type { InstanceFormat } from './store.js';

/** The identity and ordering facts of an instance, before it is stored. */
export interface InstanceDescription {
  format: InstanceFormat;
  /** File name extension the stored object gets, so the data loaders know how to decode it. */
  extension: '.dcm' | '.png' | '.jpg';
  studyUid: string;
  seriesUid: string;
  sopUid: string;
  patientId: string;
  modality: string;
  instanceNumber: number | null;
  slicePosition: number | null;
}

/** Reads a DICOM file's header, its first frame decoded to prove the pixels usable (the service does so on worker threads). @throws DicomError */
export type DecodeDicom = (file: DecodeRequest) => Promise<DicomHeader>;

/** File signatures: PNG (ISO/IEC 15948 5.2), JPEG SOI marker (ISO/IEC 10918-1 B.2.1), DICOM Part 10 "DICM" at 128 (PS3.10 7.1). */
const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const JPEG_SIGNATURE = [0xff, 0xd8, 0xff];
/** File names that claim DICOM content. */
const DICOM_NAME = /\.(dcm|dicom|dic)$/i;

/**
 * Describes `bytes` (`label` names it in messages; `name` is the sender's file name). `photos` allows
 * PNG/JPEG (HTTP upload, inbox), unless the name claims DICOM; DICOM channels take DICOM only. DICOM is
 * read by `decodeDicom`.
 * @throws {@link IngestRejection} with the store status and the reason.
 */
export async function describeInstance(
  bytes: Uint8Array,
  label: string,
  { photos, name, decodeDicom }: { photos: boolean; name: string; decodeDicom: DecodeDicom },
): Promise<InstanceDescription> {
  if (isDicomPart10(bytes)) return describeDicom(bytes, label, decodeDicom);
  const photo = startsWith(bytes, PNG_SIGNATURE) ? 'png' : startsWith(bytes, JPEG_SIGNATURE) ? 'jpeg' : undefined;
  // A photo is a patient-less single-image study; one that claims to be DICOM is more likely a mistake (an export renamed) than a scan.
  if (photo && DICOM_NAME.test(name)) {
    throw new IngestRejection(
      STORE_STATUS.cannotUnderstand,
      `named like a DICOM file but holds a ${photo.toUpperCase()} image (no DICM prefix at byte 128); send the scanner's DICOM, or the image under its own extension`,
    );
  }
  if (photo && photos) return describePhoto(bytes, photo);
  const accepted = photos ? 'a DICOM Part 10 file, PNG or JPEG' : 'a DICOM Part 10 file';
  throw new IngestRejection(STORE_STATUS.cannotUnderstand, `not ${accepted} (no DICM prefix at byte 128${photos ? ', no PNG or JPEG signature' : ''})`);
}

function isDicomPart10(bytes: Uint8Array): boolean {
  return bytes.length > 132 && bytes[128] === 0x44 && bytes[129] === 0x49 && bytes[130] === 0x43 && bytes[131] === 0x4d;
}

async function describeDicom(bytes: Uint8Array, label: string, decodeDicom: DecodeDicom): Promise<InstanceDescription> {
  let header: DicomHeader;
  try {
    header = requireCT(await decodeDicom({ bytes, source: label }));
  } catch (error) {
    if (!(error instanceof DicomError)) throw error;
    // The DICOM reader words every parse failure "not a readable DICOM file: ..."; any other reason is about content.
    const readable = !error.reason.startsWith('not a readable DICOM file');
    throw new IngestRejection(readable ? STORE_STATUS.doesNotMatchSopClass : STORE_STATUS.cannotUnderstand, error.reason);
  }
  return {
    format: 'dicom',
    extension: '.dcm',
    studyUid: header.studyInstanceUid,
    seriesUid: header.seriesInstanceUid,
    sopUid: header.sopInstanceUid,
    patientId: header.patientId,
    modality: header.modality,
    instanceNumber: header.instanceNumber ?? null,
    slicePosition: slicePosition(header),
  };
}

/**
 * Distance of the slice along its normal (row x column direction cosines, PS3.3 C.7.6.2.1.1): the
 * coordinate that orders axial, coronal and oblique slices alike. Without orientation, the z coordinate.
 */
function slicePosition({ imagePositionPatient: p, imageOrientationPatient: o }: DicomHeader): number | null {
  if (!p) return null;
  if (!o) return p[2];
  const normal = [o[1] * o[5] - o[2] * o[4], o[2] * o[3] - o[0] * o[5], o[0] * o[4] - o[1] * o[3]];
  return p[0] * normal[0] + p[1] * normal[1] + p[2] * normal[2];
}

async function describePhoto(bytes: Uint8Array, format: 'png' | 'jpeg'): Promise<InstanceDescription> {
  try {
    // A full decode, so a truncated or corrupt photo is refused now rather than failing classification later.
    await sharp(bytes, { failOn: 'truncated' }).stats();
  } catch (error) {
    throw new IngestRejection(STORE_STATUS.cannotUnderstand, `not a readable ${format.toUpperCase()} image: ${(error as Error).message}`);
  }
  // UIDs derived from the content: the same photo uploaded twice is the same instance, stored once.
  const uid = (role: string) => contentUid(bytes, role);
  return {
    format,
    extension: format === 'png' ? '.png' : '.jpg',
    studyUid: uid('study'),
    seriesUid: uid('series'),
    sopUid: uid('instance'),
    patientId: '',
    modality: 'OT', // Other (PS3.3 C.7.3.1.1.1)
    instanceNumber: 1,
    slicePosition: null,
  };
}

/**
 * What makes two files the same instance: the SHA-256 of a DICOM file's data set, without the File
 * Meta Information (PS3.10 7.1) that each sender writes its own way (a C-STORE arrives without one and
 * gets this service's), or of a photo's bytes.
 */
export function contentDigest(bytes: Uint8Array): string {
  return createHash('sha256')
    .update(bytes.subarray(isDicomPart10(bytes) ? dataSetStart(bytes) : 0))
    .digest('hex');
}

/** Where the data set starts: after the last File Meta Information element (group 0002, PS3.10 7.1); 132 when it cannot be read. */
function dataSetStart(bytes: Uint8Array): number {
  try {
    const meta = dicomParser.readPart10Header(bytes);
    return Math.max(132, ...Object.values(meta.elements).map((element) => element.dataOffset + element.length));
  } catch {
    return 132;
  }
}

function startsWith(bytes: Uint8Array, signature: readonly number[]): boolean {
  return bytes.length >= signature.length && signature.every((b, i) => bytes[i] === b);
}
