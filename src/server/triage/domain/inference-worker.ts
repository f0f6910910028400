/**
 * The inference worker thread: loads the model once (a slice model, or a study model that predicts a
 * study from all of its slices), then prepares slices with the model's own preprocessing and runs them
 * in batches, and draws Grad-CAM overlays, one request at a time, so the service's event loop never
 * waits on libtorch.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { Tensor, setNumThreads, tidy, type nn } from '../../../torch/index.js';
import { loadModel, modelFileFormat } from '../../../learn/model-file.js';
import { Predictor } from '../../../learn/predictor.js';
import { STUDY_MODEL_FORMAT, loadStudyModel } from '../../../learn/study-model-file.js';
import { StudyPredictor } from '../../../learn/study-predictor.js';
import { StudySliceScorer } from '../../../models/study-classifier.js';
import { gradCam } from '../../../interpret/gradcam.js';
import { heatmapOverlayPng } from '../../../interpret/images.js';
import { heatmapOnSource } from '../../../interpret/cam-geometry.js';
import { predictionLoader } from '../../../data/dataloaders.js';
import { readImage } from '../../../data/decode.js';
import { isDicomPath } from '../../../data/files.js';
import { applyWindow, HEAD_CT_WINDOWS } from '../../../data/window.js';
import type { HostImage } from '../../../data/types.js';
import type { InferenceReply, InferenceRequest, InferenceSetup, ServedSpec, SliceOutcome, StudyOutcome } from './inference-protocol.js';

const setup = workerData as InferenceSetup;
const port = parentPort!;
setNumThreads(setup.threads);

/** The loaded model: its spec, how a study's slices are classified, and the module Grad-CAM runs through (slice logits). */
interface Served {
  spec: ServedSpec;
  classify(paths: string[]): Promise<StudyOutcome>;
  camModel: nn.Module;
}

// Fresh predictors per study: their decode caches then live only as long as the study's request.
function load(path: string): Served {
  if (modelFileFormat(path) === STUDY_MODEL_FORMAT) {
    const { model, spec } = loadStudyModel(path);
    return { spec, classify: (paths) => classifyStudy(new StudyPredictor(model, spec), paths), camModel: new StudySliceScorer(model) };
  }
  const { model, spec } = loadModel(path);
  return { spec, classify: async (paths) => ({ slices: await classifySlices(new Predictor(model, spec), paths) }), camModel: model };
}

const served = load(setup.modelPath);
const reply = (message: InferenceReply, transfer: ArrayBuffer[] = []) => port.postMessage(message, transfer);

// One request at a time: libtorch already uses every intra-op thread it was given.
let queue = Promise.resolve();
port.on('message', (request: InferenceRequest) => {
  queue = queue.then(() => handle(request)).catch((error: Error) => reply({ kind: 'failed', id: request.id, error: error.message }));
});
reply({ kind: 'ready', spec: served.spec });

async function handle(request: InferenceRequest): Promise<void> {
  if (request.kind === 'classify') {
    const { slices, study } = await served.classify(request.paths);
    reply({ kind: 'classified', id: request.id, slices, study });
  } else {
    const png = await heatmap(request.path, request.classIndex);
    reply({ kind: 'heatmap', id: request.id, png }, [png.buffer as ArrayBuffer]);
  }
}

async function classifySlices(predictor: Predictor, paths: string[]): Promise<SliceOutcome[]> {
  const outcomes: SliceOutcome[] = [];
  for (let start = 0; start < paths.length; start += setup.batchSize) {
    const prepared = await Promise.all(
      paths.slice(start, start + setup.batchSize).map((path) =>
        predictor.prepare(path).then(
          (image): HostImage | string => image,
          (error: Error) => error.message,
        ),
      ),
    );
    const images = prepared.filter((p): p is HostImage => typeof p !== 'string');
    const rows = predictor.probabilities(images);
    let next = 0;
    for (const p of prepared) outcomes.push(typeof p === 'string' ? { error: p } : { probabilities: rows[next++] });
  }
  return outcomes;
}

/** The study model's prediction of the whole study, with each slice's own probabilities and weight in it (or why it was left out). */
async function classifyStudy(predictor: StudyPredictor, paths: string[]): Promise<StudyOutcome> {
  const { classes } = predictor.spec;
  const p = await predictor.predictStudy('study', paths, { batchSize: setup.batchSize });
  const read = new Map(p.slices.map((s) => [s.path, { probabilities: Float32Array.from(classes, (c) => s.probabilities[c]), weight: s.attention }]));
  const errors = new Map(p.failures.map((f) => [f.path, f.error]));
  return {
    slices: paths.map((path) => read.get(path) ?? { error: errors.get(path) ?? 'not predicted' }),
    study: Float32Array.from(classes, (c) => p.probabilities[c]),
  };
}

/** The Grad-CAM map drawn over the whole slice at its own size (brain window), aligned with the slice PNG. */
async function heatmap(path: string, classIndex: number | undefined): Promise<Uint8Array> {
  const { spec, camModel } = served;
  const input = await predictionLoader(spec.input)(path);
  const cam = tidy(() =>
    gradCam(camModel, Tensor.fromHost({ dtype: 'float32', shape: [1, input.channels, input.height, input.width], data: input.data }), { classIndex }),
  );
  const slice = await readImage(path);
  const base: HostImage = isDicomPath(path) ? { ...slice, channels: 1, data: applyWindow(slice.data, HEAD_CT_WINDOWS.brain) } : slice;
  const onSlice = heatmapOnSource(cam.heatmap, spec.input.size, spec.input.resize, slice.width, slice.height);
  return new Uint8Array(await heatmapOverlayPng(base, onSlice, isDicomPath(path) ? 'first-channel' : 'luminance'));
}
