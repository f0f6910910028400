/** Callbacks that stop training: on a NaN loss, on Ctrl-C, and when the monitored value stops improving. */
import type { BatchInfo, Callback, EpochResult } from '../callback.js';
import type { Learner } from '../learner.js';
import { monitoredValue, type Monitor } from './monitor.js';

/** Stops as soon as the training loss is NaN or infinite (fastai's TerminateOnNaNCallback). */
export class StopOnNaN implements Callback {
  afterBatch(learner: Learner, info: BatchInfo): void {
    if (!Number.isFinite(info.loss)) learner.requestStop(`training loss became ${info.loss} at iteration ${info.iteration}`);
  }
}

/** Turns Ctrl-C (SIGINT) into a clean stop after the current batch; a second Ctrl-C exits at once. */
export class StopOnInterrupt implements Callback {
  #handler: (() => void) | undefined;

  beforeFit(learner: Learner): void {
    this.#handler = () => {
      if (learner.stopReason) process.exit(130);
      learner.requestStop('interrupted (Ctrl-C)');
      console.error('\nstopping after this batch (Ctrl-C again to quit at once)');
    };
    process.on('SIGINT', this.#handler);
  }

  afterFit(): void {
    if (this.#handler) process.off('SIGINT', this.#handler);
    this.#handler = undefined;
  }
}

/** Stops when the monitored value has not improved for `patience` epochs. */
export class EarlyStopping implements Callback {
  #best = NaN;
  #waited = 0;

  constructor(
    readonly monitor: Monitor = { name: 'valid_loss', mode: 'min' },
    readonly patience = 3,
    readonly minDelta = 0,
  ) {}

  afterEpoch(learner: Learner, result: EpochResult): void {
    const value = monitoredValue(result, this.monitor);
    const improved = Number.isNaN(this.#best) || (this.monitor.mode === 'min' ? value < this.#best - this.minDelta : value > this.#best + this.minDelta);
    if (improved) {
      this.#best = value;
      this.#waited = 0;
    } else if (++this.#waited >= this.patience) {
      learner.requestStop(`${this.monitor.name} did not improve for ${this.patience} epochs (best ${this.#best.toFixed(4)})`);
    }
  }
}
