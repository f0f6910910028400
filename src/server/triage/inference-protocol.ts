/** Messages between the service and its inference worker thread (structured-cloned by postMessage). */
import type { ModelSpec } from '../../learn/model-file.js';

/** What the worker is started with (its `workerData`). */
export interface InferenceSetup {
  modelPath: string;
  /** libtorch intra-op threads. */
  threads: number;
  /** Slices per forward pass. */
  batchSize: number;
}

export type InferenceRequest =
  | { id: number; kind: 'classify'; paths: string[] }
  | { id: number; kind: 'heatmap'; path: string; classIndex: number | undefined };

/** Per path: the class probabilities, or why the slice could not be prepared. */
export type SliceOutcome = { probabilities: Float32Array } | { error: string };

export type InferenceReply =
  | { kind: 'ready'; spec: ModelSpec }
  | { kind: 'classified'; id: number; slices: SliceOutcome[] }
  | { kind: 'heatmap'; id: number; png: Uint8Array }
  | { kind: 'failed'; id: number; error: string };
