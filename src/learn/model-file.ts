/**
 * The exported model: one safetensors file holding the weights and, in its header metadata, everything
 * prediction needs — architecture, classes, input preprocessing and CT windows, decision thresholds —
 * and the training provenance (data summary, split, seed, metrics, software versions).
 */
import { VisionClassifier, type ClassifierSpec } from '../models/classifier.js';
import { saveModuleWeights } from '../torch/io/module-weights.js';
import { readSafetensors, readSafetensorsMetadata } from '../torch/io/safetensors.js';
import type { Module } from '../torch/nn/index.js';
import type { VoiWindow } from '../data/window.js';

export const MODEL_FORMAT = 'findstroke-model';
export const MODEL_FORMAT_VERSION = 1;
/** The study-level model's format (see study-model-file.ts). */
export const STUDY_MODEL_FORMAT = 'findstroke-study-model';

/** What each format is, for the message when a command gets the other kind. */
const FORMAT_NAMES: Record<string, string> = {
  [MODEL_FORMAT]: 'a slice model (findstroke train)',
  [STUDY_MODEL_FORMAT]: 'a study model (findstroke train --recipe study)',
};

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

export interface ModelSpec {
  format: typeof MODEL_FORMAT;
  formatVersion: number;
  classifier: ClassifierSpec;
  classes: string[];
  input: InputSpec;
  /** Per-class decision thresholds on probability (triage operating points), when chosen. */
  thresholds?: Record<string, number>;
  /** Free-form training record: data, split, seed, metrics, versions. */
  provenance?: Record<string, unknown>;
}

/** Writes `model` and `spec` to `path` (atomically). */
export function saveModel(path: string, model: VisionClassifier, spec: Omit<ModelSpec, 'format' | 'formatVersion' | 'classifier'>): void {
  if (spec.classes.length !== model.spec.numClasses) {
    throw new Error(`${spec.classes.length} class names for a model with ${model.spec.numClasses} outputs`);
  }
  const full: ModelSpec = { format: MODEL_FORMAT, formatVersion: MODEL_FORMAT_VERSION, classifier: model.spec, ...spec };
  saveModuleWeights(model, path, { findstroke: JSON.stringify(full) });
}

/** Reads the spec of a model file without building the model. */
export function readModelSpec(path: string): ModelSpec {
  return specFromMetadata(path, readSafetensors(path).metadata);
}

/** The format a findstroke file's header declares (e.g. 'findstroke-model'); undefined when it declares none. */
export function modelFileFormat(path: string): string | undefined {
  const { findstroke } = readSafetensorsMetadata(path);
  try {
    return (JSON.parse(findstroke ?? '{}') as { format?: string }).format;
  } catch {
    return undefined;
  }
}

/** Builds the model a file describes and loads its weights, in evaluation mode. */
export function loadModel(path: string): { model: VisionClassifier; spec: ModelSpec } {
  return loadModelFile(
    path,
    (metadata) => specFromMetadata(path, metadata),
    (spec) => new VisionClassifier(spec.classifier),
  );
}

/**
 * Reads a model file: `checkSpec` turns its header metadata into a checked spec, `build` makes the
 * module it describes, which gets the file's weights and is returned in evaluation mode. Errors name the file.
 */
export function loadModelFile<Spec, M extends Module>(
  path: string,
  checkSpec: (metadata: Record<string, string>) => Spec,
  build: (spec: Spec) => M,
): { model: M; spec: Spec } {
  const { tensors, metadata } = readSafetensors(path);
  const spec = checkSpec(metadata);
  const model = build(spec);
  try {
    model.loadStateDict(tensors);
  } catch (error) {
    throw new Error(`${path}: ${(error as Error).message}`);
  }
  return { model: model.eval(), spec };
}

function specFromMetadata(path: string, metadata: Record<string, string>): ModelSpec {
  return checkedSpec<ModelSpec>(path, metadata, MODEL_FORMAT, MODEL_FORMAT_VERSION, (spec) => spec.classifier.numClasses);
}

/**
 * The findstroke spec in a safetensors header, checked: its format name and version, and as many class
 * names as `outputs(spec)` model outputs. Errors name the file and say what to do.
 */
export function checkedSpec<Spec extends { format: string; formatVersion: number; classes: string[] }>(
  path: string,
  metadata: Record<string, string>,
  format: string,
  version: number,
  outputs: (spec: Spec) => number,
): Spec {
  if (!metadata.findstroke) throw new Error(`${path}: not a findstroke model (no findstroke metadata in the safetensors header)`);
  let spec: Spec;
  try {
    spec = JSON.parse(metadata.findstroke) as Spec;
  } catch (error) {
    throw new Error(`${path}: corrupt model metadata: ${(error as Error).message}`);
  }
  if (spec.format !== format)
    throw new Error(`${path}: ${FORMAT_NAMES[spec.format] ?? `format '${spec.format}'`}, where ${FORMAT_NAMES[format] ?? `format '${format}'`} is needed`);
  if (spec.formatVersion !== version) {
    throw new Error(
      `${path}: model file format version ${spec.formatVersion}, this findstroke reads version ${version}; re-export it with a matching findstroke`,
    );
  }
  if (spec.classes.length !== outputs(spec)) throw new Error(`${path}: ${spec.classes.length} class names but ${outputs(spec)} model outputs`);
  return spec;
}
