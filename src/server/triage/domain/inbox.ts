/**
 * The watched folder `DIR/inbox`: files dropped there are ingested, then moved to `inbox/done` or
 * `inbox/rejected`, where `NAME.reason.txt` beside a refused file says why (so does the audit log). A file
 * is taken only once its size and modification time have held still for a poll interval, so a copy in
 * progress is not read half-written; names starting with '.' are left alone, for writers that copy to a
 * hidden name and rename. Whatever goes wrong with one file (too large, unreadable, a store fault) is
 * that file's alone: the scan goes on to the next. A file that cannot be moved out is left where it is,
 * reported once, and not taken again until it changes.
 */
import { mkdir, readFile, readdir, rename, rm, stat } from 'node:fs/promises';
import { writeFileAtomically } from '../../../util/atomic-write.js';
import { basename, join, parse } from 'node:path';
import { printable, type Ingestor, type Origin } from './ingest.js';
import { exists } from './object-store.js';
import { IngestRejection } from './store-status.js';
import type { TriageStore } from './store.js';

export interface RunningInbox {
  close(): Promise<void>;
}

/** Suffix of the file beside a refused one in `inbox/rejected` that holds the reason. */
const REASON_SUFFIX = '.reason.txt';

export async function watchInbox(dataDir: string, ingestor: Ingestor, store: TriageStore, intervalMs = 1000): Promise<RunningInbox> {
  const folder = join(dataDir, 'inbox');
  const done = join(folder, 'done');
  const rejected = join(folder, 'rejected');
  await Promise.all([mkdir(done, { recursive: true }), mkdir(rejected, { recursive: true })]);
  /** Size and mtime of each file at the previous poll. */
  let previous = new Map<string, string>();
  /** Size and mtime of each file that could not be moved out, as it was then: it is skipped until it changes. */
  let left = new Map<string, string>();
  let scanning: Promise<void> = Promise.resolve();
  let closed = false;

  async function scan(): Promise<void> {
    const seen = new Map<string, string>();
    const stillLeft = new Map<string, string>();
    for (const entry of await readdir(folder, { withFileTypes: true })) {
      if (closed) return;
      if (!entry.isFile() || entry.name.startsWith('.')) continue;
      const info = await stat(join(folder, entry.name)).catch(() => undefined);
      if (!info) continue;
      const signature = `${info.size}:${info.mtimeMs}`;
      if (left.get(entry.name) === signature) {
        stillLeft.set(entry.name, signature);
      } else if (previous.get(entry.name) !== signature) {
        seen.set(entry.name, signature);
      } else if (!(await take(entry.name, info.size))) {
        stillLeft.set(entry.name, signature);
      }
    }
    previous = seen;
    left = stillLeft;
  }

  /** Ingests a file that has held still and moves it out of the inbox; false when it could not be moved (it is left, and reported). */
  async function take(name: string, size: number): Promise<boolean> {
    const path = join(folder, name);
    const origin: Origin = { channel: 'inbox', sender: 'folder', name };
    let refusal: IngestRejection | undefined;
    try {
      // Refused unread, however large: readFile cannot even hold a file over 2 GiB.
      if (size > ingestor.maxInstanceBytes) throw ingestor.refuse(ingestor.tooLarge(size), origin);
      await ingestor.ingest(await readFile(path), origin);
    } catch (error) {
      if (!(await exists(path))) return true;
      // The ingestor's refusals are audited already; any other failure (an unreadable file, a store fault) is audited here.
      refusal = error instanceof IngestRejection ? error : ingestor.refuse(error, origin);
    }
    const target = refusal ? rejected : done;
    let destination: string;
    try {
      destination = await freeName(target, name, refusal ? [REASON_SUFFIX] : []);
      // The reason is there, whole, before the file leaves the inbox: whoever sees it in rejected/ can read why.
      // The audit log holds the reason whether or not this can be written.
      if (refusal) await writeFileAtomically(`${destination}${REASON_SUFFIX}`, `${refusal.reason}\n`).catch(() => undefined);
      await rename(path, destination).catch(async (error: Error) => {
        if (refusal) await rm(`${destination}${REASON_SUFFIX}`, { force: true });
        throw error;
      });
    } catch (error) {
      if (!(await exists(path))) return true;
      const outcome = `${refusal ? `refused (${refusal.reason})` : 'ingested'}, but could not be moved to ${basename(target)}/: ${(error as Error).message}`;
      store.audit('inbox-file-left', 'inbox folder', `${printable(name)}: ${outcome}; left in the inbox, not taken again until it changes`);
      return false;
    }
    return true;
  }

  const timer = setInterval(() => {
    // One scan at a time; a failed scan (e.g. the folder briefly unreadable) is retried at the next tick.
    scanning = scanning.then(scan).catch(() => undefined);
  }, intervalMs);
  return {
    async close() {
      closed = true;
      clearInterval(timer);
      await scanning;
    },
  };
}

/**
 * `name` in `folder`, or `name-2`, `name-3`... if taken, so an earlier file is never overwritten; the name
 * with each of `companions` appended (the files that will go beside it) must be free too.
 */
async function freeName(folder: string, name: string, companions: readonly string[]): Promise<string> {
  const { name: stem, ext } = parse(name);
  for (let n = 1; ; n++) {
    const candidate = join(folder, n === 1 ? name : `${stem}-${n}${ext}`);
    const taken = await Promise.all([candidate, ...companions.map((suffix) => `${candidate}${suffix}`)].map(exists));
    if (!taken.includes(true)) return candidate;
  }
}
