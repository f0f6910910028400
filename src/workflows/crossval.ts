/**
 * Patient-grouped k-fold cross-validation: every patient is validated exactly once, by a model that
 * never saw any of their slices. Per fold and as mean +/- sd: slice ROC AUC, patient ROC AUC, accuracy,
 * sensitivity and specificity; out-of-fold predictions as CSV (slices, and patients by loss: where
 * labels are per patient, the patients that a model which never saw them gets most wrong are the first
 * to check for a wrong label); every fold's patient list recorded. This, not one small validation split, is the
 * number to choose a recipe by. One path for every recipe: the recipe trains each fold ({@link FoldTrainer}).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { datasetFromPath } from '../data/sources/index.js';
import { kFoldGroups, type GroupSplit } from '../data/split.js';
import type { Dataset, Sample } from '../data/types.js';
import type { Evaluation } from '../learn/evaluation.js';
import { labelLoss, mostProbable } from '../learn/metrics.js';
import { csvRow } from '../util/csv.js';
import type { FoldTrainer, Recipe } from './recipes/recipe.js';

export interface CrossvalOptions<Options> {
  data: string | Dataset;
  out: string;
  /** The recipe's own options (see {@link Recipe.options}). */
  options: Options;
  folds?: number;
  /** Seed of the folds; fold k (from 0) trains with seed + k. */
  seed?: number;
  /** The recipe already prepared for this dataset (e.g. for every partition of a repeated run); prepared here otherwise. */
  trainer?: FoldTrainer;
  log?: (line: string) => void;
}

export interface FoldResult {
  fold: number;
  validPatients: string[];
  trainImages: number;
  validImages: number;
  sliceAuc: number;
  patientAuc: number;
  accuracy: number;
  /** Per class, one-vs-rest at the argmax decision. */
  sensitivity: Record<string, number>;
  specificity: Record<string, number>;
  seconds: number;
}

export interface MeanSd {
  mean: number;
  sd: number;
}

export interface CrossvalResult {
  classes: string[];
  folds: FoldResult[];
  sliceAuc: MeanSd;
  patientAuc: MeanSd;
  accuracy: MeanSd;
  seconds: number;
  oofPath: string;
  /** Out-of-fold patient predictions, highest loss first (also in `patients`). */
  oofPatientsPath: string;
  patients: PatientOutOfFold[];
}

export function meanSd(values: number[]): MeanSd {
  const v = values.filter((x) => !Number.isNaN(x));
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  const sd = v.length > 1 ? Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / (v.length - 1)) : 0;
  return { mean, sd };
}

/** Cross-validates `recipe` on the patients of `o.data`: every fold a fresh model, every patient validated once. */
export async function crossval<Options>(recipe: Recipe<Options>, o: CrossvalOptions<Options>): Promise<CrossvalResult & Record<string, number>> {
  const log = o.log ?? ((line: string) => console.log(line));
  const seed = o.seed ?? 42;
  const started = performance.now();
  const { dataset, splits } = await patientFolds(o.data, o.folds ?? 5, seed, o.out, log);
  const trainer = o.trainer ?? (await recipe.prepare(dataset, o.options, log));
  const oof = new OutOfFold(dataset.classes, trainer.oofColumns);
  const results: FoldResult[] = [];
  try {
    for (const [fold, split] of splits.entries()) {
      const outcome = await trainer.fold(split, fold, splits.length, seed + fold, join(o.out, `fold${fold + 1}-history.csv`));
      results.push(foldResult(fold, split, outcome.slices, outcome.patientAuc, outcome.seconds));
      outcome.rows.forEach(({ row, probs, extra }) => oof.add(dataset.samples[row], fold, probs, extra));
      outcome.patients.forEach(({ id, label, probs }) => oof.addPatient(id, label, fold, probs));
    }
  } finally {
    if (!o.trainer) trainer.dispose();
  }
  if (!o.trainer && trainer.sharedWork) log(`\n${trainer.sharedWork.what}: ${trainer.sharedWork.seconds.toFixed(0)} s (counted in each fold's time)`);
  return finishCrossval(o.out, dataset.classes, results, oof, started, log, trainer.summary);
}

