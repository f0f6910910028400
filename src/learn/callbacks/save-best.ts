/**
 * Keeps a copy of the weights of the best epoch so far (by the monitored value) and puts them back when
 * training ends — also when it ends early (Ctrl-C, early stopping, NaN) — as fastai's SaveModelCallback.
 */
import { noGrad, type Tensor } from '../../torch/index.js';
import type { Callback, EpochResult } from '../callback.js';
import type { Learner } from '../learner.js';
import { monitoredValue, type Monitor } from './monitor.js';

export class SaveBest implements Callback {
  #best = NaN;
  #weights: Map<string, Tensor> | undefined;
  /** Epoch whose weights are kept. */
  bestEpoch = -1;

  constructor(readonly monitor: Monitor = { name: 'valid_loss', mode: 'min' }) {}

  get bestValue(): number {
    return this.#best;
  }

  afterEpoch(learner: Learner, result: EpochResult): void {
    const value = monitoredValue(result, this.monitor);
    if (Number.isNaN(value)) return;
    const better = Number.isNaN(this.#best) || (this.monitor.mode === 'min' ? value < this.#best : value > this.#best);
    if (!better) return;
    this.#best = value;
    this.bestEpoch = result.epoch;
    const previous = this.#weights;
    this.#weights = new Map(noGrad(() => [...learner.model.stateDict()].map(([k, t]) => [k, t.detach().clone()] as [string, Tensor])));
    previous?.forEach((t) => t.dispose());
  }

  afterFit(learner: Learner): void {
    const last = learner.history[learner.history.length - 1];
    if (this.#weights && last && last.epoch !== this.bestEpoch) learner.model.loadStateDict(this.#weights);
  }
}
