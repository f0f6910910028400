import { basename } from 'node:path';
import { DataFileError } from '../errors.js';
import { IMAGE_EXTENSIONS, listImageFiles } from '../files.js';
import type { Dataset } from '../types.js';
import { datasetOf, labelledSample, matchName, type SourceOptions } from './samples.js';

export interface FileNameOptions extends SourceOptions {
  /** File extensions that count as images, lower case with the dot; default {@link IMAGE_EXTENSIONS}. */
  extensions?: readonly string[];
}

/**
 * Every image under `root` (recursively), labelled from its name, as fastai's `label_func`: a RegExp is
 * matched against the file name and its first capture group (or whole match) is the label; a function is
 * given the file's absolute path and returns the label.
 * @throws {@link DataFileError} naming a file whose name gives no label, or `root` when it has no images.
 */
export async function fromFileNames(root: string, pattern: RegExp | ((path: string) => string), options: FileNameOptions = {}): Promise<Dataset> {
  const files = await listImageFiles(root, options.extensions ?? IMAGE_EXTENSIONS);
  const samples = files.map((path) => {
    const label = typeof pattern === 'function' ? pattern(path) : matchName(pattern, basename(path));
    if (!label) throw new DataFileError(path, typeof pattern === 'function' ? 'the label function gave no label' : `file name does not match ${pattern}`);
    return labelledSample(path, label, options);
  });
  return datasetOf(root, samples);
}
