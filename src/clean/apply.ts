/**
 * Applying a reviewer's decisions to a dataset: relabelled images move to their new class folder (or get
 * their new label in the manifest), deleted images move into the trash, folders are made and removed as
 * the moves need, and every change is logged under one batch id so that {@link undoLastBatch} can revert it.
 */
import { readFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { datasetFromPath } from '../data/sources/index.js';
import type { Sample } from '../data/types.js';
import { CleanError } from './errors.js';
import { appendLog, newBatchId, readLog, type LogEntry } from './log.js';
import { editManifest } from './manifest-edit.js';
import { foldersEmptiedBy, missingFolders } from './folders.js';
import { cleanTarget, exists, relativePath, resolveInside, TRASH_NAME } from './paths.js';
import { mkdirStep, moveStep, recordStep, rewriteManifestStep, rmdirStep, runSteps, type Step } from './steps.js';

/** What to do with one image: leave it, move it to the trash, or give it another class. */
export type Decision = 'keep' | 'delete' | { relabel: string };

/** What a batch changed, as logged; `batch` is null when there was nothing to change. */
export interface BatchResult {
  batch: string | null;
  changes: LogEntry[];
}

export interface ApplyOptions {
  /** Classes an image may be relabelled to besides the dataset's own (e.g. the model's). */
  classes?: readonly string[];
}

interface Move {
  sample: Sample;
  to: string;
  step: Step;
}

/**
 * Applies `decisions` (image path relative to the dataset root -> decision) to the dataset at `data`,
 * all or nothing. Nothing is ever unlinked: deletions go to `<root>/.trash/<batch>/<relative path>`.
 * @throws {@link CleanError} before anything changes: 'invalid' for a path outside the dataset, an
 * unknown class or a malformed decision; 'not-found' for a path that is not an image of the dataset;
 * 'conflict' when a move would overwrite a file.
 */
export async function applyDecisions(data: string, decisions: Readonly<Record<string, Decision>>, options: ApplyOptions = {}): Promise<BatchResult> {
  const target = await cleanTarget(data);
  const { root, manifest } = target;
  const dataset = await datasetFromPath(manifest ?? root);
  const samples = new Map(dataset.samples.map((sample) => [sample.path, sample]));
  const classes = new Set([...dataset.classes, ...(options.classes ?? [])]);
  const batch = newBatchId(await readLog(root));

  const relabels = new Map<Sample, string>();
  const deletions: Sample[] = [];
  for (const [path, decision] of Object.entries(decisions).sort(([a], [b]) => (a < b ? -1 : 1))) {
    const sample = samples.get(resolveInside(root, path));
    if (!sample) throw new CleanError('not-found', `${path} is not an image of the dataset ${dataset.source}`);
    if (decision === 'delete') deletions.push(sample);
    else if (typeof decision === 'object' && decision !== null && typeof decision.relabel === 'string') {
      const label = checkedClass(decision.relabel, classes, manifest === undefined);
      if (label !== sample.label) relabels.set(sample, label);
    } else if (decision !== 'keep')
      throw new CleanError('invalid', `the decision for ${path} must be "keep", "delete" or {"relabel": class}, got ${JSON.stringify(decision)}`);
  }

  const trash = join(root, TRASH_NAME, batch);
  const moves: Move[] = deletions.map((sample) => {
    const to = join(trash, relative(root, sample.path));
    return { sample, to, step: moveStep(root, sample.path, to, { action: 'delete' }) };
  });
  const records: Step[] = [];
  for (const [sample, label] of relabels) {
    const change = { action: 'relabel' as const, label: { from: sample.label, to: label } };
    if (manifest) records.push(recordStep({ ...change, from: relativePath(root, sample.path), to: relativePath(root, sample.path) }));
    else {
      const to = join(root, label, ...relative(join(root, sample.label), sample.path).split(sep));
      moves.push({ sample, to, step: moveStep(root, sample.path, to, change) });
    }
  }
  await refuseOverwrites(root, moves);

  const rewrite: Step[] = [];
  if (manifest && (relabels.size > 0 || deletions.length > 0)) {
    const edits = { relabel: new Map([...relabels].map(([sample, label]) => [sample.path, label])), remove: new Set(deletions.map((sample) => sample.path)) };
    const text = editManifest(await readFile(manifest, 'utf8'), manifest, edits);
    rewrite.push(rewriteManifestStep(root, manifest, join(trash, relative(root, manifest)), text));
  }
  const folders = await missingFolders(root, [...moves.map((move) => dirname(move.to)), ...(rewrite.length ? [trash] : [])]);
  const emptied = await foldersEmptiedBy(
    root,
    moves.map((move) => move.sample.path),
    moves.map((move) => move.to),
  );
  // Folders first (the trash holds the manifest's previous text), then the manifest, then the files.
  const steps = [
    ...folders.map((folder) => mkdirStep(root, folder)),
    ...rewrite,
    ...records,
    ...moves.map((move) => move.step),
    ...emptied.map((folder) => rmdirStep(root, folder)),
  ];
  if (steps.length === 0) return { batch: null, changes: [] };
  await runSteps(steps);
  return {
    batch,
    changes: await appendLog(
      root,
      batch,
      steps.map((step) => step.change),
    ),
  };
}

/**
 * `name` when it is a class images may take; in a class-folder dataset it must also be usable as a
 * folder name, since that is where the images go.
 */
function checkedClass(name: string, classes: ReadonlySet<string>, isFolder: boolean): string {
  if (!classes.has(name)) throw new CleanError('invalid', `unknown class ${JSON.stringify(name)} (classes: ${[...classes].sort().join(', ')})`);
  if (isFolder && (/[\\/\0]/.test(name) || name.startsWith('.'))) throw new CleanError('invalid', `class ${JSON.stringify(name)} cannot be a folder name`);
  return name;
}

/** @throws {@link CleanError} ('conflict') when two moves share a destination or one would replace a file. */
async function refuseOverwrites(root: string, moves: readonly Move[]): Promise<void> {
  const seen = new Map<string, Sample>();
  for (const { sample, to } of moves) {
    const other = seen.get(to);
    if (other)
      throw new CleanError(
        'conflict',
        `${relativePath(root, sample.path)} and ${relativePath(root, other.path)} would both become ${relativePath(root, to)}; nothing was changed`,
      );
    seen.set(to, sample);
    if (await exists(to))
      throw new CleanError(
        'conflict',
        `${relativePath(root, to)} already exists; refusing to overwrite it with ${relativePath(root, sample.path)}; nothing was changed`,
      );
  }
}
