/**
 * An exported model as the places that use one see it, whatever its kind: its spec (classes, declared
 * preprocessing, thresholds), a study's prediction from its slices, how that prediction pools the slices
 * in words, and a slice's Grad-CAM overlay. A slice model scores each slice alone and its study
 * prediction is the top-k mean of its slices (as the evaluation reads a patient); a study model predicts
 * the study itself. Only this module tells the kinds apart.
 */
import { Tensor, setNumThreads, tidy, type nn } from '../torch/index.js';
import { STUDY_TOP_K, aggregateByGroup } from '../learn/metrics.js';
import { loadModel, modelFileFormat, type ModelSpec } from '../learn/model-file.js';
import { Predictor } from '../learn/predictor.js';
import { STUDY_MODEL_FORMAT, loadStudyModel, studyPoolingText, type StudyModelSpec } from '../learn/study-model-file.js';
import { StudyPredictor } from '../learn/study-predictor.js';
import { StudySliceScorer } from '../models/study-classifier.js';
import { gradCam } from '../interpret/gradcam.js';
import { heatmapOverlayPng } from '../interpret/images.js';
import { heatmapOnSource } from '../interpret/cam-geometry.js';
import { predictionLoader } from '../data/dataloaders.js';
import { readImage } from '../data/decode.js';
import { isDicomPath } from '../data/files.js';
import { applyWindow, HEAD_CT_WINDOWS } from '../data/window.js';
import type { HostImage } from '../data/types.js';

/** A slice model's spec, or a study model's. */
export type ExportedModelSpec = ModelSpec | StudyModelSpec;

/**
 * Per slice: its class probabilities (and, from a study model, its weight in the study's prediction), or
 * why it could not be prepared.
 */
export type SliceOutcome = { probabilities: Float32Array; weight?: number } | { error: string };

/** A study's prediction: each slice's outcome, in the order given, and the study's class probabilities. */
export interface StudyPrediction {
  slices: SliceOutcome[];
  study: Float32Array;
}

export interface ExportedModel {
  readonly spec: ExportedModelSpec;
  /** How the study's probabilities come from its slices, in words: a reader of a flagged study should know whether one slice or all of them carried it. */
  readonly studyScore: string;
  /** Predicts the study made of these slice files, `batchSize` slices per forward pass. @throws Error when no slice can be prepared. */
  predictStudy(paths: readonly string[], batchSize: number): Promise<StudyPrediction>;
  /** A PNG of the Grad-CAM map of `classIndex` (default: the predicted class) over the whole slice at its own size, in the brain window. */
  heatmapPng(path: string, classIndex?: number): Promise<Uint8Array>;
}

/** Loads the model file at `path` (either kind), running libtorch on `threads` intra-op threads. */
export function loadExportedModel(path: string, threads: number): ExportedModel {
  setNumThreads(threads);
  // Fresh predictors per study: their decode caches then live only as long as the study's prediction.
  if (modelFileFormat(path) === STUDY_MODEL_FORMAT) {
    const { model, spec } = loadStudyModel(path);
    return exportedModel(spec, new StudySliceScorer(model), (paths, batchSize) => predictWithStudyModel(new StudyPredictor(model, spec), paths, batchSize));
  }
  const { model, spec } = loadModel(path);
  return exportedModel(spec, model, async (paths, batchSize) => {
    const slices = await predictSlices(new Predictor(model, spec), paths, batchSize);
    const read = slices.flatMap((slice) => ('probabilities' in slice ? [slice.probabilities] : []));
    if (read.length === 0) throw new Error(`no slice could be prepared (slice 0: ${(slices[0] as { error: string } | undefined)?.error ?? 'none given'})`);
    return { slices, study: topKStudyProbabilities(spec.classes.length, read) };
  });
}

/** {@link ExportedModel.studyScore} of a model's spec. */
export function studyScoreOf(spec: ExportedModelSpec): string {
  if (spec.format !== STUDY_MODEL_FORMAT)
    return `per class, the mean of the ${STUDY_TOP_K} highest slice probabilities (a slice model scores each slice alone)`;
  return `a study model: ${studyPoolingText(spec)}`;
}

/** A slice model's study probabilities: per class, the mean of the top-k slice probabilities, renormalised (as the evaluation reads a patient). */
export function topKStudyProbabilities(classCount: number, sliceRows: readonly Float32Array[], topK = STUDY_TOP_K): Float32Array {
  const probs = new Float32Array(sliceRows.length * classCount);
  sliceRows.forEach((row, i) => probs.set(row, i * classCount));
  const grouped = aggregateByGroup(
    { probs, targets: new Int32Array(sliceRows.length), classes: classCount },
    sliceRows.map(() => 'study'),
    topK,
  );
  return Float32Array.from(grouped.probs.subarray(0, classCount));
}

function exportedModel(spec: ExportedModelSpec, camModel: nn.Module, predictStudy: ExportedModel['predictStudy']): ExportedModel {
  return {
    spec,
    studyScore: studyScoreOf(spec),
    predictStudy,
    async heatmapPng(path, classIndex) {
      const input = await predictionLoader(spec.input)(path);
      const cam = tidy(() =>
        gradCam(camModel, Tensor.fromHost({ dtype: 'float32', shape: [1, input.channels, input.height, input.width], data: input.data }), { classIndex }),
      );
      const slice = await readImage(path);
      const base: HostImage = isDicomPath(path) ? { ...slice, channels: 1, data: applyWindow(slice.data, HEAD_CT_WINDOWS.brain) } : slice;
      const onSlice = heatmapOnSource(cam.heatmap, spec.input.size, spec.input.resize, slice.width, slice.height);
      return new Uint8Array(await heatmapOverlayPng(base, onSlice, isDicomPath(path) ? 'first-channel' : 'luminance'));
    },
  };
}

/** Each slice's probabilities through {@link Predictor.predict}, which batches and reports an unreadable file by itself. */
async function predictSlices(predictor: Predictor, paths: readonly string[], batchSize: number): Promise<SliceOutcome[]> {
  const { classes } = predictor.spec;
  const predictions = await predictor.predict([...paths], { batchSize });
  return predictions.map((p) => ('error' in p ? { error: p.error } : { probabilities: Float32Array.from(classes, (c) => p.probabilities[c]) }));
}

/** The study model's prediction of the whole study, with each slice's own probabilities and weight in it (or why it was left out). */
async function predictWithStudyModel(predictor: StudyPredictor, paths: readonly string[], batchSize: number): Promise<StudyPrediction> {
  const { classes } = predictor.spec;
  const p = await predictor.predictStudy('study', [...paths], { batchSize });
  const read = new Map(p.slices.map((s) => [s.path, { probabilities: Float32Array.from(classes, (c) => s.probabilities[c]), weight: s.attention }]));
  const errors = new Map(p.failures.map((f) => [f.path, f.error]));
  return {
    slices: paths.map((path) => read.get(path) ?? { error: errors.get(path) ?? 'not predicted' }),
    study: Float32Array.from(classes, (c) => p.probabilities[c]),
  };
}
