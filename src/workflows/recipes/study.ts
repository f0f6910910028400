/**
 * What the study recipes (attention MIL, study fine-tune, linear study) share: every slice run once
 * through the frozen part of an ImageNet body (it sees no labels, so one pass serves every fold and every
 * partition), then per fold a study head (with the body's last stages, if the recipe trains them,
 * restarted from the pretrained weights) trained through the {@link Learner} on the training patients'
 * studies and scored on the held-out ones. Patient AUC is the study head's; slice AUC is each slice's own
 * score from the same model (labels are per patient).
 */
import { macroAuc } from '../../learn/metrics.js';
import { evaluate } from '../../learn/evaluation.js';
import {
  bagPredictionSets,
  fitAttentionMil,
  predictBag,
  studyBags,
  type BagPrediction,
  type MilData,
  type MilFitOptions,
  type StudyBag,
} from '../../learn/mil.js';
import { fitLinearMeanHead, type LinearProbeOptions } from '../../learn/linear-probe.js';
import type { Callback } from '../../learn/callback.js';
import type { StudyHead } from '../../models/study-classifier.js';
import type { Tensor } from '../../torch/index.js';
import type { Dataset } from '../../data/types.js';
import { embedDataset, embeddingBody, sliceEncoder, studyInput, type StudyInput } from '../study-embeddings.js';
import { trainingCallbacks, type FoldTrainer, type TrainingOption, type TrainingSettings } from './recipe.js';

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

/** The training options a study recipe takes: its head's passes and learning rate. */
export const STUDY_TAKES: readonly TrainingOption[] = ['epochs', 'lr'];

/**
 * A study recipe's `constants` with the command line's body, weights and masking, and its size, passes
 * (`epochs`: the head's passes over the training studies, or the linear head's full-batch steps) and
 * learning rate where given.
 */
export function studyOptions(constants: StudyRecipe, settings: TrainingSettings): StudyRecipe {
  const { arch, pretrained, maskOutsideHead, given } = settings;
  const passes = constants.head === 'linear' ? { steps: settings.epochs } : { epochs: settings.epochs };
  return {
    ...constants,
    arch,
    pretrained,
    size: given('size') ? settings.size : constants.size,
    maskOutsideHead,
    ...(given('epochs') && passes),
    ...(given('lr') && { lr: settings.lr }),
  };
}

/**
 * Every slice of `dataset` through the recipe's frozen layers (once), and the folds trained on them.
 * With `embeddings` (already through them; their owner disposes of them) that step is skipped.
 */
export async function studyFoldTrainer(dataset: Dataset, recipe: StudyRecipe, log: (line: string) => void, embeddings?: Tensor): Promise<FoldTrainer> {
  const embeddingStarted = performance.now();
  const instances = embeddings ?? (await embedWithLog(dataset, recipe, log));
  const embeddingSeconds = (performance.now() - embeddingStarted) / 1000;
  const classes = dataset.classes;
  return {
    oofColumns: ['attention', ...classes.map((c) => `study_prob_${c}`)],
    sharedWork: { what: 'embedding every slice once', seconds: embeddingSeconds },
    summary: { embeddingSeconds },
    async fold(split, fold, folds, seed, historyCsv) {
      const foldStarted = performance.now();
      const train = studyBags(dataset, split.train);
      const valid = studyBags(dataset, split.valid);
      const predictions = await predictEnsemble(instances, train, valid, classes.length, { ...recipe, seed }, trainingCallbacks({ historyCsv }));
      const { slices, studies } = bagPredictionSets(valid, predictions, classes.length);
      const fitSeconds = (performance.now() - foldStarted) / 1000;
      const evaluation = evaluate(slices, classes);
      log(
        `fold ${fold + 1}/${folds}: ${train.length} training / ${valid.length} validation studies, study AUC ${macroAuc(studies).toFixed(3)}, slice AUC ${evaluation.auc.toFixed(3)} (${fitSeconds.toFixed(1)} s)`,
      );
      return {
        slices: evaluation,
        patientAuc: macroAuc(studies),
        // A fold run on its own would embed all of its slices first: count that in its time.
        seconds: embeddingSeconds + fitSeconds,
        rows: valid.flatMap((bag, b) => {
          const p = predictions[b];
          return bag.rows.map((row, k) => ({
            row,
            probs: p.slices.subarray(k * classes.length, (k + 1) * classes.length),
            extra: [p.attention[k].toFixed(6), ...Array.from(p.study, (v) => v.toFixed(6))],
          }));
        }),
        patients: valid.map((bag, b) => ({ id: bag.id, label: classes[bag.label], probs: predictions[b].study })),
      };
    },
    dispose: () => {
      if (!embeddings) instances.dispose();
    },
  };
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
  callbacks: Callback[],
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
    const model = await fitStudyHead(data, train, classes, { ...recipe, seed: recipe.seed + 1000 * m, callbacks });
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
