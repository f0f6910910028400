/**
 * The study-level recipe under patient-grouped cross-validation: every slice embedded once by a frozen
 * ImageNet body (it sees no labels, so one embedding serves every fold), then per fold an attention-MIL
 * model trained on the training patients' studies and scored on the held-out ones. Patient AUC is the
 * study head's; slice AUC is each slice's own score from the same model (labels are per patient).
 */
import { macroAuc, type Predictions } from '../learn/metrics.js';
import { evaluate } from '../learn/evaluation.js';
import { bagsOf, fitAttentionMil, predictBag, type Bag, type BagPrediction, type MilFitOptions } from '../learn/mil.js';
import type { Embeddings } from '../learn/embeddings.js';
import type { Dataset } from '../data/types.js';
import { embedDataset, studyInput, type StudyInput } from './study-embeddings.js';
import { OutOfFold, finishCrossval, foldResult, patientFolds, type CrossvalResult, type FoldResult } from './crossval.js';

export interface StudyRecipe extends MilFitOptions, StudyInput {
  /** Models per fold, each from its own seed, their probabilities averaged (default 1). */
  ensemble?: number;
}

/**
 * The study-level recipe chosen by cross-validation on brain-stroke-ct (see the README's table): the
 * ImageNet ResNet-50's last stage at 256 px, a random 40% of each study's slices per training pass.
 */
export const DEFAULT_STUDY_RECIPE: StudyRecipe = { arch: 'resnet50', size: 256, stages: [4], keepSlices: 0.4 };

export interface StudyCrossvalOptions {
  data: string | Dataset;
  out: string;
  folds?: number;
  seed?: number;
  recipe?: StudyRecipe;
  /** Embeddings of every sample already computed with the recipe's body (skips that step). */
  embeddings?: Embeddings;
  log?: (line: string) => void;
}

export interface StudyCrossvalResult extends CrossvalResult {
  /** Seconds spent embedding every slice (once, shared by the folds). */
  embeddingSeconds: number;
}

export async function studyCrossval(o: StudyCrossvalOptions): Promise<StudyCrossvalResult> {
  const log = o.log ?? ((line: string) => console.log(line));
  const seed = o.seed ?? 42;
  const recipe = o.recipe ?? DEFAULT_STUDY_RECIPE;
  const started = performance.now();
  const { dataset, splits } = await patientFolds(o.data, o.folds ?? 5, seed, o.out, log);
  const embeddingStarted = performance.now();
  const embeddings = o.embeddings ?? (await embedWithLog(dataset, recipe, log));
  const embeddingSeconds = (performance.now() - embeddingStarted) / 1000;
  const classes = dataset.classes;
  const oof = new OutOfFold(classes, ['attention', ...classes.map((c) => `study_prob_${c}`)]);
  const results: FoldResult[] = [];
  for (const [fold, split] of splits.entries()) {
    const foldStarted = performance.now();
    const train = studyBags(dataset, embeddings, split.train);
    const valid = studyBags(dataset, embeddings, split.valid);
    const predictions = predictEnsemble(train, valid, classes.length, { ...recipe, seed: seed + fold });
    const slices: Predictions = { probs: Float32Array.from(predictions.flatMap((p) => [...p.slices])), targets: Int32Array.from(valid.flatMap((b) => new Array<number>(b.slices).fill(b.label))), classes: classes.length };
    const studies: Predictions = { probs: Float32Array.from(predictions.flatMap((p) => [...p.study])), targets: Int32Array.from(valid.map((b) => b.label)), classes: classes.length };
    const fitSeconds = (performance.now() - foldStarted) / 1000;
    // A fold run on its own would embed all of its slices first: count that in its time.
    results.push(foldResult(fold, split, evaluate(slices, classes), macroAuc(studies), embeddingSeconds + fitSeconds));
    valid.forEach((bag, b) =>
      bag.rows.forEach((row, k) => {
        const p = predictions[b];
        oof.add(dataset.samples[row], fold, p.slices.subarray(k * classes.length, (k + 1) * classes.length), [p.attention[k].toFixed(6), ...Array.from(p.study, (v) => v.toFixed(6))]);
      }),
    );
    log(`fold ${fold + 1}/${splits.length}: ${train.length} training / ${valid.length} validation studies, study AUC ${macroAuc(studies).toFixed(3)}, slice AUC ${results[fold].sliceAuc.toFixed(3)} (${fitSeconds.toFixed(1)} s)`);
  }
  if (!o.embeddings) log(`\nembedding every slice once: ${embeddingSeconds.toFixed(0)} s (counted in each fold's time)`);
  return finishCrossval(o.out, classes, results, oof, started, log, { embeddingSeconds });
}

/** A study bag per patient of `rows` (slices in slice order), remembering which dataset rows it holds. */
export function studyBags(dataset: Dataset, embeddings: Embeddings, rows: readonly number[]): (Bag & { rows: number[] })[] {
  const ordered = [...rows].sort((a, b) => {
    const [x, y] = [dataset.samples[a], dataset.samples[b]];
    return x.patientId! < y.patientId! ? -1 : x.patientId! > y.patientId! ? 1 : (x.sliceIndex ?? a) - (y.sliceIndex ?? b);
  });
  const classIndex = new Map(dataset.classes.map((c, i) => [c, i]));
  return bagsOf(embeddings.features, embeddings.dim, ordered, (r) => dataset.samples[r].patientId!, (r) => classIndex.get(dataset.samples[r].label)!);
}

/** Trains `ensemble` models on `train` (seeds seed, seed + 1000, ...) and averages their predictions for `valid`. */
function predictEnsemble(train: Bag[], valid: Bag[], classes: number, recipe: StudyRecipe & { seed: number }): BagPrediction[] {
  const members = recipe.ensemble ?? 1;
  const sums = valid.map((b) => ({ study: new Float32Array(classes), slices: new Float32Array(b.slices * classes), attention: new Float32Array(b.slices) }));
  for (let m = 0; m < members; m++) {
    const model = fitAttentionMil(train, classes, { ...recipe, seed: recipe.seed + 1000 * m });
    valid.forEach((bag, i) => {
      const p = predictBag(model, bag);
      for (const key of ['study', 'slices', 'attention'] as const) p[key].forEach((v, k) => (sums[i][key][k] += v / members));
    });
    model.dispose();
  }
  return sums;
}

/** Embeds every slice of `dataset` as the recipe says, logging progress by tenths. */
export async function embedWithLog(dataset: Dataset, recipe: StudyInput, log: (line: string) => void): Promise<Embeddings> {
  const { arch, size, stages } = studyInput(recipe);
  log(`embedding ${dataset.samples.length} slices with a frozen ${arch} at ${size} px (stages ${stages.join(', ')}, average and max pooled)`);
  let reported = 0;
  return embedDataset(dataset, recipe, (done, total) => {
    if (done - reported >= total / 10 || done === total) {
      reported = done;
      log(`  ${done}/${total}`);
    }
  });
}
