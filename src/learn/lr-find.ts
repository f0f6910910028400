/**
 * fastai's learning-rate finder: trains with an exponentially growing learning rate, recording the
 * smoothed loss, stops once the loss diverges, puts the weights back, and suggests a rate by the
 * "valley" rule (the middle of the longest stretch of falling loss). The optimiser starts afresh after it.
 */
import { noGrad, type Tensor } from '../torch/index.js';
import { exponential, constant } from './schedule.js';
import type { BatchInfo, Callback } from './callback.js';
import type { Learner } from './learner.js';
import type { VisionLearner } from './vision-learner.js';

export interface LrFindResult {
  lrs: number[];
  /** Exponentially smoothed (beta 0.98, debiased) training losses. */
  losses: number[];
  /** Suggested learning rate (valley rule). */
  suggestion: number;
}

class LossTracker implements Callback {
  readonly lrs: number[] = [];
  readonly losses: number[] = [];
  #average = 0;
  #best = Infinity;

  constructor(private readonly iterations: number) {}

  afterBatch(learner: Learner, info: BatchInfo): void {
    this.#average = 0.98 * this.#average + 0.02 * info.loss;
    const smoothed = this.#average / (1 - 0.98 ** (info.iteration + 1));
    this.lrs.push(info.lr);
    this.losses.push(smoothed);
    this.#best = Math.min(this.#best, smoothed);
    if (!Number.isFinite(smoothed) || smoothed > 4 * this.#best) learner.requestStop('loss diverged');
    else if (info.iteration + 1 >= this.iterations) learner.requestStop('sweep done');
  }
}

/** fastai's valley rule: in the longest run of decreasing losses, the rate half-way through its middle third. */
export function valley(lrs: number[], losses: number[]): number {
  const n = losses.length;
  const run = new Array<number>(n).fill(1);
  let maxEnd = 0;
  for (let i = 1; i < n; i++) {
    for (let j = 0; j < i; j++) if (losses[i] < losses[j] && run[i] < run[j] + 1) run[i] = run[j] + 1;
    if (run[maxEnd] < run[i]) maxEnd = i;
  }
  const maxStart = maxEnd - run[maxEnd];
  const sections = (maxEnd - maxStart) / 3;
  const index = Math.max(0, maxStart + Math.floor(sections) + Math.floor(sections / 2));
  return lrs[Math.min(index, n - 1)];
}

/**
 * Sweeps the learning rate from `start` to `end` over at most `iterations` batches (several epochs if
 * needed). The model's weights and the learner's history are restored afterwards.
 */
export async function lrFind(learner: VisionLearner, { start = 1e-7, end = 10, iterations = 100 } = {}): Promise<LrFindResult> {
  const saved = new Map(noGrad(() => [...learner.model.stateDict()].map(([k, t]) => [k, t.detach().clone()] as [string, Tensor])));
  const historyLength = learner.history.length;
  const tracker = new LossTracker(iterations);
  learner.callbacks.push(tracker);
  try {
    const perEpoch = learner.dls.train.batchCount();
    const epochs = Math.ceil(iterations / perEpoch);
    const fraction = Math.min(1, (epochs * perEpoch) / iterations);
    // The schedule spans the whole fit; scale it so that `end` is reached after `iterations` batches.
    await learner.fit(epochs, 1, {
      lrSchedule: () => (pos) => exponential(start, end)(Math.min(1, pos * fraction)),
      momentumSchedule: constant(0.9),
      phase: 'lr_find',
      validate: false,
    });
  } finally {
    learner.callbacks.splice(learner.callbacks.indexOf(tracker), 1);
    learner.history.splice(historyLength);
    learner.model.loadStateDict(saved);
    saved.forEach((t) => t.dispose());
    learner.resetOptimizer();
  }
  // As fastai, ignore the first tenth of the sweep and its last points when suggesting.
  const from = Math.floor(tracker.lrs.length / 10);
  const to = Math.max(from + 1, tracker.lrs.length - 5);
  return { lrs: tracker.lrs, losses: tracker.losses, suggestion: valley(tracker.lrs.slice(from, to), tracker.losses.slice(from, to)) };
}
