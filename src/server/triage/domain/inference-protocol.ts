/** Messages between the service and its inference worker thread (structured-cloned by postMessage). */
import type { ExportedModelSpec, StudyPrediction } from '../../../inference/exported-model.js';

/** What the worker is started with (its `workerData`). */
export interface InferenceSetup {
  modelPath: string;
  /** libtorch intra-op threads. */
  threads: number;
  /** Slices per forward pass. */
  batchSize: number;
}

export type InferenceRequest =
  { id: number; kind: 'classify'; paths: string[] } | { id: number; kind: 'heatmap'; path: string; classIndex: number | undefined };

export type InferenceReply =
  | { kind: 'ready'; spec: ExportedModelSpec; studyScore: string }
  | { kind: 'classified'; id: number; prediction: StudyPrediction }
  | { kind: 'heatmap'; id: number; png: Uint8Array }
  | { kind: 'failed'; id: number; error: string };
