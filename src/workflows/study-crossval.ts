/**
 * The study-level recipe under patient-grouped cross-validation: every slice run once through the frozen
 * part of an ImageNet body (it sees no labels, so one pass serves every fold), then per fold an
 * attention-MIL model (with the body's last stages, if the recipe trains them, restarted from the
 * pretrained weights) trained on the training patients' studies and scored on the held-out ones. Patient
 * AUC is the study head's; slice AUC is each slice's own score from the same model (labels are per patient).
 */
import { macroAuc } from '../learn/metrics.js';
import { evaluate } from '../learn/evaluation.js';
import { bagPredictionSets, predictBag, studyBags, type BagPrediction, type MilData, type StudyBag } from '../learn/mil.js';
import { fitLinearMeanHead, type LinearProbeOptions } from '../learn/linear-probe.js';
import { fitAttentionMil, type MilFitOptions } from '../learn/mil.js';
import type { StudyHead } from '../models/study-classifier.js';
import type { Tensor } from '../torch/index.js';
import type { Dataset } from '../data/types.js';
import { embedDataset, embeddingBody, sliceEncoder, studyInput, type StudyInput } from './study-embeddings.js';
import { OutOfFold, finishCrossval, foldResult, patientFolds, type CrossvalResult, type FoldResult } from './crossval.js';

export interface StudyRecipe extends MilFitOptions, LinearProbeOptions, StudyInput {
  /** The study head: attention-MIL pooling (default), or a linear classifier per slice averaged over the study. */
  head?: 'attention' | 'linear';
  /** Models per fold, each from its own seed, their probabilities averaged (default 1). */
  ensemble?: number;
}

/** Fits the recipe's study head to `bags` (the slices' rows of `data`). */
export function fitStudyHead(data: MilData, bags: readonly StudyBag[], classes: number, recipe: StudyRecipe & { seed: number }): Promise<StudyHead> {
  return recipe.head === 'linear' ? fitLinearMeanHead(data, bags, classes, recipe) : fitAttentionMil(data, bags, classes, recipe);
}

/**
 * The study-level recipe (see docs/recipes.md): the frozen ImageNet ResNet-50's last stage at 256 px,
 * pooled, and a random 40% of each study's slices per training pass. As accurate on brain-stroke-ct's
 * folds as {@link FINE_TUNED_STUDY_RECIPE}, within the spread between seeds, at a tenth of its cost.
 */
export const DEFAULT_STUDY_RECIPE: StudyRecipe = { arch: 'resnet50', size: 256, stages: [4], keepSlices: 0.4 };

/**
 * A stroke window on brain-windowed slices: grey levels 70..180 of 255 stretched to the full range. Of a
 * brain window (width 80, level 40 HU) that is about 22..56 HU: the narrow window radiologists use to
 * see early ischaemic hypodensity. A DICOM slice's brain/subdural/bone channels are each narrowed alike
 * (its brain channel to the same stroke window).
 */
const STROKE_WINDOW_VIEW: readonly [number, number] = [70 / 255, 180 / 255];

/**
 * The linear study recipe: the frozen ImageNet ResNet-50's last stage at 256 px, average-pooled, of the
 * slice and of its stroke-window view (2 x 2,048 numbers per slice), one L2-regularised linear classifier
 * of the slices, a study's probabilities the mean of its slices'. Nothing but the linear layer is
 * fitted, so a fold takes seconds after the embedding pass.
 */
export const LINEAR_STUDY_RECIPE: StudyRecipe = {
  arch: 'resnet50',
  size: 256,
  stages: [4],
  pooling: 'avg',
  stretchedViews: [STROKE_WINDOW_VIEW],
  head: 'linear',
  l2: 0.01,
};

/**
 * The study-level recipe with the body's last stage fine-tuned: ImageNet ResNet-50 at 256 px, its first
 * three stages frozen (their maps computed once), its last stage trained with the attention-MIL head,
 * 4 studies per step and 8 random slices of each, every slice also scored against its study's label.
 */
export const FINE_TUNED_STUDY_RECIPE: StudyRecipe = {
  arch: 'resnet50',
  size: 256,
  stages: [4],
  trainStages: 1,
  epochs: 8,
  bagsPerStep: 4,
  keepSlices: 1,
  maxSlices: 8,
  lr: 1e-3,
  encoderLr: 1e-4,
  weightDecay: 0.01,
  sliceLoss: 0.5,
};

