/**
 * Received files on disk, content-addressed: `objects/ab/cdef….ext` named by the SHA-256 of the bytes,
 * so a file sent twice is kept once and a stored file is never overwritten with different content.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';

/** What {@link ObjectStore.put} wrote (or found already there). */
export interface StoredObject {
  sha256: string;
  /** Relative to the data folder, '/'-separated, e.g. `objects/ab/cdef….dcm`. */
  relativePath: string;
}

/** The SHA-256 of `bytes` in lower-case hex. */
function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export class ObjectStore {
  readonly #dataDir: string;
  readonly #tmpDir: string;

  /** Objects live under `dataDir/objects`; half-written files under `objects/.tmp`, never read. */
  constructor(dataDir: string) {
    this.#dataDir = dataDir;
    this.#tmpDir = join(dataDir, 'objects', '.tmp');
    mkdirSync(this.#tmpDir, { recursive: true });
  }

  /** The absolute path of a stored object. */
  absolutePath(relativePath: string): string {
    return join(this.#dataDir, relativePath);
  }

  /**
   * Writes `bytes` (extension e.g. '.dcm', '.png'), durably: to a temporary file, fsync, then rename,
   * so a crash leaves either no object or the whole object, never a partial one under its final name.
   */
  async put(bytes: Uint8Array, extension: string): Promise<StoredObject> {
    const sha256 = sha256Hex(bytes);
    const relativePath = `objects/${sha256.slice(0, 2)}/${sha256.slice(2)}${extension}`;
    const target = this.absolutePath(relativePath);
    if (await exists(target)) return { sha256, relativePath };
    await mkdir(join(this.#dataDir, 'objects', sha256.slice(0, 2)), { recursive: true });
    const temporary = join(this.#tmpDir, `${sha256}.${randomBytes(6).toString('hex')}`);
    try {
      const file = await open(temporary, 'wx');
      try {
        await file.writeFile(bytes);
        await file.sync();
      } finally {
        await file.close();
      }
      await rename(temporary, target);
    } catch (error) {
      await rm(temporary, { force: true });
      throw error;
    }
    return { sha256, relativePath };
  }

  /** Removes temporary files a crash may have left behind. */
  async sweepTemporaryFiles(): Promise<void> {
    await rm(this.#tmpDir, { recursive: true, force: true });
    await mkdir(this.#tmpDir, { recursive: true });
  }
}

/** True when something is at `path`. */
export async function exists(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined)) !== undefined;
}
