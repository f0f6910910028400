/**
 * Patient-grouped k-fold cross-validation: every patient is validated exactly once, by a model that
 * never saw any of their slices. Per fold and as mean +/- sd: slice ROC AUC, patient ROC AUC, accuracy,
 * sensitivity and specificity; out-of-fold predictions as CSV; every fold's patient list recorded.
 * This, not one small validation split, is the number to choose a recipe by.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { manualSeed } from '../torch/index.js';
import { datasetFromPath } from '../data/sources/index.js';
import { kFoldGroups } from '../data/split.js';
import { imageDataLoaders, type ImageDataOptions } from '../data/dataloaders.js';
import type { Dataset } from '../data/types.js';
import { fitOnSplit, type FitOptions } from './fit.js';

export interface CrossvalOptions extends ImageDataOptions, Partial<FitOptions> {
  data: string | Dataset;
  out: string;
  folds?: number;
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
}

export function meanSd(values: number[]): MeanSd {
  const v = values.filter((x) => !Number.isNaN(x));
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  const sd = v.length > 1 ? Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / (v.length - 1)) : 0;
  return { mean, sd };
}

const csvField = (v: string) => (/[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);

export async function crossval(o: CrossvalOptions): Promise<CrossvalResult> {
  const log = o.log ?? ((line: string) => console.log(line));
  const { folds: k = 5, seed = 42, arch = 'resnet50', pretrained = 'imagenet', epochs = 3, freezeEpochs = 1, lr = 2e-3 } = o;
  mkdirSync(o.out, { recursive: true });
  const dataset = typeof o.data === 'string' ? await datasetFromPath(o.data) : o.data;
  const missing = dataset.samples.filter((s) => s.patientId === undefined);
  if (missing.length) throw new Error(`${dataset.source}: ${missing.length} images have no patient id (first: ${missing[0].path}); cross-validation groups by patient`);
  const splits = kFoldGroups(dataset.samples, k, seed, { stratify: true });
  log(`cross-validation: ${k} folds by patient (stratified by class, seed ${seed}) over ${new Set(dataset.samples.map((s) => s.patientId)).size} patients, ${dataset.samples.length} images`);

  const oof = [`path,patient_id,label,fold,${dataset.classes.map((c) => `prob_${c}`).join(',')}`];
  const results: FoldResult[] = [];
  const started = performance.now();
  for (const [fold, split] of splits.entries()) {
    log(`\n== fold ${fold + 1}/${k}: validation patients ${split.validGroups.join(' ')} ==`);
    manualSeed(seed + fold);
    const dls = imageDataLoaders(dataset, { ...o, seed: seed + fold, split });
    const fit = await fitOnSplit(dataset, dls, { arch, pretrained, epochs, freezeEpochs, lr, bf16: o.bf16, balanceLoss: o.balanceLoss, saveBest: o.saveBest }, log, join(o.out, `fold${fold + 1}-history.csv`));
    const e = fit.evaluation;
    results.push({
      fold: fold + 1,
      validPatients: split.validGroups,
      trainImages: split.train.length,
      validImages: split.valid.length,
      sliceAuc: e.auc,
      patientAuc: e.patientAuc ?? NaN,
      accuracy: e.accuracy,
      sensitivity: Object.fromEntries(e.classes.map((c) => [c, e.perClass[c].recall])),
      specificity: Object.fromEntries(e.classes.map((c) => [c, e.perClass[c].specificity])),
      seconds: fit.seconds,
    });
    fit.preds.items.forEach((item, row) => {
      const sample = dataset.samples[split.valid[item]];
      const probs = Array.from(fit.preds.probs.subarray(row * dataset.classes.length, (row + 1) * dataset.classes.length), (p) => p.toFixed(6));
      oof.push([csvField(sample.path), csvField(sample.patientId!), csvField(sample.label), String(fold + 1), ...probs].join(','));
    });
    fit.model.dispose();
    fit.learner.resetOptimizer();
  }

  const oofPath = join(o.out, 'oof.csv');
  writeFileSync(oofPath, oof.join('\n') + '\n');
  const result: CrossvalResult = {
    classes: dataset.classes,
    folds: results,
    sliceAuc: meanSd(results.map((r) => r.sliceAuc)),
    patientAuc: meanSd(results.map((r) => r.patientAuc)),
    accuracy: meanSd(results.map((r) => r.accuracy)),
    seconds: (performance.now() - started) / 1000,
    oofPath,
  };
  writeFileSync(join(o.out, 'crossval.json'), JSON.stringify(result, null, 2) + '\n');
  log(`\n${formatCrossval(result)}`);
  return result;
}

export function formatCrossval(r: CrossvalResult): string {
  const f = (v: number) => (Number.isNaN(v) ? ' n/a ' : v.toFixed(3));
  const lines = [`measured by ${r.folds.length}-fold patient-grouped cross-validation (each patient validated once, by a model that never saw them)`, 'fold  patients  images  slice AUC  patient AUC  accuracy  minutes'];
  for (const fold of r.folds) lines.push(`${String(fold.fold).padStart(4)}  ${String(fold.validPatients.length).padStart(8)}  ${String(fold.validImages).padStart(6)}  ${f(fold.sliceAuc).padStart(9)}  ${f(fold.patientAuc).padStart(11)}  ${f(fold.accuracy).padStart(8)}  ${(fold.seconds / 60).toFixed(1).padStart(7)}`);
  lines.push(`mean +/- sd      slice AUC ${f(r.sliceAuc.mean)} +/- ${f(r.sliceAuc.sd)}, patient AUC ${f(r.patientAuc.mean)} +/- ${f(r.patientAuc.sd)}, accuracy ${f(r.accuracy.mean)} +/- ${f(r.accuracy.sd)}`);
  lines.push(`out-of-fold predictions: ${r.oofPath}`);
  return lines.join('\n');
}
