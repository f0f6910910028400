import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The real DICOM files of ../shared/data/dicom (beside the repository, never inside it; see its
 * README). Undefined where absent, e.g. on a fresh clone: tests then skip with {@link SKIP_REASON}.
 */
export const SHARED_DICOM: string | undefined = (() => {
  const dir = fileURLToPath(new URL('../../../../../shared/data/dicom', import.meta.url));
  return existsSync(dir) ? dir : undefined;
})();

export const SKIP_REASON = 'real DICOM data not found at ../shared/data/dicom (see shared/data/README.md)';

/** Path of a file under the shared DICOM folder. */
export function sharedFile(relative: string): string {
  if (!SHARED_DICOM) throw new Error(SKIP_REASON);
  return join(SHARED_DICOM, relative);
}

/** Every DICOM Part 10 file under `dir`, recursively, whatever its name: found by the "DICM" prefix at byte 128. */
export function dicomFilesUnder(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) return dicomFilesUnder(path);
      return hasDicmPrefix(path) ? [path] : [];
    });
}

function hasDicmPrefix(path: string): boolean {
  const head = readFileSync(path).subarray(128, 132);
  return head.toString('latin1') === 'DICM';
}