/** The dataset (every sample with a patient id) and its k patient-grouped folds, stratified by class. */
export async function patientFolds(
  data: string | Dataset,
  k: number,
  seed: number,
  out: string,
  log: (line: string) => void,
): Promise<{ dataset: Dataset; splits: GroupSplit[] }> {
  mkdirSync(out, { recursive: true });
  const dataset = typeof data === 'string' ? await datasetFromPath(data) : data;
  const missing = dataset.samples.filter((s) => s.patientId === undefined);
  if (missing.length)
    throw new Error(`${dataset.source}: ${missing.length} images have no patient id (first: ${missing[0].path}); cross-validation groups by patient`);
  const splits = kFoldGroups(dataset.samples, k, seed, { stratify: true });
  log(
    `cross-validation: ${k} folds by patient (stratified by class, seed ${seed}) over ${new Set(dataset.samples.map((s) => s.patientId)).size} patients, ${dataset.samples.length} images`,
  );
  return { dataset, splits };
}

/** One fold's figures: slice-level from `slices`, the patient AUC as measured by the recipe. */
export function foldResult(fold: number, split: GroupSplit, slices: Evaluation, patientAuc: number, seconds: number): FoldResult {
  return {
    fold: fold + 1,
    validPatients: split.validGroups,
    trainImages: split.train.length,
    validImages: split.valid.length,
    sliceAuc: slices.auc,
    patientAuc,
    accuracy: slices.accuracy,
    sensitivity: Object.fromEntries(slices.classes.map((c) => [c, slices.perClass[c].recall])),
    specificity: Object.fromEntries(slices.classes.map((c) => [c, slices.perClass[c].specificity])),
    seconds,
  };
}

/** A patient's out-of-fold prediction. */
export interface PatientOutOfFold {
  patient: string;
  label: string;
  /** The fold that validated it (from 1); over repeated partitions, the fold of each partition. */
  folds: number[];
  /** Per class, as the recipe scores a patient (a study model's own prediction, or the top slices' mean). */
  probabilities: Record<string, number>;
  /** Cross-entropy of the label. */
  loss: number;
}

/** Out-of-fold predictions: one CSV row per validated image, and one per validated patient. */
export class OutOfFold {
  readonly #rows: string[];
  readonly #patients: PatientOutOfFold[] = [];

  constructor(
    readonly classes: string[],
    extraColumns: string[] = [],
  ) {
    this.#rows = [csvRow(['path', 'patient_id', 'label', 'fold', ...classes.map((c) => `prob_${c}`), ...extraColumns])];
  }

  /** A validated patient's prediction, as the recipe scores a patient. */
  addPatient(patient: string, label: string, fold: number, probs: ArrayLike<number>): void {
    const probabilities = Object.fromEntries(this.classes.map((c, i) => [c, probs[i]]));
    this.#patients.push({ patient, label, folds: [fold + 1], probabilities, loss: labelLoss(probabilities[label]) });
  }

