/**
 * The exported model: one safetensors file holding the weights and, in its header metadata, everything
 * prediction needs — its kind (a slice model or a study model), architecture, classes, the declared
 * preprocessing pipeline, decision thresholds — and the training provenance (data summary, split, seed,
 * metrics, software versions). One format for both kinds; the two formats before it are still read.
 */
import { VisionClassifier, type ClassifierSpec } from '../models/classifier.js';
import { StudyClassifier, StudySliceScorer, studyClasses, type StudyClassifierSpec } from '../models/study-classifier.js';
import { saveModuleWeights } from '../torch/io/module-weights.js';
import { readSafetensors, readSafetensorsMetadata } from '../torch/io/safetensors.js';
import type { Module } from '../torch/nn/index.js';
import type { VoiWindow } from '../data/window.js';
import { checkedPreprocessing, preprocessingOf, type PreprocessingStep } from '../data/preprocessing.js';

export const MODEL_FORMAT = 'findstroke-model' as const;
export const MODEL_FORMAT_VERSION = 2;
/** The format of the first study models (version 1), read as a study model of the current format. */
export const STUDY_MODEL_FORMAT = 'findstroke-study-model';

/** How an input file becomes the model's input tensor. */
export interface InputSpec {
  /** Square input size in pixels (e.g. 128). */
  size: number;
  /** Short side the image is resized to before the centre crop (fastai: size * 1.14, to a multiple of 8). */
  resize: number;
  /** CT windows making the channels of a DICOM input (one window is repeated to 3 channels). */
  windows: VoiWindow[];
  /** Everything outside the head blanked when decoding (absent: kept). */
  maskOutsideHead?: boolean;
}

interface SpecFields {
  format: typeof MODEL_FORMAT;
  formatVersion: number;
  classes: string[];
  /** What training was given (its size, windows, masking): the loose fields `preprocessing` was derived from. */
  input: InputSpec;
  /** The steps from a file to the model's input, replayed by data/preprocessing.ts `preprocessor`. */
  preprocessing: PreprocessingStep[];
  /** Per-class decision thresholds on probability (triage operating points), when chosen. */
  thresholds?: Record<string, number>;
  /** Free-form training record: data, split, seed, metrics, versions. */
  provenance?: Record<string, unknown>;
}

/** A slice model's spec: it scores each slice alone. */
export interface ModelSpec extends SpecFields {
  kind: 'slice';
  classifier: ClassifierSpec;
}

/** A study model's spec: its slice body and attention-MIL (or linear) head predict a study from its slices. */
export interface StudyModelSpec extends SpecFields {
  kind: 'study';
  classifier: StudyClassifierSpec;
  /** On the study probability, for a study model. */
  thresholds?: Record<string, number>;
}

export type AnyModelSpec = ModelSpec | StudyModelSpec;
export type ModelKind = AnyModelSpec['kind'];

/** A model file's module, built and loaded, with its spec and the module that scores one slice alone (for Grad-CAM). */
export type LoadedModel =
  | { kind: 'slice'; model: VisionClassifier; spec: ModelSpec; sliceScorer: Module }
  | { kind: 'study'; model: StudyClassifier; spec: StudyModelSpec; sliceScorer: Module };

/** What each kind is, in words, how many outputs its classifier has, how its module is built, and which module scores one slice alone. */
const KINDS: {
  [K in ModelKind]: { what: string; outputs(spec: SpecOf<K>): number; build(spec: SpecOf<K>): ModelOf<K>; sliceScorer(model: ModelOf<K>): Module };
} = {
  slice: {
    what: 'a slice model (findstroke train)',
    outputs: (spec) => spec.classifier.numClasses,
    build: (spec) => new VisionClassifier(spec.classifier),
    sliceScorer: (model) => model,
  },
  study: {
    what: 'a study model (findstroke train --recipe study)',
    outputs: (spec) => studyClasses(spec.classifier),
    build: (spec) => new StudyClassifier(spec.classifier),
    sliceScorer: (model) => new StudySliceScorer(model),
  },
};

type ModelOf<K extends ModelKind> = Extract<LoadedModel, { kind: K }>['model'];

/** A model in memory (just fitted, or built for its file) with the spec it is saved with, as reading its file gives it. */
export function loadedModel<S extends AnyModelSpec>(spec: S, model: ModelOf<S['kind']>): Extract<LoadedModel, { kind: S['kind'] }> {
  const sliceScorer = (KINDS[spec.kind].sliceScorer as (model: Module) => Module)(model);
  return { kind: spec.kind, spec, model, sliceScorer } as Extract<LoadedModel, { kind: S['kind'] }>;
}

type SpecOf<K extends ModelKind> = Extract<AnyModelSpec, { kind: K }>;
/** A spec as a trainer gives it to be saved: `preprocessing` defaults to what `input` declares ({@link preprocessingOf}). */
type SavedFields<K extends ModelKind> = Omit<SpecOf<K>, 'format' | 'formatVersion' | 'kind' | 'classifier' | 'preprocessing'> & {
  preprocessing?: PreprocessingStep[];
};

/** Writes `model` and `spec` to `path` (atomically) as a slice model. */
export function saveModel(path: string, model: VisionClassifier, spec: SavedFields<'slice'>): ModelSpec {
  return saveModelFile<ModelSpec>(path, model, { ...header('slice', spec), classifier: model.spec });
}

