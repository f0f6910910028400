/**
 * `findstroke collect URLS OUT`: downloads labelled images into one folder per class, as fastai's
 * `download_images` + `verify_images` did, and prints what each class got.
 */
import { InvalidArgumentError, type Command } from 'commander';
import cliProgress from 'cli-progress';
import { collectImages, COLLECT_DEFAULTS, summarizeByClass, UrlListProvider, type CollectProgress, type CollectResult } from '../../data/collect/index.js';

/** Failures listed per class; the report has them all. */
const FAILURES_SHOWN = 10;

/** `1 duplicate`, `2 duplicates`. */
function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

/** A commander parser for whole-number options of at least `min`. */
function wholeNumber(min: number): (text: string) => number {
  return (text) => {
    const value = Number(text);
    if (!Number.isInteger(value) || value < min) throw new InvalidArgumentError(`expected a whole number >= ${min}`);
    return value;
  };
}

/** A progress bar on a terminal; nothing when output goes to a file or pipe, where it would only add noise. */
function terminalProgress(): { onProgress?: (progress: CollectProgress) => void; stop: () => void } {
  if (!process.stdout.isTTY) return { stop: () => {} };
  const bar = new cliProgress.SingleBar(
    { stream: process.stdout, format: 'collecting [{bar}] {value}/{total} URLs | {eta_formatted} left' },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    onProgress: ({ done, total }) => {
      if (!started) bar.start(total, 0);
      started = true;
      bar.update(done);
    },
    stop: () => {
      if (started) bar.stop();
    },
  };
}

function printSummary(out: string, { report, reportPath, skipped }: CollectResult): void {
  console.log(`\nimages in ${out}${skipped ? ` (${count(skipped, 'URL')} already collected, skipped)` : ''}:`);
  for (const { className, downloaded, duplicates, failed } of summarizeByClass(report)) {
    console.log(`  ${className}: ${downloaded} downloaded, ${count(duplicates, 'duplicate')}, ${failed.length} failed`);
    for (const { url, reason } of failed.slice(0, FAILURES_SHOWN)) console.log(`    ${url}: ${reason}`);
    if (failed.length > FAILURES_SHOWN) console.log(`    ... and ${failed.length - FAILURES_SHOWN} more`);
  }
  if (report.conflicts.length > 0) {
    console.log(`\n${count(report.conflicts.length, 'image')} listed under more than one class, each stored once where shown; check the labels:`);
    for (const { file, classes } of report.conflicts) console.log(`  ${file}: ${classes.join(', ')}`);
  }
  console.log(`\nreport: ${reportPath}`);
}

export function registerCollect(program: Command): void {
  program
    .command('collect')
    .description('download labelled images into OUT/<className>/, verified and de-duplicated (fastai download_images + verify_images)')
    .argument('<urls>', 'a folder of <className>.txt files (one URL per line, # comments) or a CSV file of url,label rows')
    .argument('<out>', 'output folder; re-running skips URLs its collect-report.json has as collected')
    .option('--concurrency <n>', 'downloads at once', wholeNumber(1), COLLECT_DEFAULTS.concurrency)
    .option('--timeout <ms>', 'per request attempt', wholeNumber(1), COLLECT_DEFAULTS.timeoutMs)
    .option('--retries <n>', 'further attempts after a network error, timeout, HTTP 5xx or 429', wholeNumber(0), COLLECT_DEFAULTS.retries)
    .option('--max-bytes <n>', 'largest image accepted', wholeNumber(1), COLLECT_DEFAULTS.maxBytes)
    .action(async (urls: string, out: string, o: { concurrency: number; timeout: number; retries: number; maxBytes: number }) => {
      const provider = await UrlListProvider.fromPath(urls);
      const progress = terminalProgress();
      const result = await collectImages({
        out,
        classes: provider.classes,
        provider,
        concurrency: o.concurrency,
        timeoutMs: o.timeout,
        retries: o.retries,
        maxBytes: o.maxBytes,
        onProgress: progress.onProgress,
      }).finally(progress.stop);
      printSummary(out, result);
    });
}
