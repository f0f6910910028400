/** Which folders a batch of moves has to make, and which it leaves empty (and so removes). */
import { readdir } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { exists, isBelow } from './paths.js';

/** The folders among `folders` and their ancestors below `root` that do not exist yet, parents first. */
export async function missingFolders(root: string, folders: readonly string[]): Promise<string[]> {
  const missing: string[] = [];
  for (const folder of folders) {
    let path = root;
    for (const part of relative(root, folder).split(sep).filter(Boolean)) {
      path = join(path, part);
      if (!missing.includes(path) && !(await exists(path))) missing.push(path);
    }
  }
  return missing;
}

/**
 * The folders below `root` that hold nothing but the files `leaving` (or folders emptied in turn), deepest
 * first; folders that files are `arriving` in are kept. An emptied class folder must go: the class-folder
 * reader refuses a class folder without images.
 */
export async function foldersEmptiedBy(root: string, leaving: readonly string[], arriving: readonly string[]): Promise<string[]> {
  const gone = new Set(leaving);
  const kept = new Set(arriving.flatMap((path) => ancestorsBelow(root, path)));
  const emptied: string[] = [];
  let candidates = [...new Set(leaving.map((path) => dirname(path)))];
  while (candidates.length > 0) {
    const next: string[] = [];
    // Deepest first, so that a parent is judged after its children.
    for (const folder of candidates.sort((a, b) => b.length - a.length)) {
      if (!isBelow(root, folder) || kept.has(folder) || gone.has(folder)) continue;
      const entries = await readdir(folder);
      if (entries.every((name) => gone.has(join(folder, name)))) {
        gone.add(folder);
        emptied.push(folder);
        next.push(dirname(folder));
      }
    }
    candidates = next;
  }
  return emptied;
}

/** `path`'s folders below `root`, `path` excluded, nearest first. */
function ancestorsBelow(root: string, path: string): string[] {
  const folders: string[] = [];
  for (let folder = dirname(path); isBelow(root, folder); folder = dirname(folder)) folders.push(folder);
  return folders;
}
