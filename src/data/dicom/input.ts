import { readFile } from 'node:fs/promises';
import { DicomError } from './errors.js';

/** A DICOM file on disk, or its bytes already in memory with a label (`source`) for messages. */
export type DicomInput = string | { bytes: Uint8Array; source: string };

/** The bytes of `input` and the name to report it by. */
export async function loadDicomBytes(input: DicomInput): Promise<{ bytes: Uint8Array; source: string }> {
  if (typeof input !== 'string') return input;
  try {
    return { bytes: await readFile(input), source: input };
  } catch (thrown) {
    const code = (thrown as NodeJS.ErrnoException).code ?? String(thrown);
    throw new DicomError(input, `cannot read file (${code})`);
  }
}
