import { join } from 'node:path';
import { DataFileError } from '../errors.js';
import { IMAGE_EXTENSIONS, listImageFiles, subfolders } from '../files.js';
import type { Dataset, Sample } from '../types.js';
import { datasetOf, labelledSample, type SourceOptions } from './samples.js';

export interface ClassFolderOptions extends SourceOptions {
  /** Class folders to read; default: every subfolder of the root. */
  classes?: readonly string[];
  /** File extensions that count as images, lower case with the dot; default {@link IMAGE_EXTENSIONS}. */
  extensions?: readonly string[];
}

/**
 * A dataset laid out as `root/<class>/...`: each image is labelled with the name of the class folder it
 * lies under, as fastai's `parent_label` for flat folders. Images in nested folders (patient/series trees
 * of DICOM) take the class folder's name, not their own folder's.
 * @throws {@link DataFileError} for a missing root or class folder, a class folder without images, or no classes.
 */
export async function fromClassFolders(root: string, options: ClassFolderOptions = {}): Promise<Dataset> {
  const classes = options.classes ?? (await subfolders(root));
  if (classes.length === 0) throw new DataFileError(root, 'has no class folders (expected root/<class>/<image>)');
  const extensions = options.extensions ?? IMAGE_EXTENSIONS;
  const samples: Sample[] = [];
  // One class at a time, so the first faulty folder reported is the same on every run.
  for (const label of classes) {
    const folder = join(root, label);
    const files = await listImageFiles(folder, extensions);
    if (files.length === 0) throw new DataFileError(folder, `class folder has no images (${extensions.join(' ')})`);
    samples.push(...files.map((path) => labelledSample(path, label, options)));
  }
  return datasetOf(root, samples);
}
