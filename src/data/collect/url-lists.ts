/**
 * Reading the URLs to collect, per class: a folder of `<className>.txt` files (one URL per line) or a
 * CSV file of `url,label` rows. Blank lines and lines starting with `#` are skipped in both.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { parseCsvRow } from '../sources/csv.js';
import { CollectError } from './errors.js';
import { classNameProblem, httpUrlProblem } from './input-checks.js';

/** The URLs listed for one class, in list order, without repeats. */
export interface ClassUrls {
  className: string;
  urls: string[];
}

/**
 * Reads the URL lists at `path` (a folder of `<className>.txt` files, or a `.csv` file of `url,label`).
 * Classes come back sorted by name. Throws a {@link CollectError} naming the file (and line) at fault.
 */
export async function readUrlLists(path: string): Promise<ClassUrls[]> {
  const kind = await stat(path).catch((error: NodeJS.ErrnoException) => {
    throw new CollectError(path, `cannot read (${error.code ?? error.message})`);
  });
  const byClass = new Map<string, Set<string>>();
  const add = (className: string, url: string, where: string): void => {
    const problem = classNameProblem(className) ?? httpUrlProblem(url);
    if (problem) throw new CollectError(where, problem);
    byClass.set(className, (byClass.get(className) ?? new Set()).add(url));
  };
  if (kind.isDirectory()) {
    const lists = (await readdir(path)).filter((name) => name.endsWith('.txt') && !name.startsWith('.')).sort();
    if (lists.length === 0) throw new CollectError(path, 'no <className>.txt URL lists in this folder');
    for (const name of lists) {
      const file = join(path, name);
      for (const { text, where } of await listedLines(file)) add(basename(name, '.txt'), text, where);
    }
  } else if (path.toLowerCase().endsWith('.csv')) {
    for (const { text, where } of await listedLines(path)) {
      const fields = parseCsvRow(text, (reason) => new CollectError(where, reason)).map((field) => field.trim());
      if (fields.length !== 2) throw new CollectError(where, `expected 2 fields (url,label), found ${fields.length}`);
      const [url, label] = fields;
      if (url.toLowerCase() !== 'url' || label.toLowerCase() !== 'label') add(label, url, where);
    }
  } else {
    throw new CollectError(path, 'expected a folder of <className>.txt URL lists or a .csv file of url,label rows');
  }
  if (byClass.size === 0) throw new CollectError(path, 'no URLs listed');
  return [...byClass].sort(([a], [b]) => (a < b ? -1 : 1)).map(([className, urls]) => ({ className, urls: [...urls] }));
}

/** The non-blank, non-comment lines of `file`, trimmed, each with its `file:line` for messages. */
async function listedLines(file: string): Promise<{ text: string; where: string }[]> {
  const content = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    throw new CollectError(file, `cannot read (${error.code ?? error.message})`);
  });
  return content
    .split(/\r?\n/)
    .map((line, index) => ({ text: line.trim(), where: `${file}:${index + 1}` }))
    .filter(({ text }) => text !== '' && !text.startsWith('#'));
}
