/**
 * Study-level training runs, exported as one model file (the body, frozen or with its last stages
 * fine-tuned, and the study head: attention-MIL or linear). `studyTrainRun` is `findstroke train
 * --recipe study|study-linear|study-finetune`: a seeded patient split, the model fitted on the training
 * patients' studies and measured on the held-out ones (study and slice figures), triage thresholds
 * chosen on those studies, and the run folder. `trainStudyModel` fits on every patient (the
 * benchmark's final model).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Tensor } from '../torch/index.js';
import { datasetFromPath } from '../data/sources/index.js';
import { groupSplit } from '../data/split.js';
import { fastaiValidationSize } from '../data/transforms/resize.js';
import type { Dataset } from '../data/types.js';
import { bagPredictionSets, predictBag, studyBags, type MilData } from '../learn/mil.js';
import { LinearMeanHead } from '../models/linear-mean-head.js';
import { evaluate, formatEvaluation, withPatientLevel, type Evaluation } from '../learn/evaluation.js';
import { loadedModel, saveStudyModel, type StudyModelSpec } from '../learn/model-file.js';
import { describePretrained } from '../models/create.js';
import { StudyClassifier } from '../models/study-classifier.js';
import { STUDY_MODEL_PATIENT_SCORE } from '../learn/metrics.js';
import { summarize } from '../data/summary.js';
import type { EpochResult } from '../learn/callback.js';
import { embeddingBody, inputWindows, sliceEncoder, studyInput } from './study-embeddings.js';
import { embedWithLog, fitStudyHead, type StudyRecipe } from './recipes/study.js';
import { trainingCallbacks } from './recipes/recipe.js';
import { writeRunFolder } from './run-folder.js';

/** A study model fitted on some of a dataset's studies, with what predicts from the dataset's instances and its epochs. */
interface FittedStudyModel {
  model: StudyClassifier;
  data: MilData;
  studies: number;
  history: EpochResult[];
}

/** Fits the recipe's model (a fresh pretrained body, its head on the instances) to the studies of `rows`. */
async function fitStudyModel(
  dataset: Dataset,
  rows: readonly number[],
  instances: Tensor,
  recipe: StudyRecipe,
  seed: number,
  historyCsv?: string,
): Promise<FittedStudyModel> {
  const input = studyInput(recipe);
  const bags = studyBags(dataset, rows);
  const body = await embeddingBody(input, dataset.classes.length);
  body.head.dispose();
  const data = { instances, encoder: sliceEncoder(body, input) };
  const history: EpochResult[] = [];
  const callbacks = [...trainingCallbacks({ historyCsv }), { afterEpoch: (_: unknown, epoch: EpochResult) => void history.push(epoch) }];
  const head = await fitStudyHead(data, bags, dataset.classes.length, { ...recipe, seed, callbacks });
  const { variant, normalization } = body.spec;
  const { arch, stages, pooling, stretchedViews } = input;
  const kind = head instanceof LinearMeanHead ? { linear: head.spec } : { mil: head.spec };
  const model = new StudyClassifier(
    { arch, variant, normalization, stages, pooling, stretchedViews, ...kind },
    { normalize: body.normalize, body: body.body, head },
  );
  return { model, data, studies: bags.length, history };
}

/** Writes `model` to `path` with the recipe's input preprocessing; returns the saved spec. */
function exportStudyModel(
  path: string,
  model: StudyClassifier,
  dataset: Dataset,
  recipe: StudyRecipe,
  extra: Pick<StudyModelSpec, 'thresholds' | 'provenance'>,
): StudyModelSpec {
  const input = studyInput(recipe);
  const prepared = {
    size: input.size,
    resize: fastaiValidationSize(input.size),
    windows: inputWindows(input, dataset),
    ...(input.maskOutsideHead ? { maskOutsideHead: true } : {}),
  };
  return saveStudyModel(path, model, { classes: dataset.classes, input: prepared, ...extra });
}

/** The recipe as the model file's provenance records it: no windows (the input spec has them), the weights described. */
function recipeRecord(recipe: StudyRecipe) {
  const { pretrained, arch } = studyInput(recipe);
  return { ...recipe, windows: undefined, pretrained: describePretrained(pretrained, arch) };
}

export interface StudyTrainOptions {
  dataset: Dataset;
  out: string;
  recipe: StudyRecipe;
  seed?: number;
  /** Every sample already through the recipe's frozen layers (`embedDataset`). */
  embeddings?: Tensor;
  log?: (line: string) => void;
}

