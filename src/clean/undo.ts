/** Reverting the last applied batch of a cleaning, from the log, exactly: files go back where they were. */
import { CleanError } from './errors.js';
import { appendLog, lastUndoableBatch, newBatchId, readLog, type LogEntry } from './log.js';
import { cleanTarget, exists, resolveInside } from './paths.js';
import { moveStep, recordStep, removeFolderIfEmptyStep, restoreFolderStep, restoreManifestStep, runSteps, type Step } from './steps.js';
import type { BatchResult } from './apply.js';

/** An undo: its own batch, and the batch it reverted. */
export interface UndoResult extends BatchResult {
  batch: string;
  undid: string;
}

/**
 * Reverts the last applied batch of the dataset at `data` that is not undone yet, all or nothing, and
 * logs the reverting changes as a batch of their own. Called again, it reverts the batch before.
 * @throws {@link CleanError} ('conflict') before anything changes when there is nothing to undo, a file
 * is no longer where the batch put it, its old place is taken, or the manifest was edited since.
 */
export async function undoLastBatch(data: string): Promise<UndoResult> {
  const { root } = await cleanTarget(data);
  const log = await readLog(root);
  const last = lastUndoableBatch(log);
  if (!last) throw new CleanError('conflict', `nothing to undo: the clean log of ${root} has no applied batch left`);
  const steps = [...last.entries].reverse().map((entry) => inverseStep(root, entry));
  for (const entry of last.entries.filter(movedFile)) {
    if (!(await exists(resolveInside(root, entry.to!)))) {
      throw new CleanError('conflict', `${entry.to} is no longer there (moved or deleted since batch ${last.batch}); nothing was undone`);
    }
  }
  await runSteps(steps);
  const batch = newBatchId(log);
  return {
    batch,
    undid: last.batch,
    changes: await appendLog(
      root,
      batch,
      steps.map((step) => step.change),
      last.batch,
    ),
  };
}

/** The step that takes back one logged change. Paths come from a file, so they are checked like a client's. */
function inverseStep(root: string, entry: LogEntry): Step {
  const at = (path: string | undefined) => resolveInside(root, path ?? '');
  const label = entry.label && { from: entry.label.to, to: entry.label.from };
  switch (entry.action) {
    case 'relabel':
      if (!movedFile(entry)) return recordStep({ action: 'relabel', from: entry.to, to: entry.from, label });
      return moveStep(root, at(entry.to), at(entry.from), { action: 'relabel', label });
    case 'delete':
      return moveStep(root, at(entry.to), at(entry.from), { action: 'restore' });
    case 'mkdir':
      return removeFolderIfEmptyStep(root, at(entry.to));
    case 'rmdir':
      return restoreFolderStep(root, at(entry.from));
    case 'manifest':
      return restoreManifestStep(root, at(entry.from), at(entry.to), entry.sha256);
    default:
      throw new CleanError('conflict', `the clean log has a change this version cannot undo: ${JSON.stringify(entry)}`);
  }
}

/** True for a logged change that moved an image (not a manifest-only relabel). */
function movedFile(entry: LogEntry): boolean {
  return (entry.action === 'relabel' || entry.action === 'delete') && entry.from !== entry.to;
}
