/**
 * Callbacks observe and steer training, as fastai's: the learner calls each hook in order, and a
 * callback may stop training by calling `learner.requestStop(reason)`.
 */
import type { Tensor } from '../torch/index.js';
import type { DataLoader } from '../data/loader.js';
import type { Learner } from './learner.js';
import type { LoaderPredictions } from './vision-learner.js';

/** What a fit is about to do. */
export interface FitPlan {
  epochs: number;
  /** Epochs of the fit done before it started (a resumed run's); it trains the others. */
  startEpoch: number;
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
  /**
   * The step's gradients are ready (after backward, before the optimiser's step); a callback may change them,
   * and the step's loss, in place (data-parallel training averages both over the processes).
   */
  afterBackward?(learner: Learner, loss: Tensor): void;
  afterBatch?(learner: Learner, info: BatchInfo): void | Promise<void>;
  afterEpoch?(learner: Learner, result: EpochResult): void | Promise<void>;
  afterFit?(learner: Learner): void | Promise<void>;
  /**
   * This process's predictions of `loader` are complete; a callback may return them joined with other
   * processes' (data-parallel validation, so that every process computes the same metrics).
   */
  gatherPredictions?(preds: LoaderPredictions, loader: DataLoader): LoaderPredictions;
}
