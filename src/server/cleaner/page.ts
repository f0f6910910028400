/** The cleaner's page: plain HTML, CSS and JavaScript files under src/web/cleaner, served as they are. */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { packagePath } from '../../util/package-paths.js';

/** Name -> content type of every file the page is made of. */
export const PAGE_FILES = {
  'index.html': 'text/html; charset=utf-8',
  'cleaner.css': 'text/css; charset=utf-8',
  'cleaner.js': 'text/javascript; charset=utf-8',
} as const;

export type PageFile = keyof typeof PAGE_FILES;

// The compiled build does not copy these files, so it reads them from the source tree too.
const FOLDER = packagePath('src', 'web', 'cleaner');

/** The page's files, read once. @throws Error when the page's folder is missing. */
export async function loadPage(): Promise<Record<PageFile, string>> {
  if (!existsSync(join(FOLDER, 'index.html'))) throw new Error(`the cleaner's page is missing (looked in ${FOLDER})`);
  const names = Object.keys(PAGE_FILES) as PageFile[];
  const texts = await Promise.all(names.map((name) => readFile(join(FOLDER, name), 'utf8')));
  return Object.fromEntries(names.map((name, i) => [name, texts[i]])) as Record<PageFile, string>;
}
