/**
 * `findstroke inspect PATH...`: what each image file (or DICOM series) is and whether findstroke can
 * read it; `findstroke summary DATA`: what a dataset holds. Both only read.
 */
import { stat } from 'node:fs/promises';
import { dirname, sep } from 'node:path';
import type { Command } from 'commander';
import { mapWithConcurrency } from '../../util/concurrency.js';
import { readImage, readImageInfo } from '../../data/decode.js';
import { groupSeries, PADDING_HU, readDicom, readDicomHeader, requireCT, type DicomHeader, type SliceOrdering } from '../../data/dicom/index.js';
import { reasonOf } from '../../data/errors.js';
import { isDicomPath, listImageFiles } from '../../data/files.js';
import { formatTable } from '../../data/format-table.js';
import { datasetFromPath } from '../../data/sources/index.js';
import { formatSummary, summarize } from '../../data/summary.js';

/** One line of `inspect --json`: a file, or with `--series` a DICOM series. */
export interface InspectRecord {
  /** The file, or the folder holding a series' slices (the file for a one-slice series). */
  path: string;
  /** Whether findstroke can train on or classify it. */
  ok: boolean;
  /** Why not, when not ok. */
  error?: string;
  /** 'dicom', 'jpeg', 'png', 'webp', 'tiff'. */
  format?: string;
  modality?: string;
  rows?: number;
  columns?: number;
  channels?: number;
  transferSyntax?: string;
  studyInstanceUid?: string;
  seriesInstanceUid?: string;
  patientId?: string;
  /** Lowest and highest HU of CT pixels, padding excluded. */
  huMin?: number;
  huMax?: number;
  /** Pixels marked as padding (outside the scanned area). */
  paddingPixels?: number;
  /** Series records: slice count, how they were ordered, spacing and slices missing from gaps. */
  slices?: number;
  orderedBy?: SliceOrdering;
  sliceSpacingMm?: number;
  missingSlices?: number;
}

/** Files inspected at once: decoding runs on libuv's pool, which has 4 threads by default. */
const CONCURRENCY = 4;

/** Inspects one file: photos through sharp, DICOM (by extension or its absence) through the DICOM reader. */
export async function inspectFile(path: string): Promise<InspectRecord> {
  return (await inspect(path)).record;
}

/**
 * Inspects every image under `paths` (files, or folders searched recursively and sorted), in the order
 * given; a path that does not exist gives a record with `ok: false`. With `series`, DICOM files are
 * grouped into one record per series (slices ordered as the CT pipeline orders them); other files keep
 * their own records.
 */
export async function inspectPaths(paths: readonly string[], { series = false }: { series?: boolean } = {}): Promise<InspectRecord[]> {
  const jobs: (() => Promise<Inspected>)[] = [];
  for (const path of paths) {
    const info = await stat(path).catch(() => undefined);
    if (!info) jobs.push(async () => ({ record: { path, ok: false, error: 'no such file or folder' } }));
    else for (const file of info.isDirectory() ? await listImageFiles(path) : [path]) jobs.push(() => inspect(file));
  }
  const inspected = await mapWithConcurrency(jobs, CONCURRENCY, (job) => job());
  return series ? seriesRecords(inspected) : inspected.map(({ record }) => record);
}

/** Records as an aligned table for people: one row each, the reason last. */
export function formatInspectTable(records: readonly InspectRecord[]): string {
  const rows = records.map((r) => [
    r.path,
    r.ok ? 'ok' : 'FAIL',
    [r.format, r.modality].filter(Boolean).join(' '),
    r.columns && r.rows ? `${r.columns} x ${r.rows}` : '',
    r.slices ?? '',
    r.huMin !== undefined ? `${r.huMin}..${r.huMax}` : '',
    r.transferSyntax ?? '',
    r.error ?? '',
  ]);
  return formatTable(['path', 'status', 'format', 'size', 'slices', 'HU', 'transfer syntax', 'problem'], rows);
}

interface Inspected {
  record: InspectRecord;
  /** The DICOM header, when one could be read: series grouping needs it. */
  header?: DicomHeader;
}

function inspect(path: string): Promise<Inspected> {
  return isDicomPath(path) ? inspectDicom(path) : inspectPhoto(path).then((record) => ({ record }));
}

async function inspectPhoto(path: string): Promise<InspectRecord> {
  try {
    const { format, width, height, channels } = await readImageInfo(path);
    const error = await readImage(path).then(
      () => undefined,
      (thrown: unknown) => reasonOf(thrown),
    );
    return { path, ok: error === undefined, ...(error !== undefined && { error }), format, rows: height, columns: width, channels };
  } catch (thrown) {
    return { path, ok: false, error: reasonOf(thrown) };
  }
}

