/**
 * The watched folder `DIR/inbox`: files dropped there are ingested, then moved to `inbox/done` or
 * `inbox/rejected` (the reason is in the audit log). A file is taken only once its size and
 * modification time have held still for a poll interval, so a copy in progress is not read half-written;
 * names starting with '.' are left alone, for writers that copy to a hidden name and rename.
 */
import { mkdir, readFile, readdir, rename, stat } from 'node:fs/promises';
import { join, parse } from 'node:path';
import type { Ingestor } from './ingest.js';
import { IngestRejection } from './store-status.js';

export interface RunningInbox {
  close(): Promise<void>;
}

export async function watchInbox(dataDir: string, ingestor: Ingestor, intervalMs = 1000): Promise<RunningInbox> {
  const folder = join(dataDir, 'inbox');
  const done = join(folder, 'done');
  const rejected = join(folder, 'rejected');
  await Promise.all([mkdir(done, { recursive: true }), mkdir(rejected, { recursive: true })]);
  /** Size and mtime of each file at the previous poll. */
  let previous = new Map<string, string>();
  let scanning: Promise<void> = Promise.resolve();
  let closed = false;

  async function scan(): Promise<void> {
    const seen = new Map<string, string>();
    for (const entry of await readdir(folder, { withFileTypes: true })) {
      if (closed) return;
      if (!entry.isFile() || entry.name.startsWith('.')) continue;
      const path = join(folder, entry.name);
      const info = await stat(path).catch(() => undefined);
      if (!info) continue;
      const signature = `${info.size}:${info.mtimeMs}`;
      if (previous.get(entry.name) !== signature) {
        seen.set(entry.name, signature);
        continue;
      }
      const accepted = await ingestor
        .ingest(await readFile(path), { channel: 'inbox', sender: 'folder', name: entry.name })
        .then(() => true, (error: unknown) => {
          if (error instanceof IngestRejection) return false;
          throw error;
        });
      await rename(path, await freeName(accepted ? done : rejected, entry.name));
    }
    previous = seen;
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

/** `name` in `folder`, or `name-2`, `name-3`... if taken, so an earlier file is never overwritten. */
async function freeName(folder: string, name: string): Promise<string> {
  const { name: stem, ext } = parse(name);
  for (let n = 1; ; n++) {
    const candidate = join(folder, n === 1 ? name : `${stem}-${n}${ext}`);
    if (!(await stat(candidate).catch(() => undefined))) return candidate;
  }
}
