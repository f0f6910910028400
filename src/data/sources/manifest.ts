import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { DataFileError } from '../errors.js';
import { hasImageExtension, isDicomPath } from '../files.js';
import type { Dataset, Sample } from '../types.js';
import { csvRow } from '../../util/csv.js';
import { parseCsv } from './csv.js';
import { datasetOf, labelledSample, type SourceOptions } from './samples.js';

/** Columns every manifest needs. */
const REQUIRED_COLUMNS = ['path', 'label'] as const;

/** The columns of the manifests findstroke writes (phantoms, reviewed studies): one row per image. */
export const MANIFEST_COLUMNS = ['path', 'label', 'patient_id', 'slice_index'] as const;

/** One image of a written manifest; `path` is relative to the manifest's folder, '/'-separated. */
export interface ManifestRow {
  path: string;
  label: string;
  patientId: string;
  sliceIndex: number;
}

/** The text of a manifest listing `rows` ({@link MANIFEST_COLUMNS}, RFC 4180 quoting, LF line ends), as {@link fromManifest} reads it. */
export function manifestText(rows: readonly ManifestRow[]): string {
  const records = rows.map(({ path, label, patientId, sliceIndex }) => [path, label, patientId, String(sliceIndex)]);
  return [MANIFEST_COLUMNS, ...records].map((fields) => `${csvRow(fields)}\n`).join('');
}

/**
 * A dataset listed in a CSV manifest with a header row: `path,label` and optionally `patient_id`,
 * `study_id`, `slice_index` and any other columns (ignored). Paths are relative to the CSV's folder
 * (or absolute); images are photos, `.dcm`, or extension-less DICOM. Without a `patient_id` column (or
 * with an empty cell) the patient id comes from the file name, as for folders.
 * @throws {@link DataFileError} naming the CSV and the line: missing columns, wrong field counts, empty
 * paths or labels, files that are missing or not images, slice indexes that are not integers.
 */
export async function fromManifest(csvPath: string, options: SourceOptions = {}): Promise<Dataset> {
  const text = await readFile(csvPath, 'utf8').catch((error: NodeJS.ErrnoException) => {
    throw new DataFileError(csvPath, `cannot read manifest (${error.code ?? error.message})`);
  });
  const [header, ...rows] = parseCsv(text, csvPath);
  if (!header) throw new DataFileError(csvPath, 'manifest is empty');
  const column = columnsOf(header.fields, csvPath);
  const folder = dirname(csvPath);
  const samples = rows.map(({ line, fields }): Sample => {
    const fail = (reason: string) => new DataFileError(csvPath, `line ${line}: ${reason}`);
    if (fields.length !== header.fields.length) throw fail(`${fields.length} fields, but the header has ${header.fields.length}`);
    const cell = (name: string) => (column.has(name) ? fields[column.get(name)!].trim() : '');
    const [relative, label] = REQUIRED_COLUMNS.map(cell);
    if (!relative) throw fail('path is empty');
    if (!label) throw fail('label is empty');
    const path = resolve(folder, relative);
    if (!hasImageExtension(path) && !isDicomPath(path))
      throw fail(`${relative} is not an image (png, jpg, jpeg, webp, tif, tiff, dcm or extension-less DICOM)`);
    if (!existsSync(path)) throw fail(`${relative} does not exist (paths are relative to the manifest's folder)`);
    const sample = labelledSample(path, label, options);
    const patientId = cell('patient_id');
    if (patientId) sample.patientId = patientId;
    const studyId = cell('study_id');
    if (studyId) sample.studyId = studyId;
    const sliceIndex = cell('slice_index');
    if (sliceIndex) {
      if (!/^-?\d+$/.test(sliceIndex)) throw fail(`slice_index ${JSON.stringify(sliceIndex)} is not an integer`);
      sample.sliceIndex = Number(sliceIndex);
    }
    return sample;
  });
  return datasetOf(csvPath, samples);
}

function columnsOf(names: readonly string[], csvPath: string): Map<string, number> {
  const column = new Map<string, number>();
  names.forEach((name, index) => {
    const key = name.trim();
    if (column.has(key)) throw new DataFileError(csvPath, `line 1: column ${key} appears twice`);
    column.set(key, index);
  });
  const missing = REQUIRED_COLUMNS.filter((name) => !column.has(name));
  if (missing.length > 0) throw new DataFileError(csvPath, `line 1: header lacks ${missing.join(' and ')} (found: ${names.join(', ')})`);
  return column;
}