/** Writes `model` and `spec` to `path` (atomically) as a study model; returns the full spec as the file holds it. */
export function saveStudyModel(path: string, model: StudyClassifier, spec: SavedFields<'study'>): StudyModelSpec {
  return saveModelFile<StudyModelSpec>(path, model, { ...header('study', spec), classifier: model.spec });
}

function header<K extends ModelKind>(kind: K, spec: SavedFields<K>) {
  return { format: MODEL_FORMAT, formatVersion: MODEL_FORMAT_VERSION, kind, ...spec, preprocessing: spec.preprocessing ?? preprocessingOf(spec.input) };
}

function saveModelFile<S extends AnyModelSpec>(path: string, model: Module, spec: S): S {
  const outputs = (KINDS[spec.kind].outputs as (spec: S) => number)(spec);
  if (spec.classes.length !== outputs) throw new Error(`${spec.classes.length} class names for a model with ${outputs} outputs`);
  saveModuleWeights(model, path, { findstroke: JSON.stringify(spec) });
  return spec;
}

/** Reads the spec of a model file (either kind) from its header, without reading the weights. */
export function readModelSpec(path: string): AnyModelSpec {
  return specFromMetadata(path, readSafetensorsMetadata(path));
}

/**
 * Reads the model file at `path` once (header and weights), builds the module its spec describes, loads
 * the weights, and returns it in evaluation mode. With `kind`, a file of the other kind is refused by
 * name before anything is built. Errors name the file.
 */
export function readModel(path: string): LoadedModel;
export function readModel<K extends ModelKind>(path: string, kind: K): Extract<LoadedModel, { kind: K }>;
export function readModel(path: string, kind?: ModelKind): LoadedModel {
  const { tensors, metadata } = readSafetensors(path);
  const spec = specFromMetadata(path, metadata);
  if (kind !== undefined && spec.kind !== kind) throw new Error(`${path}: ${KINDS[spec.kind].what}, where ${KINDS[kind].what} is needed`);
  const loaded = loadedModel(spec, (KINDS[spec.kind].build as (spec: AnyModelSpec) => ModelOf<ModelKind>)(spec));
  try {
    loaded.model.loadStateDict(tensors);
  } catch (error) {
    throw new Error(`${path}: ${(error as Error).message}`);
  }
  loaded.model.eval();
  return loaded;
}

/** Builds the slice model a file describes and loads its weights, in evaluation mode. */
export function loadModel(path: string): { model: VisionClassifier; spec: ModelSpec } {
  return readModel(path, 'slice');
}

/** Builds the study model a file describes and loads its weights, in evaluation mode. */
export function loadStudyModel(path: string): { model: StudyClassifier; spec: StudyModelSpec } {
  return readModel(path, 'study');
}

/**
 * The findstroke spec in a safetensors header, in the current format whichever format wrote it, checked:
 * format name and version, kind, and as many class names as model outputs. Errors name the file and say what to do.
 */
function specFromMetadata(path: string, metadata: Record<string, string>): AnyModelSpec {
  if (!metadata.findstroke) throw new Error(`${path}: not a findstroke model (no findstroke metadata in the safetensors header)`);
  let stored: Record<string, unknown>;
  try {
    stored = JSON.parse(metadata.findstroke) as Record<string, unknown>;
  } catch (error) {
    throw new Error(`${path}: corrupt model metadata: ${(error as Error).message}`);
  }
  const spec = currentSpec(path, stored);
  if (!(spec.kind in KINDS))
    throw new Error(`${path}: a model of kind '${spec.kind}', which this findstroke does not know (it knows ${Object.keys(KINDS).join(', ')})`);
  const outputs = (KINDS[spec.kind].outputs as (spec: AnyModelSpec) => number)(spec);
  if (spec.classes.length !== outputs) throw new Error(`${path}: ${spec.classes.length} class names but ${outputs} model outputs`);
  return spec.kind === 'study' ? withoutMirrorAverage(path, spec) : spec;
}

/**
 * A stored spec in the current format: version 1 of 'findstroke-model' was a slice model without a kind,
 * and 'findstroke-study-model' (version 1) a study model in a format of its own; neither saved its
 * preprocessing, which their loose `input` fields declare.
 */
function currentSpec(path: string, stored: Record<string, unknown>): AnyModelSpec {
  const { format, formatVersion } = stored;
  const first = (kind: ModelKind) =>
    ({ ...stored, format: MODEL_FORMAT, formatVersion: MODEL_FORMAT_VERSION, kind, preprocessing: preprocessingOf(stored.input as InputSpec) }) as AnyModelSpec;
  if (format === MODEL_FORMAT && formatVersion === MODEL_FORMAT_VERSION)
    return { ...(stored as unknown as AnyModelSpec), preprocessing: checkedPreprocessing(path, stored.preprocessing) };
  if (format === MODEL_FORMAT && formatVersion === 1) return first('slice');
  if (format === STUDY_MODEL_FORMAT && formatVersion === 1) return first('study');
  if (format !== MODEL_FORMAT && format !== STUDY_MODEL_FORMAT) throw new Error(`${path}: format '${String(format)}', where a findstroke model is needed`);
  throw new Error(
    `${path}: model file format version ${String(formatVersion)}, this findstroke reads version 1 or ${MODEL_FORMAT_VERSION}; re-export it with a matching findstroke`,
  );
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
