import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';

/**
 * What `run` returns, and how many times it read the file at `path`: each readFileSync of it, and each
 * openSync of it for a read of its own (readFileSync opens the file itself). node:fs's functions are
 * wrapped while `run` runs, ESM imports of them included (syncBuiltinESMExports).
 */
export function countFileReads<T>(path: string, run: () => T): { result: T; reads: number } {
  const { readFileSync, openSync } = fs;
  let reads = 0;
  let inReadFile = false;
  Object.assign(fs, {
    readFileSync: (...args: Parameters<typeof readFileSync>) => {
      if (args[0] === path) reads++;
      inReadFile = true;
      try {
        return readFileSync(...args);
      } finally {
        inReadFile = false;
      }
    },
    openSync: (...args: Parameters<typeof openSync>) => {
      if (args[0] === path && !inReadFile) reads++;
      return openSync(...args);
    },
  });
  syncBuiltinESMExports();
  try {
    return { result: run(), reads };
  } finally {
    Object.assign(fs, { readFileSync, openSync });
    syncBuiltinESMExports();
  }
}
