/**
 * A cleaning session over one dataset and one model, as fastai's ImageClassifierCleaner: images of a
 * class and split side ranked by the loss of their label, and decisions applied to (and undone on) disk.
 * The model is run once per file; scores follow files as they move, since a prediction does not depend
 * on the label.
 */
import { imageDataLoaders, type ImageDataOptions } from '../data/dataloaders.js';
import { datasetFromPath } from '../data/sources/index.js';
import type { Dataset } from '../data/types.js';
import type { FileScorer, FileScores } from '../learn/file-scores.js';
import { applyDecisions, type BatchResult, type Decision } from './apply.js';
import { CleanError } from './errors.js';
import { cleanTarget, relativePath, resolveInside, type CleanTarget } from './paths.js';
import {
  patientReviewItems,
  patientReviewOrder,
  reviewClasses,
  reviewItem,
  reviewOrder,
  SIDE_FILTERS,
  type ImageScore,
  type PatientReviewItem,
  type ReviewItem,
  type SideFilter,
} from './review.js';
import { undoLastBatch, type UndoResult } from './undo.js';

/** The model's scores of the dataset's files, each with the side of the split it was on. */
interface SampleScores {
  files: Map<string, ImageScore>;
  studies: FileScores['studies'];
}

export interface CleanerOptions extends Pick<ImageDataOptions, 'validPct' | 'seed' | 'splitBy'> {
  /** The dataset: class folders, a folder with manifest.csv, or a manifest CSV. */
  data: string;
  /** The model's scorer of files (an exported model's `cleaner()`): a study model's also scores each patient as a whole. */
  model: FileScorer;
}

export class Cleaner {
  readonly #target: CleanTarget;
  readonly #model: FileScorer;
  readonly #scores: SampleScores;
  #dataset: Dataset;
  /** Applies and undos run one at a time: each reads the disk the previous one left. */
  #queue: Promise<unknown> = Promise.resolve();

  private constructor(target: CleanTarget, model: FileScorer, dataset: Dataset, scores: SampleScores) {
    this.#target = target;
    this.#model = model;
    this.#dataset = dataset;
    this.#scores = scores;
  }

  /**
   * Reads the dataset, draws the split training drew (same seed, validPct and grouping as `train`'s
   * defaults unless given) and predicts every image.
   * @throws when the dataset cannot be read or split, as training would.
   */
  static async open({ data, model, validPct = 0.2, seed = 42, splitBy = 'auto' }: CleanerOptions): Promise<Cleaner> {
    const target = await cleanTarget(data);
    const dataset = await datasetFromPath(target.manifest ?? target.root);
    const { split } = imageDataLoaders(dataset, { validPct, seed, splitBy });
    const scores: SampleScores = await model.score(dataset.samples);
    for (const [side, indices] of [
      ['train', split.train],
      ['valid', split.valid],
    ] as const)
      for (const i of indices) scores.files.get(dataset.samples[i].path)!.side = side;
    return new Cleaner(target, model, dataset, scores);
  }

  /** The dataset's root folder: ids and decision paths are relative to it. */
  get root(): string {
    return this.#target.root;
  }

