/**
 * Reversible changes on disk, run all or nothing: if one step fails, the steps already run are reverted
 * in reverse order, so a refused or failed batch leaves the dataset as it was.
 */
import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { copyFile, mkdir, readFile, rename, rmdir } from 'node:fs/promises';
import { writeFileAtomically } from '../util/atomic-write.js';
import { CleanError } from './errors.js';
import type { Change } from './log.js';
import { exists, relativePath } from './paths.js';

/** One change on disk, how to take it back, and what the log says about it. */
export interface Step {
  change: Change;
  run(): Promise<void>;
  revert(): Promise<void>;
}

/** Runs `steps` in order; on a failure reverts those already run (last first) and rethrows. */
export async function runSteps(steps: readonly Step[]): Promise<void> {
  const done: Step[] = [];
  try {
    for (const step of steps) {
      await step.run();
      done.push(step);
    }
  } catch (error) {
    for (const step of done.reverse()) {
      await step.revert().catch((revertError: Error) => {
        const what = `${step.change.action} ${step.change.from ?? ''} ${step.change.to ?? ''}`.trim();
        throw new Error(`${(error as Error).message}; taking back "${what}" failed too (${revertError.message}); see the clean log`);
      });
    }
    throw error;
  }
}

/** Moves the file `from` to `to`, refusing (before touching anything) when `to` is taken. */
export function moveStep(root: string, from: string, to: string, change: Omit<Change, 'from' | 'to'>): Step {
  return {
    change: { ...change, from: relativePath(root, from), to: relativePath(root, to) },
    run: async () => {
      // rename() would silently replace an existing file.
      if (await exists(to)) throw new CleanError('conflict', `${relativePath(root, to)} already exists; refusing to overwrite it`);
      await rename(from, to);
    },
    revert: () => rename(to, from),
  };
}

/** A change that is only recorded: its effect on disk is another step's (a label kept in a manifest). */
export function recordStep(change: Change): Step {
  return { change, run: async () => undefined, revert: async () => undefined };
}

/** Makes the folder `path`, whose parent exists and which must not. */
export function mkdirStep(root: string, path: string): Step {
  return { change: { action: 'mkdir', to: relativePath(root, path) }, run: () => mkdir(path), revert: () => rmdir(path) };
}

/** Removes the folder `path`, which must be empty by then. */
export function rmdirStep(root: string, path: string): Step {
  return { change: { action: 'rmdir', from: relativePath(root, path) }, run: () => rmdir(path), revert: () => mkdir(path) };
}

/**
 * Undoes a {@link mkdirStep}: removes the folder if it is there and empty. A folder someone has put files
 * in since is left as it is, files and all.
 */
export function removeFolderIfEmptyStep(root: string, path: string): Step {
  let removed = false;
  return {
    change: { action: 'rmdir', from: relativePath(root, path) },
    run: async () => {
      removed = await rmdir(path).then(
        () => true,
        () => false,
      );
    },
    revert: async () => {
      if (removed) await mkdir(path);
    },
  };
}

/** Undoes a {@link rmdirStep}: makes the folder again unless it is already there. */
export function restoreFolderStep(root: string, path: string): Step {
  let made = false;
  return {
    change: { action: 'mkdir', to: relativePath(root, path) },
    run: async () => {
      made = !(await exists(path));
      if (made) await mkdir(path, { recursive: true });
    },
    revert: async () => {
      if (made) await rmdir(path);
    },
  };
}

/**
 * Rewrites the manifest with `text`, first keeping its current text at `backup` (never overwritten);
 * the change records the new text's hash so that an undo can tell whether it was edited since.
 */
export function rewriteManifestStep(root: string, manifest: string, backup: string, text: string): Step {
  return {
    change: { action: 'manifest', from: relativePath(root, manifest), to: relativePath(root, backup), sha256: sha256(text) },
    run: () => keepAndRewrite(manifest, backup, text),
    revert: () => rename(backup, manifest),
  };
}

/**
 * Undoes a {@link rewriteManifestStep}: puts the kept text back, after checking that the manifest is
 * still what the batch wrote (else edits made since would be lost).
 */
export function restoreManifestStep(root: string, manifest: string, backup: string, writtenSha256: string | undefined): Step {
  let replaced: Buffer | undefined;
  return {
    change: { action: 'manifest', from: relativePath(root, backup), to: relativePath(root, manifest) },
    run: async () => {
      const current = await readFile(manifest);
      if (sha256(current) !== writtenSha256) {
        throw new CleanError('conflict', `${relativePath(root, manifest)} was edited after the batch was applied; undoing it would lose those edits`);
      }
      if (!(await exists(backup))) throw new CleanError('conflict', `${relativePath(root, backup)}, the manifest's previous text, is missing`);
      replaced = current;
      await rename(backup, manifest);
    },
    revert: async () => {
      if (replaced) await keepAndRewrite(manifest, backup, replaced);
    },
  };
}

/** Copies the manifest to `backup` (never overwritten), then replaces it whole, so that a failed write leaves it as it was. */
async function keepAndRewrite(manifest: string, backup: string, text: string | Buffer): Promise<void> {
  await copyFile(manifest, backup, constants.COPYFILE_EXCL);
  await writeFileAtomically(manifest, text);
}

function sha256(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}
