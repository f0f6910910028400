/**
 * Trains the study-level recipe on every patient of a dataset and exports it as one model file: the
 * frozen body that embedded the slices and the attention-MIL head fitted on the studies' labels.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fastaiValidationSize } from '../data/transforms/resize.js';
import type { Dataset } from '../data/types.js';
import type { Embeddings } from '../learn/embeddings.js';
import { fitAttentionMil } from '../learn/mil.js';
import { saveStudyModel } from '../learn/study-model-file.js';
import { StudyClassifier } from '../models/study-classifier.js';
import { embeddingBody, studyInput } from './study-embeddings.js';
import { DEFAULT_STUDY_RECIPE, embedWithLog, studyBags, type StudyRecipe } from './study-crossval.js';

export interface StudyTrainOptions {
  dataset: Dataset;
  out: string;
  recipe?: StudyRecipe;
  seed?: number;
  /** Embeddings of every sample already computed with the recipe's body. */
  embeddings?: Embeddings;
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
  const embeddings = o.embeddings ?? (await embedWithLog(dataset, recipe, log));
  const bags = studyBags(dataset, embeddings, dataset.samples.map((_, i) => i));
  const mil = fitAttentionMil(bags, dataset.classes.length, { ...recipe, seed: o.seed ?? 42 });
  const body = await embeddingBody(input, dataset.classes.length);
  const { variant, normalization } = body.spec;
  const model = new StudyClassifier({ arch: input.arch, variant, normalization, stages: input.stages, mirrorAverage: input.mirrorAverage, mil: mil.spec }, { normalize: body.normalize, body: body.body, mil });
  mkdirSync(o.out, { recursive: true });
  const path = join(o.out, 'model.safetensors');
  saveStudyModel(path, model, {
    classes: dataset.classes,
    input: { size: input.size, resize: fastaiValidationSize(input.size), windows: [...input.windows] },
    provenance: { data: dataset.source, studies: bags.length, slices: embeddings.count, seed: o.seed ?? 42, recipe: { ...recipe, windows: undefined } },
  });
  body.head.dispose();
  model.dispose();
  log(`study model trained on ${bags.length} studies (${embeddings.count} slices): ${path}`);
  return path;
}
