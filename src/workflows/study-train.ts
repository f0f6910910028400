/**
 * Trains the study-level recipe on every patient of a dataset and exports it as one model file: the
 * body (frozen, or with its last stages fine-tuned) and the attention-MIL head fitted on the studies' labels.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fastaiValidationSize } from '../data/transforms/resize.js';
import type { Dataset } from '../data/types.js';
import type { Tensor } from '../torch/index.js';
import { fitAttentionMil } from '../learn/mil.js';
import { saveStudyModel } from '../learn/study-model-file.js';
import { StudyClassifier } from '../models/study-classifier.js';
import { embeddingBody, sliceEncoder, studyInput } from './study-embeddings.js';
import { DEFAULT_STUDY_RECIPE, embedWithLog, studyBags, type StudyRecipe } from './study-crossval.js';

export interface StudyTrainOptions {
  dataset: Dataset;
  out: string;
  recipe?: StudyRecipe;
  seed?: number;
  /** Every sample already through the recipe's frozen layers (`embedDataset`). */
  embeddings?: Tensor;
  log?: (line: string) => void;
}

/** Returns the path of the exported model (`out/model.safetensors`). */
export async function trainStudyModel(o: StudyTrainOptions): Promise<string> {
  const log = o.log ?? ((line: string) => console.log(line));
  const recipe = o.recipe ?? DEFAULT_STUDY_RECIPE;
  const input = studyInput(recipe);
  const { dataset } = o;
  const missing = dataset.samples.find((s) => s.patientId === undefined);
  if (missing) throw new Error(`${missing.path}: no patient id; the study-level recipe groups slices into studies by patient`);
  const instances = o.embeddings ?? (await embedWithLog(dataset, recipe, log));
  const bags = studyBags(dataset, dataset.samples.map((_, i) => i));
  const body = await embeddingBody(input, dataset.classes.length);
  const mil = fitAttentionMil({ instances, encoder: sliceEncoder(body, input) }, bags, dataset.classes.length, { ...recipe, seed: o.seed ?? 42 });
  if (!o.embeddings) instances.dispose();
  const { variant, normalization } = body.spec;
  const model = new StudyClassifier({ arch: input.arch, variant, normalization, stages: input.stages, mirrorAverage: input.mirrorAverage, mil: mil.spec }, { normalize: body.normalize, body: body.body, mil });
  mkdirSync(o.out, { recursive: true });
  const path = join(o.out, 'model.safetensors');
  saveStudyModel(path, model, {
    classes: dataset.classes,
    input: { size: input.size, resize: fastaiValidationSize(input.size), windows: [...input.windows] },
    provenance: { data: dataset.source, studies: bags.length, slices: dataset.samples.length, seed: o.seed ?? 42, recipe: { ...recipe, windows: undefined } },
  });
  body.head.dispose();
  model.dispose();
  log(`study model trained on ${bags.length} studies (${dataset.samples.length} slices): ${path}`);
  return path;
}
