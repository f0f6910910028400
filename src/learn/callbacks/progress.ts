/** A progress bar per epoch (on a terminal only), showing the smoothed training loss. */
import cliProgress from 'cli-progress';
import type { BatchInfo, Callback, FitPlan } from '../callback.js';
import type { Learner } from '../learner.js';

export class ProgressBar implements Callback {
  #bar: cliProgress.SingleBar | undefined;
  #batches = 0;
  #smoothed = 0;

  constructor(private readonly stream: NodeJS.WriteStream = process.stderr) {}

  beforeFit(_: Learner, plan: FitPlan): void {
    this.#batches = plan.batchesPerEpoch;
  }

  beforeEpoch(_: Learner, epoch: number): void {
    if (!this.stream.isTTY) return;
    this.#smoothed = 0;
    this.#bar = new cliProgress.SingleBar(
      {
        stream: this.stream,
        format: `epoch ${epoch} [{bar}] {value}/{total} batches, loss {loss}, {eta_formatted} left`,
        clearOnComplete: true,
        hideCursor: true,
      },
      cliProgress.Presets.shades_classic,
    );
    this.#bar.start(this.#batches, 0, { loss: '-' });
  }

  afterBatch(_: Learner, info: BatchInfo): void {
    if (!this.#bar) return;
    this.#smoothed = this.#smoothed ? 0.9 * this.#smoothed + 0.1 * info.loss : info.loss;
    this.#bar.increment(1, { loss: this.#smoothed.toFixed(4) });
  }

  afterEpoch(): void {
    this.#bar?.stop();
    this.#bar = undefined;
  }
}
