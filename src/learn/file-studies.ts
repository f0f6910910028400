/**
 * How a study model groups files into studies: a patient's files are one study, in slice order. A file
 * without a patient id is a one-slice study of its own, since nothing says which other files share its
 * patient (a set of one slice per patient, such as the Kitamura haemorrhage set, names none).
 */
import type { Sample } from '../data/types.js';

/** One study of a list of files. */
export interface FileStudy {
  /** The patient's id; absent for the one-slice study of a file without one. */
  patientId?: string;
  /** Its files, as indices into the list, in slice order. */
  members: number[];
}

/**
 * The studies of `files[indices]` (default: every file): the patients' in id order, then each file without
 * a patient id alone, in the order given. Slices without a slice index keep their index's order.
 */
export function studiesOf(files: readonly Pick<Sample, 'patientId' | 'sliceIndex'>[], indices: readonly number[] = files.map((_, i) => i)): FileStudy[] {
  const patients = new Map<string, number[]>();
  const alone: FileStudy[] = [];
  for (const i of indices) {
    const id = files[i].patientId;
    if (id === undefined) alone.push({ members: [i] });
    else (patients.get(id) ?? patients.set(id, []).get(id)!).push(i);
  }
  const sliceOrder = (a: number, b: number) => (files[a].sliceIndex ?? a) - (files[b].sliceIndex ?? b);
  const ids = [...patients.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return [...ids.map((patientId) => ({ patientId, members: patients.get(patientId)!.sort(sliceOrder) })), ...alone];
}

/** The line that says how files without a patient id were predicted by a study model. */
export function oneSliceStudiesNote(files: number): string {
  return `${files} image${files === 1 ? ' has' : 's have'} no patient id: each was predicted as a one-slice study of its own`;
}
