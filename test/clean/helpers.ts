/** Small datasets for the cleaner's tests, and a fingerprint of a folder to prove nothing was lost. */
import { createHash } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { basename, join, relative } from 'node:path';
import { LOG_NAME } from '../../src/clean/index.js';
import { sliceFileScorer, studyFileScorer, type FileScorer } from '../../src/learn/file-scores.js';
import { writeImage } from '../data/helpers/tiny-images.js';

/** Writes a distinct tiny PNG at each of `paths` (relative to `root`). */
export async function writePngs(root: string, paths: readonly string[]): Promise<void> {
  for (const [i, path] of paths.entries())
    await writeImage(join(root, path), { width: 4, height: 4, channels: 1, value: (x, y) => (i * 37 + x * 8 + y) % 256 });
}

/** Two classes of two patients each, two slices per patient: enough for a split by patient at validPct 0.5. */
export const CLASS_FOLDER_FILES = ['a/p1_s0.png', 'a/p1_s1.png', 'a/p2_s0.png', 'a/p2_s1.png', 'b/p3_s0.png', 'b/p3_s1.png', 'b/p4_s0.png', 'b/p4_s1.png'];

/** A slice model whose probability of class a is set per file name; it counts the files it was asked about. */
export function fakeScorer(probabilityOfA: Record<string, number>): FileScorer & { readonly asked: number } {
  const predictor = {
    asked: 0,
    spec: { classes: ['a', 'b'] },
    async predict(paths: string[]) {
      predictor.asked += paths.length;
      return paths.map((path) => {
        const pA = probabilityOfA[basename(path)];
        if (pA === undefined) return { path, error: 'cannot decode' };
        return { path, label: pA >= 0.5 ? 'a' : 'b', index: pA >= 0.5 ? 0 : 1, probabilities: { a: pA, b: 1 - pA } };
      });
    },
  };
  return {
    ...sliceFileScorer(predictor),
    get asked() {
      return predictor.asked;
    },
  };
}

/**
 * A study model with the same slice scores as {@link fakeScorer}; a study's probability of class a is the
 * least of its readable slices' (unlike the top-slice mean). It records the files of each study it was
 * asked about, and throws, as a StudyPredictor does, for a study with no readable slice.
 */
export function fakeStudyScorer(probabilityOfA: Record<string, number>): FileScorer & { studies: string[][] } {
  const predictor = {
    studies: [] as string[][],
    spec: { classes: ['a', 'b'] },
    async predictStudy(study: string, paths: readonly string[]) {
      predictor.studies.push(paths.map((path) => basename(path)));
      const readable = paths.filter((path) => probabilityOfA[basename(path)] !== undefined);
      if (!readable.length) throw new Error(`study ${study}: none of its ${paths.length} slices could be read`);
      const pA = Math.min(...readable.map((path) => probabilityOfA[basename(path)]));
      return {
        probabilities: { a: pA, b: 1 - pA },
        slices: readable.map((path) => ({ path, probabilities: { a: probabilityOfA[basename(path)], b: 1 - probabilityOfA[basename(path)] } })),
        failures: paths.filter((path) => !readable.includes(path)).map((path) => ({ path, error: 'cannot decode' })),
      };
    },
  };
  return { ...studyFileScorer(predictor), studies: predictor.studies };
}

/** p1_s1 looks most like b, p2_s0 is unreadable. */
export const PROBABILITY_OF_A: Record<string, number> = {
  'p1_s0.png': 0.9,
  'p1_s1.png': 0.1,
  'p2_s1.png': 0.6,
  'p3_s0.png': 0.2,
  'p3_s1.png': 0.7,
  'p4_s0.png': 0.05,
  'p4_s1.png': 0.4,
};

/** A manifest dataset over the same kind of files, the labels only in the manifest. */
export async function writeManifestDataset(root: string): Promise<void> {
  const files = ['images/p1_s0.png', 'images/p1_s1.png', 'images/p3_s0.png', 'images/p3_s1.png'];
  await writePngs(root, files);
  const rows = files.map((file, i) => `${file},${i < 2 ? 'a' : 'b'},${file.slice(7, 9)},${i % 2}`);
  // CRLF and a quoted cell, to show a rewrite keeps the manifest's form.
  await writeFile(join(root, 'manifest.csv'), ['path,label,patient_id,slice_index,"note, free text"', ...rows.map((row) => `${row},`)].join('\r\n') + '\r\n');
}

/**
 * Every file (by content hash) and folder under `root`, hidden ones included, the clean log excluded:
 * equal snapshots mean the dataset is exactly as it was.
 */
export async function snapshot(root: string): Promise<Record<string, string>> {
  const entries: Record<string, string> = {};
  const walk = async (folder: string): Promise<void> => {
    for (const entry of await readdir(folder, { withFileTypes: true })) {
      const path = join(folder, entry.name);
      const key = relative(root, path);
      if (entry.isDirectory()) {
        entries[key + '/'] = 'folder';
        await walk(path);
      } else if (key !== LOG_NAME)
        entries[key] = createHash('sha256')
          .update(await readFile(path))
          .digest('hex');
    }
  };
  await walk(root);
  return entries;
}

/** The clean log's entries; none when there is no log. */
export async function logEntries(root: string): Promise<Record<string, unknown>[]> {
  const text = await readFile(join(root, LOG_NAME), 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}
