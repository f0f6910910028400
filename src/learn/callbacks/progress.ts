/**
 * Progress on a terminal only, showing the smoothed training loss: a bar per epoch over its batches, or, for a
 * fit whose epochs are one full batch each (the linear study head's steps), one bar over the fit's epochs.
 */
import cliProgress from 'cli-progress';
import type { BatchInfo, Callback, FitPlan } from '../callback.js';
import type { Learner } from '../learner.js';

export class ProgressBar implements Callback {
  #bar: cliProgress.SingleBar | undefined;
  #batches = 0;
  #fullBatch = false;
  #smoothed = 0;

  constructor(private readonly stream: NodeJS.WriteStream = process.stderr) {}

  beforeFit(_: Learner, plan: FitPlan): void {
    this.#batches = plan.batchesPerEpoch;
    // A bar per one-batch epoch would be drawn and cleared once per step.
    this.#fullBatch = plan.batchesPerEpoch === 1;
    if (this.#fullBatch) this.#start(`${plan.phase} [{bar}] {value}/{total} full-batch steps, loss {loss}, {eta_formatted} left`, plan.epochs);
  }

  beforeEpoch(_: Learner, epoch: number): void {
    if (!this.#fullBatch) this.#start(`epoch ${epoch} [{bar}] {value}/{total} batches, loss {loss}, {eta_formatted} left`, this.#batches);
  }

  afterBatch(_: Learner, info: BatchInfo): void {
    if (!this.#bar) return;
    this.#smoothed = this.#smoothed ? 0.9 * this.#smoothed + 0.1 * info.loss : info.loss;
    this.#bar.increment(1, { loss: this.#smoothed.toFixed(4) });
  }

  afterEpoch(): void {
    if (!this.#fullBatch) this.#stop();
  }

  afterFit(): void {
    this.#stop();
  }

  #start(format: string, total: number): void {
    if (!this.stream.isTTY) return;
    this.#smoothed = 0;
    this.#bar = new cliProgress.SingleBar({ stream: this.stream, format, clearOnComplete: true, hideCursor: true }, cliProgress.Presets.shades_classic);
    this.#bar.start(total, 0, { loss: '-' });
  }

  #stop(): void {
    this.#bar?.stop();
    this.#bar = undefined;
  }
}
