/**
 * Where a cleaning touches the disk: the dataset's root folder (every path in requests, the log and the
 * trash is relative to it), its manifest if it has one, and the checks that keep client paths inside it.
 */
import { lstat, stat } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { CleanError } from './errors.js';

/** The change log, one JSON object per line, in the dataset's root folder. */
export const LOG_NAME = '.findstroke-clean-log.jsonl';
/** Deleted files go to `<root>/.trash/<batch>/<original relative path>`; hidden, so no loader reads them. */
export const TRASH_NAME = '.trash';
/** The manifest a dataset folder may carry (as `datasetFromPath` reads it). */
const MANIFEST_NAME = 'manifest.csv';

/** The dataset as the cleaner sees it on disk. */
export interface CleanTarget {
  /** Absolute folder that every path of a cleaning is relative to; it holds the log and the trash. */
  root: string;
  /** Absolute path of the manifest that labels the images; absent when class folders label them. */
  manifest?: string;
}

/**
 * The cleaning target of `data`, taken as `datasetFromPath` takes it: a CSV manifest (root: its folder),
 * a folder holding `manifest.csv`, or a folder of class folders.
 * @throws {@link CleanError} ('not-found') when `data` does not exist.
 */
export async function cleanTarget(data: string): Promise<CleanTarget> {
  const path = resolve(data);
  const info = await stat(path).catch(() => undefined);
  if (!info) throw new CleanError('not-found', `${path} does not exist`);
  if (info.isFile()) return { root: dirname(path), manifest: path };
  const manifest = join(path, MANIFEST_NAME);
  const hasManifest = (await stat(manifest).catch(() => undefined))?.isFile() ?? false;
  return hasManifest ? { root: path, manifest } : { root: path };
}

/**
 * `path` as a client sent it (relative to `root`), resolved to an absolute path.
 * @throws {@link CleanError} ('invalid') when it is empty or leads outside `root` (`..`, an absolute path).
 */
export function resolveInside(root: string, path: string): string {
  if (path === '' || path.includes('\0')) throw new CleanError('invalid', `path ${JSON.stringify(path)} is not a file path`);
  const absolute = resolve(root, path);
  if (!isBelow(root, absolute)) throw new CleanError('invalid', `path ${JSON.stringify(path)} leads outside the dataset folder ${root}`);
  return absolute;
}

/** True when the absolute `path` lies below `root` (not `root` itself). */
export function isBelow(root: string, path: string): boolean {
  const inside = relative(root, path);
  return inside !== '' && inside !== '..' && !inside.startsWith(`..${sep}`) && !isAbsolute(inside);
}

/** `absolute` relative to `root`, with forward slashes whatever the platform: the form clients and the log use. */
export function relativePath(root: string, absolute: string): string {
  return relative(root, absolute).split(sep).join('/');
}

/** True when something (file, folder, link) is at `path`. */
export async function exists(path: string): Promise<boolean> {
  return (await lstat(path).catch(() => undefined)) !== undefined;
}