async function inspectDicom(path: string): Promise<Inspected> {
  try {
    // Only the header is kept: `hu` holds the decoded frame, which a folder of thousands would pile up.
    const { hu, ...header } = await readDicom(path);
    const fields = dicomFields(header);
    try {
      requireCT(header);
    } catch (thrown) {
      return { record: { path, ok: false, error: reasonOf(thrown), ...fields }, header };
    }
    return { record: { path, ok: true, ...fields, ...huRange(hu()) }, header };
  } catch (thrown) {
    // The pixels may be what failed (e.g. an unsupported transfer syntax): report what the header says.
    const header = await readDicomHeader(path).catch(() => undefined);
    return { record: { path, ok: false, error: reasonOf(thrown), ...(header && dicomFields(header)) }, header };
  }
}

function dicomFields(header: DicomHeader): Partial<InspectRecord> {
  return {
    format: 'dicom',
    modality: header.modality,
    rows: header.rows,
    columns: header.columns,
    channels: header.samplesPerPixel,
    transferSyntax: header.transferSyntaxUid,
    studyInstanceUid: header.studyInstanceUid,
    seriesInstanceUid: header.seriesInstanceUid,
    patientId: header.patientId,
  };
}

function huRange(hu: Float32Array): Pick<InspectRecord, 'huMin' | 'huMax' | 'paddingPixels'> {
  let huMin = Infinity;
  let huMax = -Infinity;
  let paddingPixels = 0;
  for (const value of hu) {
    if (value === PADDING_HU) paddingPixels++;
    else {
      huMin = Math.min(huMin, value);
      huMax = Math.max(huMax, value);
    }
  }
  return paddingPixels === hu.length ? { paddingPixels } : { huMin, huMax, paddingPixels };
}

/** DICOM records merged per series, placed where the series' first file was; other records as they are. */
function seriesRecords(inspected: readonly Inspected[]): InspectRecord[] {
  const slices = inspected.flatMap(({ record, header }, position) => (header ? [{ ...header, record, position }] : []));
  const seriesAt = new Map<number, InspectRecord>();
  for (const series of groupSeries(slices)) {
    const records = series.slices.map(({ record }) => record);
    const failed = records.filter((record) => !record.ok);
    const reasons = [...new Set(failed.map((record) => record.error))];
    const withHu = records.filter((record) => record.huMin !== undefined);
    seriesAt.set(Math.min(...series.slices.map(({ position }) => position)), {
      path: records.length === 1 ? records[0].path : commonFolder(records.map((record) => record.path)),
      ok: failed.length === 0,
      ...(failed.length > 0 && { error: (failed.length < records.length ? `${failed.length} of ${records.length} slices: ` : '') + reasons.join('; ') }),
      format: 'dicom',
      modality: series.modality,
      rows: records[0].rows,
      columns: records[0].columns,
      transferSyntax: [...new Set(records.map((record) => record.transferSyntax))].join(', '),
      studyInstanceUid: series.studyInstanceUid,
      seriesInstanceUid: series.seriesInstanceUid,
      patientId: series.patientId,
      ...(withHu.length > 0 && { huMin: Math.min(...withHu.map((r) => r.huMin!)), huMax: Math.max(...withHu.map((r) => r.huMax!)) }),
      slices: records.length,
      orderedBy: series.orderedBy,
      ...(series.sliceSpacingMm !== undefined && { sliceSpacingMm: series.sliceSpacingMm }),
      missingSlices: series.gaps.reduce((sum, gap) => sum + gap.missingSlices, 0),
    });
  }
  return inspected.flatMap(({ record, header }, position) => (!header ? [record] : seriesAt.has(position) ? [seriesAt.get(position)!] : []));
}

/** The deepest folder holding all `paths`. */
function commonFolder(paths: readonly string[]): string {
  const folders = paths.map((path) => dirname(path).split(sep));
  let depth = 0;
  while (depth < folders[0].length && folders.every((folder) => folder[depth] === folders[0][depth])) depth++;
  return depth === 0 ? '.' : folders[0].slice(0, depth).join(sep) || sep;
}

export function registerInspect(program: Command): void {
  program
    .command('inspect')
    .description('check image files and DICOM series: readable?, format, modality, size, transfer syntax, HU range (CT only passes)')
    .argument('<paths...>', 'image files or folders (searched recursively)')
    .option('--json', 'one JSON object per line instead of a table')
    .option('--series', 'one record per DICOM series instead of one per file')
    .action(async (paths: string[], o: { json?: boolean; series?: boolean }) => {
      const records = await inspectPaths(paths, { series: o.series });
      console.log(o.json ? records.map((record) => JSON.stringify(record)).join('\n') : formatInspectTable(records));
    });
}

export function registerSummary(program: Command): void {
  program
    .command('summary')
    .description('what a dataset holds: images and patients per class, image sizes (from file headers)')
    .argument('<data>', 'a manifest CSV, a folder holding manifest.csv, or a folder of class folders')
    .option('--json', 'the summary as one JSON object')
    .action(async (data: string, o: { json?: boolean }) => {
      const summary = await summarize(await datasetFromPath(data));
      console.log(o.json ? JSON.stringify(summary) : formatSummary(summary));
    });
}
