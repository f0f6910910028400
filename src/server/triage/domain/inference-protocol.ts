/** Messages between the service and its inference worker thread (structured-cloned by postMessage). */
import type { ModelSpec } from '../../../learn/model-file.js';
import type { StudyModelSpec } from '../../../learn/study-model-file.js';

/** The served model's spec: a slice model's, or a study model's (which predicts each study as a whole). */
export type ServedSpec = ModelSpec | StudyModelSpec;

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

/**
 * Per path: the class probabilities (and, from a study model, the slice's weight in the study's
 * probabilities), or why the slice could not be prepared.
 */
export type SliceOutcome = { probabilities: Float32Array; weight?: number } | { error: string };

/** A study's slices, and the study's own class probabilities when the model predicts studies. */
export interface StudyOutcome {
  slices: SliceOutcome[];
  study?: Float32Array;
}

export type InferenceReply =
  | { kind: 'ready'; spec: ServedSpec }
  | { kind: 'classified'; id: number; slices: SliceOutcome[]; study?: Float32Array }
  | { kind: 'heatmap'; id: number; png: Uint8Array }
  | { kind: 'failed'; id: number; error: string };
