/**
 * Training checkpoints, so that a run stopped mid-training (killed, machine lost) can resume after its last
 * completed epoch and finish as the uninterrupted run would have. After every epoch the learner's training
 * state goes into one safetensors file, atomically: weights and buffers, the optimiser's state (AdamW's
 * moments and each parameter's update count), libtorch's generator state (dropout), and the history of
 * the epochs done. The rest follows from the epochs done: a fit's schedule position, and each epoch's
 * batches (loaders seed an epoch's order and augmentation by its number). A fingerprint of the run's
 * options goes with it, so that a run never resumes from another run's checkpoint.
 */
import { existsSync } from 'node:fs';
import { rngState, setRngState, Tensor, type Device, type HostTensor, type ParamState } from '../../torch/index.js';
import { readSafetensors, writeSafetensors } from '../../torch/io/safetensors.js';
import type { Callback, EpochResult } from '../callback.js';
import type { Learner } from '../learner.js';

/** What identifies a run: the options and data that decide what it trains, as JSON values. */
export type RunFingerprint = Record<string, unknown>;

const METADATA_KEY = 'findstroke.checkpoint';
const FORMAT = 1;
const MODEL = 'model.';
const OPTIMIZER = 'optimizer.';
const RNG = 'rng.';

interface CheckpointMetadata {
  format: number;
  fingerprint: RunFingerprint;
  history: EpochResult[];
  /** AdamW's update count of each parameter with optimiser state, by parameter name. */
  steps: Record<string, number>;
}

/** A checkpoint read from its file, checked against the run that resumes from it. */
export interface TrainingCheckpoint {
  path: string;
  history: EpochResult[];
  tensors: Map<string, HostTensor>;
  steps: Record<string, number>;
}

/** JSON cannot hold NaN or infinities (a validation loss of an epoch without validation is NaN): they travel as strings. */
const NON_FINITE = new Set(['NaN', 'Infinity', '-Infinity']);
const encodeNumber = (_: string, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v);
const decodeNumber = (_: string, v: unknown) => (typeof v === 'string' && NON_FINITE.has(v) ? Number(v) : v);

/** The devices whose generators the model's training draws from: the CPU's, and its accelerator's. */
function devicesOf(learner: Learner): Device[] {
  return [...new Set<Device>(['cpu', ...learner.model.parameters().map((p) => p.device as Device)])];
}

/**
 * Writes the learner's training state to `path` after every whole epoch (in a data-parallel run, give it to rank 0
 * only). An epoch cut short (Ctrl-C, a NaN loss) is not written: resuming redoes it from the last whole one.
 */
export class Checkpoint implements Callback {
  #batches = 0;

  constructor(
    readonly path: string,
    readonly fingerprint: RunFingerprint,
  ) {}

  beforeEpoch(): void {
    this.#batches = 0;
  }

  afterBatch(): void {
    this.#batches++;
  }

  afterEpoch(learner: Learner, result: EpochResult): void {
    if (this.#batches < learner.task.batchCount(result.epoch)) return;
    const tensors = new Map<string, HostTensor>();
    for (const [name, t] of learner.model.stateDict()) tensors.set(MODEL + name, t.toHost());
    const steps: Record<string, number> = {};
    const names = new Map(learner.model.namedParameters().map(([name, p]) => [p, name]));
    for (const [param, state] of learner.optimizer.state()) {
      const name = names.get(param);
      if (name === undefined) throw new Error("checkpoint: the optimiser trains a parameter that is not the model's");
      if (state.step !== undefined) steps[name] = state.step;
      for (const [moment, t] of Object.entries(state.tensors)) tensors.set(`${OPTIMIZER}${name}.${moment}`, t.toHost());
    }
    for (const device of devicesOf(learner)) {
      const state = rngState(device);
      tensors.set(RNG + device, state.toHost());
      state.dispose();
    }
    const metadata: CheckpointMetadata = { format: FORMAT, fingerprint: this.fingerprint, history: learner.history, steps };
    writeSafetensors(this.path, tensors, { [METADATA_KEY]: JSON.stringify(metadata, encodeNumber) });
  }
}

/**
 * The checkpoint at `path`, for the run of `fingerprint` to resume from.
 * @throws Error naming the file when there is none, it cannot be read, or it is of a different run (naming what differs).
 */
export function readCheckpoint(path: string, fingerprint: RunFingerprint): TrainingCheckpoint {
  if (!existsSync(path)) throw new Error(`${path}: no checkpoint to resume from (a run writes it after each completed epoch)`);
  const { tensors, metadata } = readSafetensors(path);
  let saved: CheckpointMetadata;
  try {
    saved = JSON.parse(metadata[METADATA_KEY], decodeNumber) as CheckpointMetadata;
  } catch {
    throw new Error(`${path}: not a findstroke training checkpoint (no readable ${METADATA_KEY} metadata)`);
  }
  if (saved?.format !== FORMAT) throw new Error(`${path}: a checkpoint of format ${saved?.format}, this findstroke reads format ${FORMAT}`);
  const keys = [...new Set([...Object.keys(saved.fingerprint), ...Object.keys(fingerprint)])];
  const differences = keys.flatMap((key) => {
    const [there, here] = [saved.fingerprint[key], fingerprint[key]].map((v) => JSON.stringify(v) ?? 'unset');
    return there === here ? [] : [`${key} ${there} there, ${here} here`];
  });
  if (differences.length)
    throw new Error(`${path}: the checkpoint of a different run (${differences.join('; ')}); resume with the options it was started with`);
  return { path, history: saved.history, tensors, steps: saved.steps };
}

/**
 * Puts a checkpoint's training state into a learner that has not trained yet: weights and buffers, the optimiser's
 * state, the generators' state and the history. A fit with `startEpoch` then trains the epochs after it.
 */
export function restoreCheckpoint(learner: Learner, checkpoint: TrainingCheckpoint): void {
  if (learner.epochsDone) throw new Error(`${checkpoint.path}: a learner that has trained already cannot resume from a checkpoint`);
  const part = (prefix: string) => new Map([...checkpoint.tensors].filter(([key]) => key.startsWith(prefix)).map(([key, t]) => [key.slice(prefix.length), t]));
  try {
    learner.model.loadStateDict(part(MODEL));
    const params = new Map(learner.model.namedParameters());
    const states = new Map<Tensor, ParamState>();
    for (const [key, moment] of part(OPTIMIZER)) {
      // Parameter names have dots, moment names (exp_avg) none.
      const name = key.slice(0, key.lastIndexOf('.'));
      const param = params.get(name);
      if (!param) throw new Error(`optimiser state of ${name}, which the model does not have`);
      const state = states.get(param) ?? { step: checkpoint.steps[name], tensors: {} };
      state.tensors[key.slice(name.length + 1)] = Tensor.fromHost(moment);
      states.set(param, state);
    }
    try {
      learner.optimizer.loadState(states);
    } finally {
      states.forEach((s) => Object.values(s.tensors).forEach((t) => t.dispose()));
    }
    for (const device of devicesOf(learner)) {
      const saved = checkpoint.tensors.get(RNG + device);
      if (!saved) throw new Error(`no generator state of ${device}`);
      const state = Tensor.fromHost(saved);
      setRngState(state, device);
      state.dispose();
    }
  } catch (error) {
    throw new Error(`${checkpoint.path}: cannot resume from it: ${error instanceof Error ? error.message : String(error)}`);
  }
  learner.history.push(...checkpoint.history);
}
