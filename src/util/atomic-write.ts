/**
 * Writing a file so that a reader never sees half of one: the bytes go to a hidden temporary file
 * (`.NAME.RANDOM.partial`) beside the target, or in a staging folder on the same file system, which is
 * then renamed over the target (atomic on one file system). A failed write removes its temporary file;
 * a process killed mid-write leaves only temporaries, which {@link removePartialFiles} sweeps.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { open, readdir, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

const PARTIAL_SUFFIX = '.partial';

export interface AtomicWriteOptions {
  /** Flush the bytes to disk before the rename, so that a crash of the machine cannot leave an empty file under the name. */
  durable?: boolean;
  /** Folder of the temporary file (default: the target's); it must be on the target's file system. */
  stagingFolder?: string;
}

function temporaryPath(path: string, stagingFolder = dirname(path)): string {
  return join(stagingFolder, `.${basename(path)}.${randomBytes(6).toString('hex')}${PARTIAL_SUFFIX}`);
}

/** Writes `bytes` to `path` all at once or not at all. */
export async function writeFileAtomically(
  path: string,
  bytes: Uint8Array | string,
  { durable = false, stagingFolder }: AtomicWriteOptions = {},
): Promise<void> {
  const temporary = temporaryPath(path, stagingFolder);
  try {
    const file = await open(temporary, 'wx');
    try {
      await file.writeFile(bytes);
      if (durable) await file.sync();
    } finally {
      await file.close();
    }
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}

/** {@link writeFileAtomically} for callers that cannot wait (a model saved from synchronous code). */
export function writeFileAtomicallySync(path: string, bytes: Uint8Array | string, { durable = false, stagingFolder }: AtomicWriteOptions = {}): void {
  const temporary = temporaryPath(path, stagingFolder);
  try {
    const fd = openSync(temporary, 'wx');
    try {
      writeFileSync(fd, bytes);
      if (durable) fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temporary, path);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  }
}

/** Deletes temporaries left in `dir` and its subfolders down to `depth` by a run that was killed mid-write. */
export async function removePartialFiles(dir: string, depth = 1): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory() && depth > 0) await removePartialFiles(path, depth - 1);
    else if (entry.isFile() && entry.name.startsWith('.') && entry.name.endsWith(PARTIAL_SUFFIX)) await rm(path, { force: true });
  }
}
