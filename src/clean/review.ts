/**
 * What the cleaner shows of an image: the model's prediction and the loss of its label, as fastai's
 * ImageClassifierCleaner ranks images: the highest losses are where a label or an image is most likely wrong.
 */
import type { Prediction, PredictionFailure } from '../learn/predictor.js';
import type { Dataset, Sample } from '../data/types.js';
import { relativePath } from './paths.js';

/** A model that gives class probabilities for image files (a `Predictor`). */
export interface ImageScorer {
  readonly spec: { readonly classes: readonly string[] };
  predict(paths: string[]): Promise<(Prediction | PredictionFailure)[]>;
}

/** Which side of the training split an image was on. */
export type Side = 'train' | 'valid';
/** The sides a listing can ask for; 'all' is both. */
export const SIDE_FILTERS = ['train', 'valid', 'all'] as const;
export type SideFilter = (typeof SIDE_FILTERS)[number];

/** The model's view of one file; it does not depend on the label, so it survives relabelling. */
export interface ImageScore {
  probabilities?: Record<string, number>;
  /** Why the file could not be predicted (e.g. it is corrupt). */
  error?: string;
  /** Absent for a file that was not in the dataset the split was drawn from. */
  side?: Side;
}

/** One image as a reviewer sees it. */
export interface ReviewItem {
  /** The path relative to the dataset root: also the id clients use to fetch or decide on the image. */
  id: string;
  path: string;
  label: string;
  side: Side | null;
  predicted: string | null;
  /** Probability of the predicted class. */
  probability: number | null;
  /** Cross-entropy of the label: -ln p(label); null when the file could not be predicted. */
  loss: number | null;
  error?: string;
}

/** Probabilities are float32: a label given probability 0 gets a large, finite loss rather than Infinity. */
const SMALLEST_PROBABILITY = 1e-12;

/** Scores of `samples`, with the side of `split` (indices into `samples`) each was on. */
export async function scoreSamples(model: ImageScorer, samples: readonly Sample[], split: { train: readonly number[]; valid: readonly number[] }): Promise<Map<string, ImageScore>> {
  const sides = new Map<number, Side>([...split.train.map((i) => [i, 'train'] as const), ...split.valid.map((i) => [i, 'valid'] as const)]);
  const scores = await scoreFiles(model, samples.map((sample) => sample.path));
  samples.forEach((sample, i) => (scores.get(sample.path)!.side = sides.get(i)));
  return scores;
}

/** Scores of `paths`, without a side. */
export async function scoreFiles(model: ImageScorer, paths: string[]): Promise<Map<string, ImageScore>> {
  const predictions = await model.predict(paths);
  return new Map(predictions.map((p) => [p.path, 'error' in p ? { error: p.error } : { probabilities: p.probabilities }]));
}

/** The review item of `sample` given its score. */
export function reviewItem(root: string, sample: Sample, score: ImageScore): ReviewItem {
  const id = relativePath(root, sample.path);
  const base = { id, path: id, label: sample.label, side: score.side ?? null };
  if (!score.probabilities) return { ...base, predicted: null, probability: null, loss: null, error: score.error ?? 'not predicted' };
  const [predicted, probability] = Object.entries(score.probabilities).reduce((best, entry) => (entry[1] > best[1] ? entry : best));
  const labelProbability = score.probabilities[sample.label] ?? 0;
  return { ...base, predicted, probability, loss: -Math.log(Math.max(labelProbability, SMALLEST_PROBABILITY)) };
}

/** Review order: files that could not be read first, then the highest loss first, ties by path. */
export function reviewOrder(a: ReviewItem, b: ReviewItem): number {
  const lossA = a.loss ?? Infinity;
  const lossB = b.loss ?? Infinity;
  // Two unreadable files give Infinity - Infinity = NaN, falsy like 0: both fall through to the path.
  return lossB - lossA || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);
}

/** The classes a reviewer can pick from: the dataset's and the model's, sorted. */
export function reviewClasses(dataset: Dataset, model: ImageScorer): string[] {
  return [...new Set([...dataset.classes, ...model.spec.classes])].sort();
}
