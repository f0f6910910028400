/**
 * The inference worker thread: loads the exported model once, then predicts studies and draws Grad-CAM
 * overlays, one request at a time, so the service's event loop never waits on libtorch.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { loadExportedModel } from '../../../inference/exported-model.js';
import type { InferenceReply, InferenceRequest, InferenceSetup } from './inference-protocol.js';

const setup = workerData as InferenceSetup;
const port = parentPort!;
const model = loadExportedModel(setup.modelPath, setup.threads);
const reply = (message: InferenceReply, transfer: ArrayBuffer[] = []) => port.postMessage(message, transfer);

// One request at a time: libtorch already uses every intra-op thread it was given.
let queue = Promise.resolve();
port.on('message', (request: InferenceRequest) => {
  queue = queue.then(() => handle(request)).catch((error: Error) => reply({ kind: 'failed', id: request.id, error: error.message }));
});
reply({ kind: 'ready', spec: model.spec, studyScore: model.studyScore });

async function handle(request: InferenceRequest): Promise<void> {
  if (request.kind === 'classify') {
    reply({ kind: 'classified', id: request.id, prediction: await model.predictStudy(request.paths, setup.batchSize) });
  } else {
    const png = await model.heatmapPng(request.path, request.classIndex);
    reply({ kind: 'heatmap', id: request.id, png }, [png.buffer as ArrayBuffer]);
  }
}
