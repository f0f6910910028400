/**
 * The service's side of the inference worker: starts the thread, waits for the model to load, and
 * turns requests into promises. A worker that dies fails its pending requests and is started again
 * on the next request, so one bad slice cannot stop classification for good.
 */
import type { Worker } from 'node:worker_threads';
import type { ExportedModelSpec, StudyPrediction } from '../../../inference/exported-model.js';
import type { InferenceReply, InferenceRequest, InferenceSetup } from './inference-protocol.js';
import { startWorker } from './worker-thread.js';

type Pending = { resolve: (reply: InferenceReply) => void; reject: (error: Error) => void };
/** A request without its id, which the client assigns (Omit over each member of the union). */
type RequestBody = InferenceRequest extends infer R ? (R extends unknown ? Omit<R, 'id'> : never) : never;

export class InferenceClient {
  readonly #setup: InferenceSetup;
  readonly #pending = new Map<number, Pending>();
  #worker: Promise<Worker> | undefined;
  #nextId = 1;
  #closed = false;

  private constructor(
    setup: InferenceSetup,
    /** The model's spec, as the worker loaded it. */
    readonly spec: ExportedModelSpec,
    /** How the model's study probabilities come from its slices, in words. */
    readonly studyScore: string,
    worker: Worker,
  ) {
    this.#setup = setup;
    this.#worker = Promise.resolve(this.#attach(worker));
  }

  /**
   * Starts the worker and waits until it has loaded the model.
   * @throws Error from loading the model (missing file, not a findstroke model...).
   */
  static async start(setup: InferenceSetup): Promise<InferenceClient> {
    const { worker, spec, studyScore } = await spawn(setup);
    return new InferenceClient(setup, spec, studyScore, worker);
  }

  /** The study's class probabilities, and those of each of its files (or why one could not be read), in order. */
  async classify(paths: string[]): Promise<StudyPrediction> {
    const reply = await this.#request({ kind: 'classify', paths });
    if (reply.kind !== 'classified') throw new Error(`inference worker answered ${reply.kind} to classify`);
    return reply.prediction;
  }

  /** A PNG of the Grad-CAM overlay of one file for `classIndex` (default: the predicted class). */
  async heatmap(path: string, classIndex?: number): Promise<Buffer> {
    const reply = await this.#request({ kind: 'heatmap', path, classIndex });
    if (reply.kind !== 'heatmap') throw new Error(`inference worker answered ${reply.kind} to heatmap`);
    return Buffer.from(reply.png.buffer, reply.png.byteOffset, reply.png.byteLength);
  }

  async close(): Promise<void> {
    this.#closed = true;
    const worker = await this.#worker?.catch(() => undefined);
    this.#worker = undefined;
    await worker?.terminate();
  }

  async #request(body: RequestBody): Promise<InferenceReply> {
    if (this.#closed) throw new Error('the inference worker is closed');
    this.#worker ??= spawn(this.#setup).then(({ worker }) => this.#attach(worker));
    const worker = await this.#worker;
    const id = this.#nextId++;
    const reply = await new Promise<InferenceReply>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      worker.postMessage({ ...body, id } as InferenceRequest);
    });
    if (reply.kind === 'failed') throw new Error(reply.error);
    return reply;
  }

  #attach(worker: Worker): Worker {
    worker.on('message', (reply: InferenceReply) => {
      if (reply.kind === 'ready') return;
      this.#pending.get(reply.id)?.resolve(reply);
      this.#pending.delete(reply.id);
    });
    const fail = (error: Error) => {
      this.#worker = undefined;
      for (const pending of this.#pending.values()) pending.reject(error);
      this.#pending.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`the inference worker stopped (exit code ${code})`)));
    return worker;
  }
}

/** Starts a worker and resolves once it reports the model loaded. */
function spawn(setup: InferenceSetup): Promise<{ worker: Worker; spec: ExportedModelSpec; studyScore: string }> {
  const worker = startWorker('inference-worker', setup);
  return new Promise((resolve, reject) => {
    const onExit = (code: number) => reject(new Error(`the inference worker stopped while loading the model (exit code ${code})`));
    worker.once('error', reject);
    worker.once('exit', onExit);
    worker.once('message', (reply: InferenceReply) => {
      worker.off('error', reject);
      worker.off('exit', onExit);
      if (reply.kind === 'ready') resolve({ worker, spec: reply.spec, studyScore: reply.studyScore });
      else reject(new Error(`inference worker sent ${reply.kind} before it was ready`));
    });
  });
}
