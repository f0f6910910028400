/** Finding the files training would fail on, before it starts (fastai's `verify_images`); deletes nothing. */
import { mapWithConcurrency } from '../util/concurrency.js';
import { readImage } from './decode.js';
import { reasonOf } from './errors.js';

/** A file that cannot be used, and why. */
export interface FileProblem {
  path: string;
  reason: string;
}

/**
 * Decodes every file in full as training does ({@link readImage}: sharp refusing truncated files, DICOM
 * CT to HU), `concurrency` at a time, and returns the failures sorted by path. An MR DICOM counts as a
 * problem, since the CT pipeline refuses it.
 */
export async function verifyImages(paths: readonly string[], { concurrency = 4 }: { concurrency?: number } = {}): Promise<FileProblem[]> {
  const problems: FileProblem[] = [];
  await mapWithConcurrency(paths, concurrency, async (path) => {
    await readImage(path).catch((error: unknown) => problems.push({ path, reason: reasonOf(error) }));
  });
  return problems.sort((a, b) => (a.path < b.path ? -1 : 1));
}
