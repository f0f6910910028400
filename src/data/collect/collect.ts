/**
 * `collect`: fastai's `download_images` then `verify_images`, in one pass. Each class's URLs are downloaded,
 * checked, de-duplicated by content and stored as `OUT/<className>/<sha256 prefix>.<ext>`; the report
 * says what became of every URL.
 */
import { createHash } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { removePartialFiles, writeFileAtomically } from '../../util/atomic-write.js';
import { mapWithConcurrency } from '../../util/concurrency.js';
import { download, type DownloadLimits } from './download.js';
import { CollectError } from './errors.js';
import { verifyImage } from './image-check.js';
import { classNameProblem } from './input-checks.js';
import { readReport, REPORT_FILE, writeReport, type CollectReport, type UrlRecord } from './report.js';
import type { SearchProvider } from './search-provider.js';

/** Defaults of {@link CollectOptions}, for command-line help. */
export const COLLECT_DEFAULTS = {
  concurrency: 8,
  timeoutMs: 15_000,
  retries: 3,
  backoffMs: 500,
  maxBytes: 20 * 2 ** 20,
} as const;

/** Hex digits of the SHA-256 in file names: enough that distinct images never share one in practice. */
const HASH_PREFIX_LENGTH = 16;

/** What to collect, where, and how. */
export interface CollectOptions extends Partial<DownloadLimits> {
  /** Output folder: one subfolder per class, and the report. */
  out: string;
  /** The classes; each class name is also the query given to `provider`. */
  classes: readonly string[];
  provider: SearchProvider;
  /** URLs asked of the provider per class (default: all it has). */
  maxPerClass?: number;
  /** Downloads in flight at once (default 8). */
  concurrency?: number;
  /** Called after each URL is settled, for progress display. */
  onProgress?: (progress: CollectProgress) => void;
}

/** Progress of one run: `done` of `total` URLs to fetch settled, the latest being `record`. */
export interface CollectProgress {
  done: number;
  total: number;
  record: UrlRecord;
}

/** The outcome of a run. */
export interface CollectResult {
  /** The whole report, this run's records merged into earlier ones. */
  report: CollectReport;
  reportPath: string;
  /** URLs not fetched again because the report has them as `ok` or `duplicate`. */
  skipped: number;
}

/**
 * Downloads every class's URLs into `options.out`, verifies and de-duplicates them, and writes the report.
 * Safe to re-run: URLs the report has as collected are skipped, failed ones are tried again.
 * Individual URLs fail into the report; it throws (a {@link CollectError} for bad input) only when the run itself cannot go on.
 */
export async function collectImages(options: CollectOptions): Promise<CollectResult> {
  const { out, classes, provider, onProgress } = options;
  const limits: DownloadLimits = {
    timeoutMs: whole('timeoutMs', options.timeoutMs ?? COLLECT_DEFAULTS.timeoutMs, 1),
    retries: whole('retries', options.retries ?? COLLECT_DEFAULTS.retries, 0),
    backoffMs: whole('backoffMs', options.backoffMs ?? COLLECT_DEFAULTS.backoffMs, 0),
    maxBytes: whole('maxBytes', options.maxBytes ?? COLLECT_DEFAULTS.maxBytes, 1),
  };
  const concurrency = whole('concurrency', options.concurrency ?? COLLECT_DEFAULTS.concurrency, 1);
  for (const className of classes) {
    const problem = classNameProblem(className);
    if (problem) throw new Error(`collect: ${problem}`);
  }

  await mkdir(out, { recursive: true });
  const records = new Map<string, UrlRecord>();
  for (const record of await readReport(out)) records.set(recordKey(record), record);
  await removePartialFiles(out);

  const jobs: { url: string; className: string }[] = [];
  // The report lists this run's URLs in input order (not completion order), then earlier runs' others.
  const listed = new Set<string>();
  let skipped = 0;
  for (const className of classes) {
    await mkdir(join(out, className), { recursive: true });
    for (const url of new Set(await provider.search(className, options.maxPerClass ?? Infinity))) {
      const key = recordKey({ url, className });
      listed.add(key);
      const status = records.get(key)?.status;
      if (status === 'ok' || status === 'duplicate') skipped++;
      else jobs.push({ url, className });
    }
  }

  const stored = new Map<string, UrlRecord>();
  for (const record of records.values()) if (record.status === 'ok' && record.sha256) stored.set(record.sha256, record);
  let done = 0;
  await mapWithConcurrency(jobs, concurrency, async ({ url, className }) => {
    const record = await collectOne(url, className, out, limits, stored);
    records.set(recordKey(record), record);
    onProgress?.({ done: ++done, total: jobs.length, record });
  });
  const ordered = [...[...listed].map((key) => records.get(key)!), ...[...records].filter(([key]) => !listed.has(key)).map(([, record]) => record)];
  return { report: await writeReport(out, ordered), reportPath: join(out, REPORT_FILE), skipped };
}

/**
 * Downloads, verifies and stores one URL; every failure ends up in the record, none is thrown.
 * `stored` holds the images stored so far (earlier runs included) by content hash; a stored image is added to it.
 */
async function collectOne(url: string, className: string, out: string, limits: DownloadLimits, stored: Map<string, UrlRecord>): Promise<UrlRecord> {
  try {
    const { bytes, contentType } = await download(url, limits);
    const extension = await verifyImage(bytes, contentType, url);
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const first = stored.get(sha256);
    if (first) {
      const where = first.className === className ? '' : ` in class '${first.className}': conflicting labels`;
      return { url, className, status: 'duplicate', reason: `same image as ${first.url}${where}`, file: first.file, sha256 };
    }
    const file = `${className}/${sha256.slice(0, HASH_PREFIX_LENGTH)}.${extension}`;
    const record: UrlRecord = { url, className, status: 'ok', file, sha256 };
    // Claimed before the write is awaited, so a copy arriving meanwhile counts as a duplicate.
    stored.set(sha256, record);
    try {
      await writeFileAtomically(join(out, file), bytes);
    } catch (error) {
      stored.delete(sha256);
      throw error;
    }
    return record;
  } catch (error) {
    const reason = error instanceof CollectError ? error.reason : error instanceof Error ? error.message : String(error);
    return { url, className, status: 'failed', reason };
  }
}

function recordKey(record: Pick<UrlRecord, 'url' | 'className'>): string {
  return `${record.className}\n${record.url}`;
}

/** `value` when it is a whole number of at least `min`; otherwise an error naming the option. */
function whole(name: string, value: number, min: number): number {
  if (!Number.isInteger(value) || value < min) throw new Error(`collect: ${name} must be a whole number >= ${min}, got ${value}`);
  return value;
}