/** Fits the study recipe on every patient of the dataset; returns the path of the exported model (`out/model.safetensors`). */
export async function trainStudyModel(o: StudyTrainOptions): Promise<string> {
  const log = o.log ?? ((line: string) => console.log(line));
  const { dataset } = o;
  const { recipe } = o;
  const seed = o.seed ?? 42;
  const rows = dataset.samples.map((_, i) => i);
  studyBags(dataset, rows); // refuses slices without a patient id before the long embedding pass
  const instances = o.embeddings ?? (await embedWithLog(dataset, recipe, log));
  const { model, studies } = await fitStudyModel(dataset, rows, instances, recipe, seed);
  if (!o.embeddings) instances.dispose();
  mkdirSync(o.out, { recursive: true });
  const path = join(o.out, 'model.safetensors');
  exportStudyModel(path, model, dataset, recipe, {
    provenance: { data: dataset.source, studies, slices: dataset.samples.length, seed, recipe: recipeRecord(recipe) },
  });
  model.dispose();
  log(`study model trained on ${studies} studies (${dataset.samples.length} slices): ${path}`);
  return path;
}

export interface StudyTrainRunOptions {
  /** A dataset folder (class folders or manifest.csv) or manifest CSV, or an already loaded dataset. */
  data: string | Dataset;
  out: string;
  recipe: StudyRecipe;
  /** Share of the patients held out for validation (default 0.2). */
  validPct?: number;
  seed?: number;
  /** Sensitivity the study-level triage thresholds aim for on the validation studies (default 0.9). */
  targetSensitivity?: number;
  log?: (line: string) => void;
}

export interface StudyTrainRunResult {
  modelPath: string;
  evaluation: Evaluation;
}

/** `findstroke train --recipe study`: split by patient, fit, measure on the held-out studies, export. */
export async function studyTrainRun(o: StudyTrainRunOptions): Promise<StudyTrainRunResult> {
  const log = o.log ?? ((line: string) => console.log(line));
  const { validPct = 0.2, seed = 42, targetSensitivity = 0.9 } = o;
  const { recipe } = o;
  const started = performance.now();
  const dataset = typeof o.data === 'string' ? await datasetFromPath(o.data) : o.data;
  studyBags(
    dataset,
    dataset.samples.map((_, i) => i),
  ); // every slice needs its patient, before any work
  const split = groupSplit(dataset.samples, { validPct, seed, stratify: true });
  const valid = studyBags(dataset, split.valid);
  log(
    `data: ${dataset.source}: ${dataset.samples.length} slices of ${new Set(dataset.samples.map((s) => s.patientId)).size} patients, classes ${dataset.classes.join(', ')}`,
  );
  log(`split by patient (seed ${seed}): ${split.train.length} training / ${split.valid.length} validation slices, ${valid.length} validation patients`);

  const instances = await embedWithLog(dataset, recipe, log);
  mkdirSync(o.out, { recursive: true });
  const { model, data, studies, history } = await fitStudyModel(dataset, split.train, instances, recipe, seed, join(o.out, 'history.csv'));
  const { slices, studies: studyPreds } = bagPredictionSets(
    valid,
    valid.map((bag) => predictBag(model.head, data, bag)),
    dataset.classes.length,
  );
  instances.dispose();
  const evaluation = withPatientLevel(evaluate(slices, dataset.classes), studyPreds);
  const seconds = (performance.now() - started) / 1000;
  const measuredOn = `the validation split: ${valid.length} held-out patients (${split.valid.length} slices; patient-level split, seed ${seed})`;
  log('');
  log(formatEvaluation(evaluation, measuredOn));

  // Triage flags studies, so its operating points are chosen on study predictions.
  const validFiles = valid.flatMap((bag) => bag.rows.map((r) => dataset.samples[r]));
  const input = studyInput(recipe);
  const modelPath = await writeRunFolder({
    out: o.out,
    dataset,
    summary: await summarize(dataset),
    split: { by: 'patient', seed, validPct, trainImages: split.train.length, valid: split.valid, validPatients: split.validGroups },
    evaluation,
    measuredOn,
    seconds,
    history,
    thresholdsOn: { predictions: studyPreds, chosenOn: `the ${valid.length} validation studies` },
    targetSensitivity,
    // The held-out slices through each one's own score, with Grad-CAM; the patients by the study model's prediction.
    validation: {
      files: validFiles,
      probs: slices.probs,
      patientScores: { patients: valid.map((bag) => bag.id), probs: studyPreds.probs, how: STUDY_MODEL_PATIENT_SCORE },
    },
    provenance: { data: { source: dataset.source, slices: dataset.samples.length }, training: { recipe: recipeRecord(recipe), studies, seconds } },
    save: (path, fields) => loadedModel(exportStudyModel(path, model, dataset, recipe, fields), model),
    logAs: { model: 'study model', seconds: 's' },
    report: {
      title: `findstroke training run: study-level ${input.arch} on ${dataset.source}`,
      trainingNote: `Every slice embedded once by the frozen ${input.arch} at ${input.size} px; the ${recipe.head === 'linear' ? 'linear' : 'attention-MIL'} study head fitted on ${studies} training studies (no per-epoch validation). The top losses and Grad-CAM maps below are slices, scored on their own by the study head against their study's label.`,
    },
    log,
  });
  model.dispose();
  return { modelPath, evaluation };
}
