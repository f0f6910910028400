/** The cleaner's page: plain HTML, CSS and JavaScript files under src/web/cleaner, served as they are. */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Name -> content type of every file the page is made of. */
export const PAGE_FILES = {
  'index.html': 'text/html; charset=utf-8',
  'cleaner.css': 'text/css; charset=utf-8',
  'cleaner.js': 'text/javascript; charset=utf-8',
} as const;

export type PageFile = keyof typeof PAGE_FILES;

// The compiled build (dist/src/server/cleaner) does not copy these files, so it reads them from the source tree.
const FOLDERS = ['../../web/cleaner', '../../../../src/web/cleaner'].map((relative) => fileURLToPath(new URL(relative, import.meta.url)));

/** The page's files, read once. @throws Error when the page's folder is missing. */
export async function loadPage(): Promise<Record<PageFile, string>> {
  const folder = FOLDERS.find((candidate) => existsSync(join(candidate, 'index.html')));
  if (!folder) throw new Error(`the cleaner's page is missing (looked in ${FOLDERS.join(' and ')})`);
  const names = Object.keys(PAGE_FILES) as PageFile[];
  const texts = await Promise.all(names.map((name) => readFile(join(folder, name), 'utf8')));
  return Object.fromEntries(names.map((name, i) => [name, texts[i]])) as Record<PageFile, string>;
}
