/**
 * `OUT/collect-report.json`: what became of every URL, kept across runs so that a re-run skips what is
 * already collected (even an image deleted since, by hand, as a bad example stays deleted).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomically } from '../../util/atomic-write.js';
import { CollectError } from './errors.js';

/** The report's file name inside the output folder. */
export const REPORT_FILE = 'collect-report.json';

/** `ok`: stored; `duplicate`: the same bytes are stored already (see `file`); `failed`: see `reason`. */
export type UrlStatus = 'ok' | 'duplicate' | 'failed';

/** What became of one URL of one class. */
export interface UrlRecord {
  url: string;
  className: string;
  status: UrlStatus;
  /** Why it failed, or which URL it duplicates. */
  reason?: string;
  /** The stored image, relative to the output folder (`className/hash.ext`); for a duplicate, the copy kept. */
  file?: string;
  /** SHA-256 of the image bytes, hex. */
  sha256?: string;
}

/** One image listed under more than one class: its label is in doubt. It is stored once, under the first class. */
export interface LabelConflict {
  sha256: string;
  file: string;
  classes: string[];
  urls: string[];
}

/** The report's content. */
export interface CollectReport {
  records: UrlRecord[];
  conflicts: LabelConflict[];
}

const STATUSES: readonly string[] = ['ok', 'duplicate', 'failed'] satisfies UrlStatus[];

/** The records of the report in `out`; none when there is no report yet. Throws a {@link CollectError} when it is unreadable. */
export async function readReport(out: string): Promise<UrlRecord[]> {
  const path = join(out, REPORT_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new CollectError(path, `cannot read (${(error as NodeJS.ErrnoException).code})`);
  }
  let report: { records?: unknown };
  try {
    report = JSON.parse(text) as { records?: unknown };
  } catch (error) {
    throw new CollectError(path, `not JSON: ${(error as Error).message}`);
  }
  const records = report?.records;
  if (!Array.isArray(records) || !records.every(isUrlRecord))
    throw new CollectError(path, 'not a collect report (records missing or malformed); move it away to start afresh');
  return records;
}

/** Writes `records` and the conflicts among them as the report in `out`, atomically; returns what it wrote. */
export async function writeReport(out: string, records: UrlRecord[]): Promise<CollectReport> {
  const report = { records, conflicts: findLabelConflicts(records) };
  await writeFileAtomically(join(out, REPORT_FILE), `${JSON.stringify(report, null, 2)}\n`);
  return report;
}

/** Images (by hash) that records place in more than one class. */
function findLabelConflicts(records: readonly UrlRecord[]): LabelConflict[] {
  const byHash = new Map<string, UrlRecord[]>();
  for (const record of records) {
    if (record.sha256 && record.status !== 'failed') byHash.set(record.sha256, [...(byHash.get(record.sha256) ?? []), record]);
  }
  return [...byHash]
    .map(([sha256, copies]) => ({
      sha256,
      file: copies[0].file ?? '',
      classes: [...new Set(copies.map((copy) => copy.className))].sort(),
      urls: copies.map((copy) => copy.url),
    }))
    .filter((conflict) => conflict.classes.length > 1);
}

function isUrlRecord(value: unknown): value is UrlRecord {
  const record = value as Partial<UrlRecord> | null;
  return typeof record?.url === 'string' && typeof record.className === 'string' && STATUSES.includes(record.status as string);
}
