/**
 * Callbacks observe and steer training, as fastai's: the learner calls each hook in order, and a
 * callback may stop training by calling `learner.requestStop(reason)`.
 */
import type { Learner } from './learner.js';

/** What a fit is about to do. */
export interface FitPlan {
  epochs: number;
  batchesPerEpoch: number;
  /** Human-readable phase name, e.g. 'frozen' or 'unfrozen'. */
  phase: string;
}

/** One row of the results table. */
export interface EpochResult {
  /** Epoch number within the whole training (all phases), from 0. */
  epoch: number;
  phase: string;
  trainLoss: number;
  validLoss: number;
  metrics: Record<string, number>;
  seconds: number;
}

export interface BatchInfo {
  /** Iteration within the current fit. */
  iteration: number;
  /** Progress of the current fit in [0, 1). */
  pos: number;
  loss: number;
  lr: number;
}

export interface Callback {
  beforeFit?(learner: Learner, plan: FitPlan): void | Promise<void>;
  beforeEpoch?(learner: Learner, epoch: number): void | Promise<void>;
  afterBatch?(learner: Learner, info: BatchInfo): void | Promise<void>;
  afterEpoch?(learner: Learner, result: EpochResult): void | Promise<void>;
  afterFit?(learner: Learner): void | Promise<void>;
}