  /** Classes an image can be listed under or relabelled to: the dataset's and the model's. */
  get classes(): string[] {
    return reviewClasses(this.#dataset, this.#model);
  }

  /**
   * The images labelled `className` on `side`, highest loss first (unreadable files before all).
   * @throws {@link CleanError} ('invalid') for an unknown class or side.
   */
  images(className: string, side: SideFilter): ReviewItem[] {
    if (!this.classes.includes(className)) throw new CleanError('invalid', `unknown class ${JSON.stringify(className)} (classes: ${this.classes.join(', ')})`);
    if (!SIDE_FILTERS.includes(side)) throw new CleanError('invalid', `unknown side ${JSON.stringify(side)} (sides: ${SIDE_FILTERS.join(', ')})`);
    return this.#dataset.samples
      .filter((sample) => sample.label === className)
      .map((sample) => reviewItem(this.root, sample, this.#scores.files.get(sample.path) ?? {}))
      .filter((item) => side === 'all' || item.side === side)
      .sort(reviewOrder);
  }

  /**
   * The patients with images labelled `className` on `side`, highest patient-level loss first (see
   * {@link patientReviewItems}): where labels are per patient, the way to find a mislabelled patient.
   * @throws {@link CleanError} ('invalid') for an unknown class or side, or an image without a patient id.
   */
  patients(className: string, side: SideFilter): PatientReviewItem[] {
    const images = this.images(className, side);
    const sampleOf = new Map(this.#dataset.samples.map((sample) => [relativePath(this.root, sample.path), sample]));
    const orphan = images.find((item) => sampleOf.get(item.id)?.patientId === undefined);
    if (orphan)
      throw new CleanError(
        'invalid',
        `${orphan.id} has no patient id; listing by patient needs them (a manifest's patient_id, DICOM PatientID or pNNN_ file names)`,
      );
    const sample = (item: ReviewItem) => sampleOf.get(item.id)!;
    const { files, studies } = this.#scores;
    return patientReviewItems(
      images,
      (item) => files.get(sample(item).path)?.probabilities,
      (item) => sample(item).patientId!,
      (patient) => studies.get(patient),
    ).sort(patientReviewOrder);
  }

  /** How {@link patients} scores a patient, in words. */
  get patientScoring(): string {
    return this.#model.patientScoring;
  }

  /**
   * The absolute path of the image with id `id`.
   * @throws {@link CleanError}: 'invalid' when `id` leads outside the dataset; 'not-found' when it is not one of its images.
   */
  imagePath(id: string): string {
    const path = resolveInside(this.root, id);
    if (!this.#dataset.samples.some((sample) => sample.path === path)) throw new CleanError('not-found', `${id} is not an image of the dataset`);
    return path;
  }

  /** Applies `decisions` (see {@link applyDecisions}); relabelling to any of {@link classes} is allowed. */
  apply(decisions: Readonly<Record<string, Decision>>): Promise<BatchResult> {
    return this.#exclusive(async () => this.#followed(await applyDecisions(this.root, decisions, { classes: this.#model.spec.classes })));
  }

  /** Reverts the last applied batch (see {@link undoLastBatch}). */
  undo(): Promise<UndoResult> {
    return this.#exclusive(async () => this.#followed(await undoLastBatch(this.root)));
  }

  /**
   * Carries scores along the files a batch moved, rereads the dataset and predicts any file new to it;
   * a patient whose study the model predicted as a whole is predicted again when a slice was deleted from
   * or restored to it (a relabel leaves a prediction as it was: it does not depend on the label).
   */
  async #followed<T extends BatchResult>(result: T): Promise<T> {
    const { files, studies } = this.#scores;
    const removedOrRestored = new Set<string>();
    for (const { action, from, to } of result.changes) {
      const score = from !== undefined && to !== undefined ? files.get(resolveInside(this.root, from)) : undefined;
      if (score) files.set(resolveInside(this.root, to!), score);
      if (action === 'delete' || action === 'restore')
        for (const path of [from, to]) if (path !== undefined) removedOrRestored.add(resolveInside(this.root, path));
    }
    const dataset = await datasetFromPath(this.#target.manifest ?? this.root);
    const touched = new Set(
      [...this.#dataset.samples, ...dataset.samples].filter((s) => removedOrRestored.has(s.path) && s.patientId !== undefined).map((s) => s.patientId),
    );
    // A study the model predicted as a whole changes with its files; a file's own score does not. A patient
    // whose every file was deleted keeps its (unlisted) study, so that restoring one predicts it again.
    const rescored = dataset.samples.filter((s) => !files.has(s.path) || (touched.has(s.patientId) && studies.has(s.patientId!)));
    if (rescored.length) {
      const fresh = await this.#model.score(rescored);
      for (const [path, score] of fresh.files) files.set(path, { ...score, side: files.get(path)?.side });
      for (const [patient, study] of fresh.studies) studies.set(patient, study);
    }
    this.#dataset = dataset;
    return result;
  }

  #exclusive<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(task, task);
    this.#queue = run.catch(() => undefined);
    return run;
  }
}