  /** The validated patients, highest loss first. */
  patientsByLoss(): PatientOutOfFold[] {
    return [...this.#patients].sort((a, b) => b.loss - a.loss);
  }

  add(sample: Sample, fold: number, probs: ArrayLike<number>, extra: (string | number)[] = []): void {
    const values = Array.from(probs, (p) => p.toFixed(6));
    this.#rows.push(csvRow([sample.path, sample.patientId!, sample.label, String(fold + 1), ...values, ...extra.map(String)]));
  }

  write(path: string): void {
    writeFileSync(path, this.#rows.join('\n') + '\n');
  }
}

const predictedClass = (p: PatientOutOfFold) => mostProbable(p.probabilities)[0];

/** Writes `patients` as CSV, in the order given (a patient's folds space-separated). */
export function writePatientsCsv(path: string, classes: readonly string[], patients: readonly PatientOutOfFold[]): void {
  const header = ['patient_id', 'label', 'fold', 'loss', 'predicted', ...classes.map((c) => `prob_${c}`)];
  const rows = patients.map((p) => [
    p.patient,
    p.label,
    p.folds.join(' '),
    p.loss.toFixed(6),
    predictedClass(p),
    ...classes.map((c) => p.probabilities[c].toFixed(6)),
  ]);
  writeFileSync(path, [header, ...rows].map(csvRow).join('\n') + '\n');
}

/** Patients logged after the table: the highest out-of-fold losses. */
const WORST_PATIENTS_LOGGED = 5;

/** The log line naming the first of `patients` (highest loss first; a patient of several partitions by its mean). */
export function worstPatientsOutOfFold(patients: readonly PatientOutOfFold[]): string {
  const worst = patients.slice(0, WORST_PATIENTS_LOGGED).map((p) => {
    const probability = p.probabilities[predictedClass(p)].toFixed(2);
    return `${p.patient}: ${p.label} -> ${predictedClass(p)} (${p.folds.length > 1 ? `mean p ${probability} over ${p.folds.length} partitions` : `p ${probability}, fold ${p.folds[0]}`})`;
  });
  return `patients with the highest out-of-fold loss (check these first for a wrong label): ${worst.join(', ')}`;
}

/** Writes oof.csv, oof-patients.csv and crossval.json (the summary and `extra`) under `out`, logs the table, and returns them. */
export function finishCrossval<Extra extends object>(
  out: string,
  classes: string[],
  folds: FoldResult[],
  oof: OutOfFold,
  started: number,
  log: (line: string) => void,
  extra = {} as Extra,
): CrossvalResult & Extra {
  const oofPath = join(out, 'oof.csv');
  oof.write(oofPath);
  const oofPatientsPath = join(out, 'oof-patients.csv');
  const patients = oof.patientsByLoss();
  writePatientsCsv(oofPatientsPath, classes, patients);
  const result: CrossvalResult & Extra = {
    ...extra,
    classes,
    folds,
    sliceAuc: meanSd(folds.map((r) => r.sliceAuc)),
    patientAuc: meanSd(folds.map((r) => r.patientAuc)),
    accuracy: meanSd(folds.map((r) => r.accuracy)),
    seconds: (performance.now() - started) / 1000,
    oofPath,
    oofPatientsPath,
    patients,
  };
  writeFileSync(join(out, 'crossval.json'), JSON.stringify(result, null, 2) + '\n');
  log(`\n${formatCrossval(result)}`);
  log(worstPatientsOutOfFold(patients));
  return result;
}

export function formatCrossval(r: CrossvalResult): string {
  const f = (v: number) => (Number.isNaN(v) ? ' n/a ' : v.toFixed(3));
  const lines = [
    `measured by ${r.folds.length}-fold patient-grouped cross-validation (each patient validated once, by a model that never saw them)`,
    'fold  patients  images  slice AUC  patient AUC  accuracy  minutes',
  ];
  for (const fold of r.folds)
    lines.push(
      `${String(fold.fold).padStart(4)}  ${String(fold.validPatients.length).padStart(8)}  ${String(fold.validImages).padStart(6)}  ${f(fold.sliceAuc).padStart(9)}  ${f(fold.patientAuc).padStart(11)}  ${f(fold.accuracy).padStart(8)}  ${(fold.seconds / 60).toFixed(1).padStart(7)}`,
    );
  lines.push(
    `mean +/- sd      slice AUC ${f(r.sliceAuc.mean)} +/- ${f(r.sliceAuc.sd)}, patient AUC ${f(r.patientAuc.mean)} +/- ${f(r.patientAuc.sd)}, accuracy ${f(r.accuracy.mean)} +/- ${f(r.accuracy.sd)}`,
  );
  lines.push(`out-of-fold predictions: ${r.oofPath} (slices), ${r.oofPatientsPath} (patients, highest loss first)`);
  return lines.join('\n');
}
