/** What every source shares: labelled samples with patient ids from file names, and the dataset around them. */
import { basename } from 'node:path';
import { DataFileError } from '../errors.js';
import type { Dataset, Sample } from '../types.js';

/** `p123_s045.jpg` is patient `p123`: the brain-stroke-ct naming. */
export const DEFAULT_PATIENT_ID_PATTERN = /^(p\d+)_/i;

/** Options every source takes. */
export interface SourceOptions {
  /**
   * Finds the patient id in a file name: the first capture group, or the whole match without one.
   * Default {@link DEFAULT_PATIENT_ID_PATTERN}; a name it does not match leaves the sample without one.
   */
  patientIdFrom?: RegExp;
}

/**
 * The first capture group of `pattern` in `text`, or the whole match when it has no group, as fastai's
 * RegexLabeller; undefined when it does not match.
 */
export function matchName(pattern: RegExp, text: string): string | undefined {
  // A global or sticky pattern would make `exec` depend on where its previous call stopped.
  const match = new RegExp(pattern.source, pattern.flags.replace(/[gy]/g, '')).exec(text);
  return match ? (match[1] ?? match[0]) : undefined;
}

/** A sample of `path` labelled `label`, with the patient id its file name gives. */
export function labelledSample(path: string, label: string, { patientIdFrom = DEFAULT_PATIENT_ID_PATTERN }: SourceOptions): Sample {
  const patientId = matchName(patientIdFrom, basename(path));
  return patientId === undefined ? { path, label } : { path, label, patientId };
}

/**
 * The dataset of `samples`, classes sorted as fastai's CategoryBlock sorts its vocab (code point order).
 * @throws {@link DataFileError} naming `source` when there are no samples.
 */
export function datasetOf(source: string, samples: Sample[]): Dataset {
  if (samples.length === 0) throw new DataFileError(source, 'no images found');
  const classes = [...new Set(samples.map((sample) => sample.label))].sort();
  return { source, classes, samples };
}
