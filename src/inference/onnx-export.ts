/**
 * A findstroke model file exported to ONNX (`findstroke export MODEL --onnx OUT.onnx`), for ONNX Runtime,
 * onnxruntime-web or TensorRT: the graph of models/onnx/export.ts (opset 13, batch norm folded, a dynamic
 * batch dimension) with, in the model's metadata_props under the key 'findstroke', what a deployer needs to
 * feed it as findstroke does and to read its outputs: the preprocessing, the classes, the thresholds and how
 * a study's prediction pools its slices.
 */
import { basename } from 'node:path';
import type { AnyModelSpec } from '../learn/model-file.js';
import type { nn } from '../torch/index.js';
import { Predictor } from '../learn/predictor.js';
import { inputGeometry, type PreprocessingStep } from '../data/preprocessing.js';
import { Normalize } from '../models/normalize.js';
import { ONNX_INPUT, ONNX_OUTPUTS, classifierGraph, type OnnxClassifier } from '../models/onnx/export.js';
import { ONNX_OPSET } from '../models/onnx/graph.js';
import { writeFileAtomically } from '../util/atomic-write.js';
import { studyPoolingOf, studyScoreOf, type StudyPooling } from './exported-model.js';

/** The metadata_props key holding the JSON of {@link OnnxMetadata}. */
export const ONNX_METADATA_KEY = 'findstroke';

export interface OnnxMetadata {
  format: 'findstroke-onnx';
  formatVersion: 1;
  /** The findstroke model file it was exported from (its name), that file's format and the model's kind. */
  source: { file: string; format: string; kind: AnyModelSpec['kind'] };
  classes: string[];
  input: {
    name: string;
    shape: (string | number)[];
    size: number;
    /** The model file's declared preprocessing, each step from a file to the input tensor with its parameters (see data/preprocessing.ts). */
    preprocessing: PreprocessingStep[];
    /** The same steps in words, for a deployer who reimplements them. */
    preparation: string[];
    /** Applied inside the graph, on the input in 0..1: (x[channelOrder] - mean) / std. */
    normalization: { kind: string; channelOrder: 'RGB' | 'BGR'; mean: number[]; std: number[]; inGraph: true };
  };
  /** The graph's outputs, per slice ([batch, classes]). */
  outputs: { logits: string; probabilities: string };
  /** How a study's probabilities come from its slices' (outside the graph). */
  studyPooling: StudyPooling & { text: string };
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
  const docString = `findstroke ${metadata.source.kind} model ${metadata.source.file}, classes ${metadata.classes.join(', ')}, opset ${ONNX_OPSET}; preprocessing in metadata_props '${ONNX_METADATA_KEY}'`;
  await writeFileAtomically(outPath, graph.encode({ inputs, outputs, metadata: { [ONNX_METADATA_KEY]: JSON.stringify(metadata) }, docString }));
  return metadata;
}

/** The graph of a predictor's `model` and the metadata of its `spec`, read from the file named `file`. */
function onnxOf(model: nn.Module, spec: AnyModelSpec, file: string): OnnxClassifier & { metadata: OnnxMetadata } {
  const { size } = inputGeometry(spec.preprocessing);
  const onnx = classifierGraph(model, size);
  const { normalize } = onnx;
  if (!normalize) throw new Error(`a ${model.constructor.name} has no ONNX export`);
  const metadata: OnnxMetadata = {
    format: 'findstroke-onnx',
    formatVersion: 1,
    source: { file, format: spec.format, kind: spec.kind },
    classes: spec.classes,
    input: {
      name: ONNX_INPUT,
      shape: ['batch', 3, size, size],
      size,
      preprocessing: spec.preprocessing,
      preparation: spec.preprocessing.map(inWords),
      normalization: normalizationOf(normalize),
    },
    outputs: ONNX_OUTPUTS,
    studyPooling: { ...studyPoolingOf(spec), text: studyScoreOf(spec) },
    ...(spec.thresholds ? { thresholds: spec.thresholds } : {}),
  };
  return { ...onnx, metadata };
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

/** A preprocessing step in words. */
function inWords(step: PreprocessingStep): string {
  switch (step.name) {
    case 'decode':
      return 'decode: a DICOM slice through its modality LUT to Hounsfield units (PS3.3 C.11.1); a PNG/JPEG decoded as it is';
    case 'windows':
      return `windows: each CT window's VOI LINEAR function (PS3.3 C.11.2.1.2.1) to 0..1, one channel per window (${step.windows.map((w) => `centre ${w.center} width ${w.width}`).join('; ')})`;
    case 'cache8bit':
      return `cache8bit: bilinear resize (averaging when shrinking, never enlarging) to a short side of ${step.shortSide} px, rounded to 8 bits`;
    case 'maskOutsideHead':
      return 'maskOutsideHead: everything outside the head set to 0';
    case 'resize':
      return `resize: bilinear, to a short side of ${step.shortSide} px`;
    case 'centreCrop':
      return `centreCrop: the centre ${step.size} x ${step.size} square`;
    case 'rgb':
      return 'rgb: one grey channel repeated as R, G and B; values in 0..1, layout NCHW float32';
  }
}
