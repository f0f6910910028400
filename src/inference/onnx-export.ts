/**
 * A findstroke model file exported to ONNX (`findstroke export MODEL --onnx OUT.onnx`), for ONNX Runtime,
 * onnxruntime-web or TensorRT: the graph of models/onnx/export.ts (opset 13, batch norm folded, a dynamic
 * batch dimension) with, in the model's metadata_props under the key 'findstroke', what a deployer needs to
 * feed it as findstroke does and to read its outputs: the preprocessing, the classes, the thresholds and how
 * a study's prediction pools its slices.
 */
import { basename } from 'node:path';
import { STUDY_TOP_K } from '../learn/metrics.js';
import { STUDY_MODEL_FORMAT, type ModelSpec } from '../learn/model-file.js';
import type { StudyModelSpec } from '../learn/study-model-file.js';
import type { nn } from '../torch/index.js';
import { Predictor } from '../learn/predictor.js';
import { cacheShortSide } from '../data/dataloaders.js';
import { Normalize } from '../models/normalize.js';
import { ONNX_INPUT, ONNX_OUTPUTS, classifierGraph, type OnnxClassifier } from '../models/onnx/export.js';
import { ONNX_OPSET } from '../models/onnx/graph.js';
import { StudySliceScorer } from '../models/study-classifier.js';
import { VisionClassifier } from '../models/classifier.js';
import { writeFileAtomically } from '../util/atomic-write.js';
import { studyScoreOf } from './exported-model.js';

/** The metadata_props key holding the JSON of {@link OnnxMetadata}. */
export const ONNX_METADATA_KEY = 'findstroke';

export interface OnnxMetadata {
  format: 'findstroke-onnx';
  formatVersion: 1;
  /** The findstroke model file it was exported from (its name) and that file's format. */
  source: { file: string; format: string };
  classes: string[];
  input: {
    name: string;
    shape: (string | number)[];
    /** Each step from a file to the input tensor, in order, in words. */
    preparation: string[];
    size: number;
    /** Short side of the first (cached, 8-bit) resize, then of the second, before the centre crop to size x size. */
    resizes: [number, number];
    /** CT windows (Hounsfield units) making the channels of a DICOM slice. */
    windows: { center: number; width: number }[];
    maskOutsideHead: boolean;
    /** Applied inside the graph, on the input in 0..1: (x[channelOrder] - mean) / std. */
    normalization: { kind: string; channelOrder: 'RGB' | 'BGR'; mean: number[]; std: number[]; inGraph: true };
  };
  /** The graph's outputs, per slice ([batch, classes]). */
  outputs: { logits: string; probabilities: string };
  /** How a study's probabilities come from its slices' (outside the graph). */
  studyPooling: { rule: 'top-k mean' | 'mean'; k?: number; text: string };
  thresholds?: Record<string, number>;
}

/**
 * Writes the ONNX export of the findstroke model at `modelPath` to `outPath` (atomically); returns its metadata.
 * @throws Error naming `modelPath` when it cannot be read or its model has no ONNX export.
 */
export async function exportOnnx(modelPath: string, outPath: string): Promise<OnnxMetadata> {
  const { graph, inputs, outputs, metadata } = namingFile(modelPath, () => {
    // The one place this reads a model file: the predictor's loader, which takes either kind.
    const { model, spec } = Predictor.load(modelPath);
    try {
      return onnxOf(model, spec, basename(modelPath));
    } finally {
      model.dispose();
    }
  });
  const docString = `findstroke ${metadata.source.format === STUDY_MODEL_FORMAT ? 'study' : 'slice'} model ${metadata.source.file}, classes ${metadata.classes.join(', ')}, opset ${ONNX_OPSET}; preprocessing in metadata_props '${ONNX_METADATA_KEY}'`;
  await writeFileAtomically(outPath, graph.encode({ inputs, outputs, metadata: { [ONNX_METADATA_KEY]: JSON.stringify(metadata) }, docString }));
  return metadata;
}

/** The graph of a predictor's `model` and the metadata of its `spec`, read from the file named `file`. */
function onnxOf(model: nn.Module, spec: ModelSpec | StudyModelSpec, file: string): OnnxClassifier & { metadata: OnnxMetadata } {
  const normalize = model instanceof VisionClassifier ? model.normalize : model instanceof StudySliceScorer ? model.study.normalize : undefined;
  if (!normalize) throw new Error(`a ${model.constructor.name} has no ONNX export`);
  const study = spec.format === STUDY_MODEL_FORMAT;
  const { size, resize, windows, maskOutsideHead = false } = spec.input;
  const metadata: OnnxMetadata = {
    format: 'findstroke-onnx',
    formatVersion: 1,
    source: { file, format: spec.format },
    classes: spec.classes,
    input: {
      name: ONNX_INPUT,
      shape: ['batch', 3, size, size],
      preparation: preparation(size, resize, windows.length, maskOutsideHead),
      size,
      resizes: [cacheShortSide(size), resize],
      windows,
      maskOutsideHead,
      normalization: normalizationOf(normalize),
    },
    outputs: ONNX_OUTPUTS,
    studyPooling: { rule: study ? 'mean' : 'top-k mean', ...(study ? {} : { k: STUDY_TOP_K }), text: studyScoreOf(spec) },
    ...(spec.thresholds ? { thresholds: spec.thresholds } : {}),
  };
  return { ...classifierGraph(model, size), metadata };
}

/** `fn`'s result; an error it throws names `path` (once). */
function namingFile<R>(path: string, fn: () => R): R {
  try {
    return fn();
  } catch (error) {
    const message = (error as Error).message;
    throw new Error(message.startsWith(`${path}:`) ? message : `${path}: ${message}`);
  }
}

function normalizationOf(normalize: Normalize): OnnxMetadata['input']['normalization'] {
  return {
    kind: normalize.kind,
    channelOrder: normalize.bgr ? 'BGR' : 'RGB',
    mean: [...normalize.mean.floats()],
    std: [...normalize.std.floats()],
    inGraph: true,
  };
}

/** The steps of data/dataloaders.ts's predictionLoader, in words. */
function preparation(size: number, resize: number, windowCount: number, maskOutsideHead: boolean): string[] {
  return [
    `DICOM: pixel data through the modality LUT (Hounsfield units), then each window's VOI LINEAR function to 0..1 (PS3.3 C.11.2.1.2.1), one channel per window` +
      (windowCount === 1 ? ' (one window: one grey channel)' : ''),
    `bilinear resize (averaging when shrinking) so that the short side is ${cacheShortSide(size)} px, rounded to 8 bits (PNG/JPEG: decoded and resized alike)`,
    ...(maskOutsideHead ? ['everything outside the head set to 0'] : []),
    `bilinear resize so that the short side is ${resize} px, then a centre crop to ${size} x ${size}`,
    'one grey channel repeated as R, G and B; values / 255, so 0..1; layout NCHW float32',
  ];
}
