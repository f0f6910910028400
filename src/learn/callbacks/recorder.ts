/**
 * Prints fastai's results table (epoch, train_loss, valid_loss, metrics, time) as epochs finish, and
 * optionally appends each row to a CSV log.
 */
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { writeFileAtomicallySync } from '../../util/atomic-write.js';
import { csvRow } from '../../util/csv.js';
import type { Callback, EpochResult } from '../callback.js';
import type { Learner } from '../learner.js';

export function formatSeconds(seconds: number): string {
  const s = Math.round(seconds);
  return `${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
}

export class ResultsTable implements Callback {
  #headerPrinted = false;

  constructor(private readonly print: (line: string) => void = (line) => console.log(line)) {}

  afterEpoch(learner: Learner, r: EpochResult): void {
    const names = learner.metrics.map((m) => m.name);
    const columns = ['epoch', 'train_loss', 'valid_loss', ...names, 'time'];
    const widths = columns.map((c) => Math.max(c.length, 10));
    if (!this.#headerPrinted) {
      this.print(columns.map((c, i) => c.padEnd(widths[i])).join('  '));
      this.#headerPrinted = true;
    }
    const cells = [String(r.epoch), r.trainLoss.toFixed(6), r.validLoss.toFixed(6), ...names.map((n) => r.metrics[n].toFixed(6)), formatSeconds(r.seconds)];
    this.print(cells.map((c, i) => c.padEnd(widths[i])).join('  ') + (r.phase === 'frozen' ? '  (frozen body)' : ''));
  }
}

export class CsvLogger implements Callback {
  constructor(readonly path: string) {}

  afterEpoch(learner: Learner, r: EpochResult): void {
    const names = learner.metrics.map((m) => m.name);
    if (!existsSync(this.path)) writeFileSync(this.path, csvRow(['epoch', 'phase', 'train_loss', 'valid_loss', ...names, 'seconds']) + '\n');
    const fields = [r.epoch, r.phase, r.trainLoss, r.validLoss, ...names.map((n) => r.metrics[n]), r.seconds.toFixed(2)];
    appendFileSync(this.path, csvRow(fields.map(String)) + '\n');
  }
}

/**
 * Keeps the rows of the first `epochs` epochs of the {@link CsvLogger} log at `path`: a run resumed after them logs
 * the later ones again (one cut short, or one logged before the run died and its checkpoint was written).
 */
export function keepLoggedEpochs(path: string, epochs: number): void {
  if (!existsSync(path)) return;
  const [header, ...rows] = readFileSync(path, 'utf8').trimEnd().split('\n');
  writeFileAtomicallySync(path, [header, ...rows.filter((row) => Number(row.split(',')[0]) < epochs)].join('\n') + '\n');
}
