/**
 * The change log `<root>/.findstroke-clean-log.jsonl`: one JSON object per change, appended, never
 * rewritten. Changes applied together share a batch id; an undo is a batch of its own whose entries say
 * which batch they revert, so the log alone tells what the last still-applied batch is.
 */
import { appendFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CleanError } from './errors.js';
import { LOG_NAME } from './paths.js';

/**
 * What a change did. relabel: an image moved to another class folder (or, in a manifest dataset, only
 * its label changed: `from` = `to`, with `label`); delete: an image moved into the trash; restore: a
 * deleted image moved back; mkdir/rmdir: a folder made for a move, or left empty by one; manifest: the
 * manifest rewritten (`from`: the manifest; `to`: where its previous text was kept).
 */
export type ChangeAction = 'relabel' | 'delete' | 'restore' | 'mkdir' | 'rmdir' | 'manifest';

/** One change, as logged. Paths are relative to the dataset root, with forward slashes. */
export interface Change {
  action: ChangeAction;
  from?: string;
  to?: string;
  /** The label before and after, for relabels. */
  label?: { from: string; to: string };
  /** For manifest rewrites: SHA-256 of the text written, checked before an undo replaces it. */
  sha256?: string;
}

export interface LogEntry extends Change {
  /** ISO time of the change. */
  time: string;
  batch: string;
  /** On the entries of an undo: the batch it reverted. */
  undoes?: string;
}

/**
 * Every entry of the log, oldest first; none when there is no log yet.
 * @throws {@link CleanError} ('conflict') naming the line of an entry that is not JSON.
 */
export async function readLog(root: string): Promise<LogEntry[]> {
  const path = join(root, LOG_NAME);
  const text = await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return '';
    throw error;
  });
  return text.split('\n').flatMap((line, index) => {
    if (line.trim() === '') return [];
    try {
      return [JSON.parse(line) as LogEntry];
    } catch {
      throw new CleanError('conflict', `${path}: line ${index + 1} is not JSON; fix or remove it before cleaning further`);
    }
  });
}

/** Appends `changes` as entries of `batch`, stamped now. */
export async function appendLog(root: string, batch: string, changes: readonly Change[], undoes?: string): Promise<LogEntry[]> {
  const time = new Date().toISOString();
  const entries = changes.map((change): LogEntry => ({ time, batch, ...change, ...(undoes ? { undoes } : {}) }));
  await appendFile(join(root, LOG_NAME), entries.map((entry) => JSON.stringify(entry) + '\n').join(''));
  return entries;
}

/** The entries of the last applied batch that no undo has reverted yet, in order; undefined when none is left. */
export function lastUndoableBatch(entries: readonly LogEntry[]): { batch: string; entries: LogEntry[] } | undefined {
  const undone = new Set(entries.flatMap((entry) => (entry.undoes ? [entry.undoes] : [])));
  const applied = entries.filter((entry) => !entry.undoes && !undone.has(entry.batch));
  const batch = applied.at(-1)?.batch;
  return batch === undefined ? undefined : { batch, entries: applied.filter((entry) => entry.batch === batch) };
}

/**
 * A new batch id: the time, safe as a folder name (it names the batch's trash folder), with a suffix when
 * the log already has that id.
 */
export function newBatchId(entries: readonly LogEntry[], now = new Date()): string {
  const base = now.toISOString().replace(/[:.]/g, '-');
  const taken = new Set(entries.map((entry) => entry.batch));
  let id = base;
  for (let n = 2; taken.has(id); n++) id = `${base}-${n}`;
  return id;
}
