import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { DataFileError } from '../errors.js';
import type { Dataset } from '../types.js';
import { fromClassFolders } from './class-folders.js';
import { fromManifest } from './manifest.js';
import type { SourceOptions } from './samples.js';

/** The manifest a dataset folder may carry; when present it is the dataset's own statement of its labels. */
const MANIFEST_NAME = 'manifest.csv';

/**
 * The dataset at `path`, as a command line takes it: a CSV manifest; a folder holding `manifest.csv`;
 * or else a folder of class folders.
 * @throws {@link DataFileError} when `path` does not exist, or from the source it resolves to.
 */
export async function datasetFromPath(path: string, options: SourceOptions = {}): Promise<Dataset> {
  const info = await stat(path).catch(() => undefined);
  if (!info) throw new DataFileError(path, 'does not exist');
  if (info.isFile()) return fromManifest(path, options);
  const manifest = join(path, MANIFEST_NAME);
  const hasManifest = (await stat(manifest).catch(() => undefined))?.isFile() ?? false;
  return hasManifest ? fromManifest(manifest, options) : fromClassFolders(path, options);
}
