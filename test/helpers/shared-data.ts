/** Locates `../shared/data` (real public head-CT data beside the repository); absent on a user's machine. */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

const root = fileURLToPath(new URL('../../../shared/data', import.meta.url));

/** The path of `relative` inside ../shared/data, or undefined when it is not there. */
export function sharedData(relative = ''): string | undefined {
  const path = join(root, relative);
  return existsSync(path) ? path : undefined;
}

/** The reason a test skips when shared data is missing. */
export function missingSharedData(relative: string): string {
  return `skipped: ${join(root, relative)} is absent (real data lives in ../shared/data beside the repository)`;
}
