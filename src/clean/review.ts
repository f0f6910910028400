/**
 * What the cleaner shows of an image: the model's prediction and the loss of its label, as fastai's
 * ImageClassifierCleaner ranks images: the highest losses are where a label or an image is most likely wrong.
 */
import type { FileScore, FileScorer } from '../learn/file-scores.js';
import { STUDY_TOP_K, aggregateByGroup, labelLoss, mostProbable } from '../learn/metrics.js';
import type { Dataset, Sample } from '../data/types.js';
import { relativePath } from './paths.js';

/** Which side of the training split an image was on. */
export type Side = 'train' | 'valid';
/** The sides a listing can ask for; 'all' is both. */
export const SIDE_FILTERS = ['train', 'valid', 'all'] as const;
export type SideFilter = (typeof SIDE_FILTERS)[number];

/** The model's view of one file; it does not depend on the label, so it survives relabelling. */
export interface ImageScore extends FileScore {
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

/** The review item of `sample` given its score. */
export function reviewItem(root: string, sample: Sample, score: ImageScore): ReviewItem {
  const id = relativePath(root, sample.path);
  const base = { id, path: id, label: sample.label, side: score.side ?? null };
  if (!score.probabilities) return { ...base, predicted: null, probability: null, loss: null, error: score.error ?? 'not predicted' };
  const [predicted, probability] = mostProbable(score.probabilities);
  return { ...base, predicted, probability, loss: labelLoss(score.probabilities[sample.label] ?? 0) };
}

/** Review order: files that could not be read first, then the highest loss first, ties by path. */
export function reviewOrder(a: ReviewItem, b: ReviewItem): number {
  const lossA = a.loss ?? Infinity;
  const lossB = b.loss ?? Infinity;
  // Two unreadable files give Infinity - Infinity = NaN, falsy like 0: both fall through to the path.
  return lossB - lossA || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);
}

/**
 * One patient as a reviewer sees it, where labels are given per patient: a wrong label is then a whole
 * patient's, and one decision covers every image of it.
 */
export interface PatientReviewItem {
  patient: string;
  label: string;
  /** The side its images were on; null when they were on different sides (a split at random) or none. */
  side: Side | null;
  /** The patient's class as the evaluation scores a patient (a study model's prediction, or per class the mean of its top slices' probabilities). */
  predicted: string | null;
  probability: number | null;
  /** Cross-entropy of the label at patient level; null when none of its images could be predicted. */
  loss: number | null;
  /** Its images with this label, those most in favour of the predicted class first (unreadable ones last). */
  images: ReviewItem[];
}

/**
 * The patients among `items` (one class's review items), each scored as the evaluation scores a
 * patient: by `studyProbabilities` (a study model's prediction) where it gives one, else the mean of
 * its {@link STUDY_TOP_K} highest slice probabilities per class, renormalised. `patientOf` maps an item
 * to its patient.
 */
export function patientReviewItems(
  items: readonly ReviewItem[],
  probabilities: (item: ReviewItem) => Record<string, number> | undefined,
  patientOf: (item: ReviewItem) => string,
  studyProbabilities: (patient: string) => Record<string, number> | undefined = () => undefined,
): PatientReviewItem[] {
  const byPatient = new Map<string, ReviewItem[]>();
  for (const item of items) (byPatient.get(patientOf(item)) ?? byPatient.set(patientOf(item), []).get(patientOf(item))!).push(item);
  return [...byPatient].map(([patient, members]) => {
    const sides = new Set(members.map((m) => m.side));
    const base = { patient, label: members[0].label, side: sides.size === 1 ? members[0].side : null };
    const scored = members.filter((m) => probabilities(m));
    if (!scored.length) return { ...base, predicted: null, probability: null, loss: null, images: members };
    const classes = Object.keys(probabilities(scored[0])!);
    const study = studyProbabilities(patient);
    const probs = Float32Array.from(scored.flatMap((m) => classes.map((c) => probabilities(m)![c])));
    const patientProbs = study
      ? classes.map((c) => study[c])
      : aggregateByGroup(
          { probs, targets: new Int32Array(scored.length), classes: classes.length },
          scored.map(() => patient),
          STUDY_TOP_K,
        ).probs;
    const best = patientProbs.indexOf(Math.max(...patientProbs));
    const labelIndex = classes.indexOf(base.label);
    const inFavour = (m: ReviewItem) => probabilities(m)?.[classes[best]] ?? -1;
    return {
      ...base,
      predicted: classes[best],
      probability: patientProbs[best],
      loss: labelLoss(labelIndex < 0 ? 0 : patientProbs[labelIndex]),
      images: [...members].sort((a, b) => inFavour(b) - inFavour(a)),
    };
  });
}

/** Review order of patients: those with no readable image first, then the highest loss first, ties by patient. */
export function patientReviewOrder(a: PatientReviewItem, b: PatientReviewItem): number {
  return (b.loss ?? Infinity) - (a.loss ?? Infinity) || (a.patient < b.patient ? -1 : a.patient > b.patient ? 1 : 0);
}

/** The classes a reviewer can pick from: the dataset's and the model's, sorted. */
export function reviewClasses(dataset: Dataset, model: FileScorer): string[] {
  return [...new Set([...dataset.classes, ...model.spec.classes])].sort();
}
