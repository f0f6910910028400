/** Phantom CT studies as a scanner would send them: one Part 10 file per slice, and an MR image for refusals. */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generatePhantomPatient, phantomDicomSeries, type PhantomClass } from '../../../src/data/phantoms/index.js';
import { readDicomHeader, writePart10 } from '../../../src/data/dicom/index.js';

export interface PhantomStudy {
  studyUid: string;
  sopUids: string[];
  files: Uint8Array[];
}

/** A phantom patient's series (`slices` slices of `size` px). Different `patientIndex` or `seed`: different UIDs. */
export async function phantomStudy({
  label = 'haemorrhagicStroke',
  slices = 4,
  size = 64,
  seed = 7,
  patientIndex = 0,
}: { label?: PhantomClass; slices?: number; size?: number; seed?: number; patientIndex?: number } = {}): Promise<PhantomStudy> {
  const files = phantomDicomSeries(generatePhantomPatient({ seed, patientIndex, label, slices, size }));
  const headers = await Promise.all(files.map((bytes, i) => readDicomHeader({ bytes, source: `slice ${i}` })));
  return { studyUid: headers[0].studyInstanceUid, sopUids: headers.map((h) => h.sopInstanceUid), files };
}

/** Writes the files as `folder/slice-NNN.dcm`; returns their paths. */
export async function writeStudy(folder: string, study: PhantomStudy): Promise<string[]> {
  await mkdir(folder, { recursive: true });
  return Promise.all(
    study.files.map(async (bytes, i) => {
      const path = join(folder, `slice-${String(i).padStart(3, '0')}.dcm`);
      await writeFile(path, bytes);
      return path;
    }),
  );
}

const MR_IMAGE_STORAGE = '1.2.840.10008.5.1.4.1.1.4';
const CT_IMAGE_STORAGE = '1.2.840.10008.5.1.4.1.1.2';

/** A small, valid MR image (Part 10, Explicit VR Little Endian): readable DICOM that a CT service must refuse. */
export function mrImage(sopInstanceUid = '2.25.4242424242'): Uint8Array {
  return smallImage('MR', MR_IMAGE_STORAGE, sopInstanceUid, 8 * 8);
}

/** A CT image whose Pixel Data is far shorter than its Rows x Columns: malformed, though every header parses. */
export function malformedCtImage(sopInstanceUid = '2.25.4242424243'): Uint8Array {
  return smallImage('CT', CT_IMAGE_STORAGE, sopInstanceUid, 10);
}

function smallImage(modality: string, sopClassUid: string, sopInstanceUid: string, pixels: number): Uint8Array {
  const rows = 8;
  return writePart10(
    [
      [0x00080016, 'UI', sopClassUid],
      [0x00080018, 'UI', sopInstanceUid],
      [0x00080060, 'CS', modality],
      [0x00100020, 'LO', `${modality}-PATIENT`],
      [0x0020000d, 'UI', '2.25.4242424240'],
      [0x0020000e, 'UI', '2.25.4242424241'],
      [0x00280002, 'US', [1]],
      [0x00280004, 'CS', 'MONOCHROME2'],
      [0x00280010, 'US', [rows]],
      [0x00280011, 'US', [rows]],
      [0x00280100, 'US', [16]],
      [0x00280101, 'US', [12]],
      [0x00280102, 'US', [11]],
      [0x00280103, 'US', [0]],
      [0x7fe00010, 'OW', { words: new Uint16Array(pixels).fill(100) }],
    ],
    { sopClassUid, sopInstanceUid, transferSyntaxUid: '1.2.840.10008.1.2.1' },
  );
}
