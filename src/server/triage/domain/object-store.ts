/**
 * Received files on disk, content-addressed: `objects/ab/cdef….ext` named by the SHA-256 of the bytes,
 * so a file sent twice is kept once and a stored file is never overwritten with different content.
 */
import { webcrypto } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { mkdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomically } from '../../../util/atomic-write.js';

/** What {@link ObjectStore.put} wrote (or found already there). */
export interface StoredObject {
  sha256: string;
  /** Relative to the data folder, '/'-separated, e.g. `objects/ab/cdef….dcm`. */
  relativePath: string;
}

/** The SHA-256 of `bytes` in lower-case hex, computed on libuv's thread pool rather than the event loop. */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  return Buffer.from(await webcrypto.subtle.digest('SHA-256', bytes)).toString('hex');
}

export class ObjectStore {
  readonly #dataDir: string;
  /** Half-written objects and files still being received; never read as objects, emptied at every start. */
  readonly stagingFolder: string;

  /** Objects live under `dataDir/objects`; half-written or half-received files under `objects/.tmp`. */
  constructor(dataDir: string) {
    this.#dataDir = dataDir;
    this.stagingFolder = join(dataDir, 'objects', '.tmp');
    mkdirSync(this.stagingFolder, { recursive: true });
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
    const sha256 = await sha256Hex(bytes);
    const relativePath = `objects/${sha256.slice(0, 2)}/${sha256.slice(2)}${extension}`;
    const target = this.absolutePath(relativePath);
    if (await exists(target)) return { sha256, relativePath };
    await mkdir(join(this.#dataDir, 'objects', sha256.slice(0, 2)), { recursive: true });
    await writeFileAtomically(target, bytes, { durable: true, stagingFolder: this.stagingFolder });
    return { sha256, relativePath };
  }

  /** Removes temporary files a crash may have left behind. */
  async sweepTemporaryFiles(): Promise<void> {
    await rm(this.stagingFolder, { recursive: true, force: true });
    await mkdir(this.stagingFolder, { recursive: true });
  }
}

/** True when something is at `path`. */
export async function exists(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined)) !== undefined;
}
