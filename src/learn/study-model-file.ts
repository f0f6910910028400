/**
 * The exported study-level model: one safetensors file with the slice body, the attention-MIL head and,
 * in its header, everything prediction needs (architecture, embedding, classes, input preprocessing and
 * CT windows) plus the training provenance. A file of its own format, so that a slice-level reader
 * refuses it with a clear message rather than misreading it.
 */
import { StudyClassifier, studyClasses, type StudyClassifierSpec } from '../models/study-classifier.js';
import { saveModuleWeights } from '../torch/io/module-weights.js';
import { STUDY_MODEL_FORMAT, checkedSpec, loadModelFile, type InputSpec } from './model-file.js';

export { STUDY_MODEL_FORMAT };
export const STUDY_MODEL_FORMAT_VERSION = 1;

export interface StudyModelSpec {
  format: typeof STUDY_MODEL_FORMAT;
  formatVersion: number;
  classifier: StudyClassifierSpec;
  classes: string[];
  input: InputSpec;
  /** Per-class decision thresholds on the study probability (triage operating points), when chosen. */
  thresholds?: Record<string, number>;
  provenance?: Record<string, unknown>;
}

/** How the model pools a study's slices into the study's probabilities, in words (for what reports a study's figure). */
export function studyPoolingText(spec: Pick<StudyModelSpec, 'classifier'>): string {
  return spec.classifier.linear
    ? "the mean of every slice's probabilities (linear head; every slice weighs the same)"
    : "every slice's features pooled by learnt attention weights (attention-MIL head; each slice's weight is shown)";
}

/** Writes `model` and `spec` to `path` (atomically); returns the full spec as the file holds it. */
export function saveStudyModel(path: string, model: StudyClassifier, spec: Omit<StudyModelSpec, 'format' | 'formatVersion' | 'classifier'>): StudyModelSpec {
  if (spec.classes.length !== studyClasses(model.spec))
    throw new Error(`${spec.classes.length} class names for a model with ${studyClasses(model.spec)} outputs`);
  const full: StudyModelSpec = { format: STUDY_MODEL_FORMAT, formatVersion: STUDY_MODEL_FORMAT_VERSION, classifier: model.spec, ...spec };
  saveModuleWeights(model, path, { findstroke: JSON.stringify(full) });
  return full;
}

/** Builds the study model a file describes and loads its weights, in evaluation mode. */
export function loadStudyModel(path: string): { model: StudyClassifier; spec: StudyModelSpec } {
  const checkSpec = (metadata: Record<string, string>) =>
    withoutMirrorAverage(
      path,
      checkedSpec<StudyModelSpec>(path, metadata, STUDY_MODEL_FORMAT, STUDY_MODEL_FORMAT_VERSION, (s) => studyClasses(s.classifier)),
    );
  return loadModelFile(path, checkSpec, (spec) => new StudyClassifier(spec.classifier));
}

/**
 * Files of the first study models say `mirrorAverage` (each slice's embedding averaged with its mirror
 * image's), an option no recipe used and findstroke no longer has: false is dropped; a model made with it
 * cannot be reproduced, so it is refused.
 */
function withoutMirrorAverage(path: string, spec: StudyModelSpec): StudyModelSpec {
  const { mirrorAverage, ...classifier } = spec.classifier as StudyClassifierSpec & { mirrorAverage?: boolean };
  if (mirrorAverage)
    throw new Error(`${path}: a study model that averages each slice with its mirror image (mirrorAverage), which findstroke no longer does: train it again`);
  return { ...spec, classifier };
}
