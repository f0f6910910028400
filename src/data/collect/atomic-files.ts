/**
 * Writing files so that a reader never sees half of one: bytes go to a hidden temporary file beside the
 * target, which is then renamed over it (atomic on one file system). An interrupted run leaves only
 * temporaries, which the next run removes.
 */
import { randomBytes } from 'node:crypto';
import { readdir, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

const PARTIAL_SUFFIX = '.partial';

/** Writes `bytes` to `path` all at once or not at all. */
export async function writeFileAtomically(path: string, bytes: Uint8Array | string): Promise<void> {
  const temporary = join(dirname(path), `.${basename(path)}.${randomBytes(4).toString('hex')}${PARTIAL_SUFFIX}`);
  try {
    await writeFile(temporary, bytes, { flag: 'wx' });
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}

/** Deletes temporaries left in `dir` and its immediate subfolders by a run that was killed mid-write. */
export async function removePartialFiles(dir: string, depth = 1): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory() && depth > 0) await removePartialFiles(path, depth - 1);
    else if (entry.isFile() && entry.name.startsWith('.') && entry.name.endsWith(PARTIAL_SUFFIX)) await rm(path, { force: true });
  }
}
