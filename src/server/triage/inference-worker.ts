/**
 * The inference worker thread: loads the model once, then prepares slices with the model's own
 * preprocessing and runs them in batches, and draws Grad-CAM overlays, one request at a time, so the
 * service's event loop never waits on libtorch.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { Tensor, setNumThreads, tidy } from '../../torch/index.js';
import { loadModel } from '../../learn/model-file.js';
import { Predictor } from '../../learn/predictor.js';
import { gradCam } from '../../interpret/gradcam.js';
import { heatmapOverlayPng } from '../../interpret/images.js';
import { heatmapOnSource } from '../../interpret/cam-geometry.js';
import { readImage } from '../../data/decode.js';
import { isDicomPath } from '../../data/files.js';
import { applyWindow, HEAD_CT_WINDOWS } from '../../data/window.js';
import type { HostImage } from '../../data/types.js';
import type { InferenceReply, InferenceRequest, InferenceSetup, SliceOutcome } from './inference-protocol.js';

const setup = workerData as InferenceSetup;
const port = parentPort!;
setNumThreads(setup.threads);
const { model, spec } = loadModel(setup.modelPath);
const reply = (message: InferenceReply, transfer: ArrayBuffer[] = []) => port.postMessage(message, transfer);

// One request at a time: libtorch already uses every intra-op thread it was given.
let queue = Promise.resolve();
port.on('message', (request: InferenceRequest) => {
  queue = queue.then(() => handle(request)).catch((error: Error) => reply({ kind: 'failed', id: request.id, error: error.message }));
});
reply({ kind: 'ready', spec });

async function handle(request: InferenceRequest): Promise<void> {
  if (request.kind === 'classify') {
    const slices = await classify(request.paths);
    reply({ kind: 'classified', id: request.id, slices });
  } else {
    const png = await heatmap(request.path, request.classIndex);
    reply({ kind: 'heatmap', id: request.id, png }, [png.buffer as ArrayBuffer]);
  }
}

/** A fresh Predictor per study: its decode cache then lives only as long as the study's request. */
async function classify(paths: string[]): Promise<SliceOutcome[]> {
  const predictor = new Predictor(model, spec);
  const outcomes: SliceOutcome[] = [];
  for (let start = 0; start < paths.length; start += setup.batchSize) {
    const prepared = await Promise.all(
      paths.slice(start, start + setup.batchSize).map((path) => predictor.prepare(path).then((image): HostImage | string => image, (error: Error) => error.message)),
    );
    const images = prepared.filter((p): p is HostImage => typeof p !== 'string');
    const rows = predictor.probabilities(images);
    let next = 0;
    for (const p of prepared) outcomes.push(typeof p === 'string' ? { error: p } : { probabilities: rows[next++] });
  }
  return outcomes;
}

/** The Grad-CAM map drawn over the whole slice at its own size (brain window), aligned with the slice PNG. */
async function heatmap(path: string, classIndex: number | undefined): Promise<Uint8Array> {
  const input = await new Predictor(model, spec).prepare(path);
  const cam = tidy(() => gradCam(model, Tensor.fromHost({ dtype: 'float32', shape: [1, input.channels, input.height, input.width], data: input.data }), { classIndex }));
  const slice = await readImage(path);
  const base: HostImage = isDicomPath(path) ? { ...slice, channels: 1, data: applyWindow(slice.data, HEAD_CT_WINDOWS.brain) } : slice;
  const onSlice = heatmapOnSource(cam.heatmap, spec.input.size, spec.input.resize, slice.width, slice.height);
  return new Uint8Array(await heatmapOverlayPng(base, onSlice, isDicomPath(path) ? 'first-channel' : 'luminance'));
}