export interface StudyCrossvalOptions {
  data: string | Dataset;
  out: string;
  folds?: number;
  seed?: number;
  recipe?: StudyRecipe;
  /** Every sample already through the recipe's frozen layers ({@link embedDataset}; skips that step). */
  embeddings?: Tensor;
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
  const instances = o.embeddings ?? (await embedWithLog(dataset, recipe, log));
  const embeddingSeconds = (performance.now() - embeddingStarted) / 1000;
  const classes = dataset.classes;
  const oof = new OutOfFold(classes, ['attention', ...classes.map((c) => `study_prob_${c}`)]);
  const results: FoldResult[] = [];
  for (const [fold, split] of splits.entries()) {
    const foldStarted = performance.now();
    const train = studyBags(dataset, split.train);
    const valid = studyBags(dataset, split.valid);
    const predictions = await predictEnsemble(instances, train, valid, classes.length, { ...recipe, seed: seed + fold });
    const { slices, studies } = bagPredictionSets(valid, predictions, classes.length);
    const fitSeconds = (performance.now() - foldStarted) / 1000;
    // A fold run on its own would embed all of its slices first: count that in its time.
    results.push(foldResult(fold, split, evaluate(slices, classes), macroAuc(studies), embeddingSeconds + fitSeconds));
    valid.forEach((bag, b) => {
      const p = predictions[b];
      bag.rows.forEach((row, k) =>
        oof.add(dataset.samples[row], fold, p.slices.subarray(k * classes.length, (k + 1) * classes.length), [
          p.attention[k].toFixed(6),
          ...Array.from(p.study, (v) => v.toFixed(6)),
        ]),
      );
      oof.addPatient(bag.id, classes[bag.label], fold, p.study);
    });
    log(
      `fold ${fold + 1}/${splits.length}: ${train.length} training / ${valid.length} validation studies, study AUC ${macroAuc(studies).toFixed(3)}, slice AUC ${results[fold].sliceAuc.toFixed(3)} (${fitSeconds.toFixed(1)} s)`,
    );
  }
  if (!o.embeddings) {
    instances.dispose();
    log(`\nembedding every slice once: ${embeddingSeconds.toFixed(0)} s (counted in each fold's time)`);
  }
  return finishCrossval(o.out, classes, results, oof, started, log, { embeddingSeconds });
}

/**
 * Trains `ensemble` models on `train` (seeds seed, seed + 1000, ...) and averages their predictions for
 * `valid`. Each member whose recipe fine-tunes stages starts them from the pretrained weights again.
 */
async function predictEnsemble(
  instances: Tensor,
  train: StudyBag[],
  valid: StudyBag[],
  classes: number,
  recipe: StudyRecipe & { seed: number },
): Promise<BagPrediction[]> {
  const members = recipe.ensemble ?? 1;
  const sums = valid.map((b) => ({
    study: new Float32Array(classes),
    slices: new Float32Array(b.rows.length * classes),
    attention: new Float32Array(b.rows.length),
  }));
  for (let m = 0; m < members; m++) {
    const body = recipe.trainStages ? await embeddingBody(recipe, classes) : undefined;
    const data = { instances, encoder: body && sliceEncoder(body, recipe) };
    const model = await fitStudyHead(data, train, classes, { ...recipe, seed: recipe.seed + 1000 * m });
    valid.forEach((bag, i) => {
      const p = predictBag(model, data, bag);
      for (const key of ['study', 'slices', 'attention'] as const) p[key].forEach((v, k) => (sums[i][key][k] += v / members));
    });
    model.dispose();
    body?.dispose();
  }
  return sums;
}

/** Embeds every slice of `dataset` as the recipe says, logging progress by tenths. */
export async function embedWithLog(dataset: Dataset, recipe: StudyInput, log: (line: string) => void): Promise<Tensor> {
  const { arch, size, stages, trainStages, pooling, stretchedViews } = studyInput(recipe);
  const views = stretchedViews.map(([low, high]) => `, and of its view with grey ${Math.round(low * 255)}-${Math.round(high * 255)} stretched`).join('');
  log(
    trainStages
      ? `running ${dataset.samples.length} slices through the frozen stages of ${arch} at ${size} px (${trainStages === 1 ? 'its last stage' : `its last ${trainStages} stages`} will train with the study head)`
      : `embedding ${dataset.samples.length} slices with a frozen ${arch} at ${size} px (stages ${stages.join(', ')}, ${pooling === 'avg' ? 'average' : 'average and max'} pooled${views})`,
  );
  let reported = 0;
  return embedDataset(dataset, recipe, (done, total) => {
    if (done - reported >= total / 10 || done === total) {
      reported = done;
      log(`  ${done}/${total}`);
    }
  });
}
