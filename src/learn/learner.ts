/**
 * `Learner`: the one training loop, as fastai's Learner: task-agnostic, it trains any model on any batch
 * with any loss. A {@link LearnerTask} says what a batch is, how the model's loss of it is computed and how
 * the parameters split into layer groups; the learner owns the optimiser, the hyper-parameter schedules
 * (`fit`, `fitOneCycle`) and the callbacks that watch or steer training (progress, logging, the NaN guard,
 * saving the best model, early stopping). Image classification is {@link VisionLearner}.
 */
import { Optimizer, nn, tidy, type Tensor } from '../torch/index.js';
import { oneCycle, lrRange, constant, type LearningRates, type Schedule, type OneCycleOptions } from './schedule.js';
import type { Callback, EpochResult, FitPlan } from './callback.js';
import type { Predictions } from './metrics.js';

export interface Metric {
  name: string;
  compute(p: Predictions): number;
}

export interface Validation {
  loss: number;
  metrics: Record<string, number>;
}

/** One fit's view of the task: its training batches and loss (maybe on cached inputs), and its validation. */
export interface FitData<B> {
  /** The batches of epoch `epoch` (counted over all fits), in training order. */
  batches(epoch: number): AsyncIterable<B> | Iterable<B>;
  /** The mean loss of `batch` under the model in training mode (forward included), and how many items it averages. */
  loss(batch: B): { loss: Tensor; items: number };
  /** Frees what `batch` holds outside the step's tensor scope, once the step is done. */
  release?(batch: B): void;
  /** Puts the model in training mode for an epoch (default: `model.train()`). */
  trainMode?(): void;
  /** Validation loss and metrics after an epoch; without it an epoch has none (NaN). */
  validate?(): Promise<Validation>;
  dispose?(): void;
}

/** What a learner trains: fastai's model, data loaders, loss function and splitter in one. */
export interface LearnerTask<B, M extends nn.Module = nn.Module> {
  readonly model: M;
  /** Parameter groups from the lowest layers to the head, each with its own learning rate. */
  layerGroups(): Tensor[][];
  /** Parameters trained without weight decay (default: batch norm and biases, as fastai). */
  noDecay?(): Set<Tensor>;
  /** Training batches per epoch (for the schedules and progress). */
  batchCount(epoch: number): number;
  /** Starts a fit: the batches, loss and validation it runs on. */
  beginFit(): Promise<FitData<B>>;
}

export interface LearnerOptions {
  metrics?: Metric[];
  callbacks?: Callback[];
  /** Decoupled weight decay, not applied to `noDecay` parameters (fastai: 0.01). */
  weightDecay?: number;
}

export interface FitOptions {
  /** Learning-rate schedule per layer group, given each group's peak rate. */
  lrSchedule?: (lr: number) => Schedule;
  momentumSchedule?: Schedule;
  phase?: string;
  /** Validate after each epoch (default true; the lr finder skips it). */
  validate?: boolean;
  /**
   * Epochs of this fit already done, e.g. before a run was interrupted (fastai's start_epoch): the fit trains
   * the others, each at the schedule position and on the batches it would have had. They must be the last of
   * the learner's history (as a checkpoint restores it), since an epoch's number over all fits picks its batches.
   */
  startEpoch?: number;
}

/** Batch norm parameters and biases: what fastai trains without weight decay. */
function batchNormAndBiases(model: nn.Module): Set<Tensor> {
  const noDecay = new Set<Tensor>();
  for (const [, m] of model.namedModules()) if (m instanceof nn.BatchNorm) m.parameters().forEach((p) => noDecay.add(p));
  for (const [name, p] of model.namedParameters()) if (name.endsWith('.bias')) noDecay.add(p);
  return noDecay;
}

export class Learner<B = unknown, M extends nn.Module = nn.Module> {
  readonly task: LearnerTask<B, M>;
  readonly metrics: Metric[];
  readonly callbacks: Callback[];
  readonly history: EpochResult[] = [];
  readonly weightDecay: number;
  #optimizer: Optimizer | undefined;
  /** Optimiser group index -> layer group index. */
  #groupOf: number[] = [];
  #stopReason: string | undefined;

  constructor(task: LearnerTask<B, M>, o: LearnerOptions = {}) {
    this.task = task;
    this.metrics = o.metrics ?? [];
    this.callbacks = o.callbacks ?? [];
    this.weightDecay = o.weightDecay ?? 0.01;
  }

  get model(): M {
    return this.task.model;
  }

  /** Number of epochs trained so far, over all fits. */
  get epochsDone(): number {
    return this.history.length;
  }

  /** Asks the training loop to stop after the current batch (early stopping, NaN, Ctrl-C). */
  requestStop(reason: string): void {
    this.#stopReason ??= reason;
  }

  get stopReason(): string | undefined {
    return this.#stopReason;
  }

  /**
   * The optimiser, created once over every parameter (frozen ones are skipped by the update while they
   * have no gradient) and kept across fits so that Adam's moments carry over, as in fastai. Each layer
   * group becomes two optimiser groups: with weight decay, and without it (see {@link LearnerTask.noDecay}).
   */
  get optimizer(): Optimizer {
    if (this.#optimizer) return this.#optimizer;
    const noDecay = this.task.noDecay?.() ?? batchNormAndBiases(this.model);
    const groups: { params: Tensor[]; weightDecay: number }[] = [];
    this.#groupOf = [];
    this.task.layerGroups().forEach((params, g) => {
      for (const [decay, members] of [
        [true, params.filter((p) => !noDecay.has(p))],
        [false, params.filter((p) => noDecay.has(p))],
      ] as const) {
        if (!members.length) continue;
        groups.push({ params: members, weightDecay: decay ? this.weightDecay : 0 });
        this.#groupOf.push(g);
      }
    });
    this.#optimizer = Optimizer.adamW(groups, { weightDecay: this.weightDecay });
    return this.#optimizer;
  }

  /** Drops the optimiser and its state (Adam moments); the next fit starts a new one. */
  resetOptimizer(): void {
    this.#optimizer?.dispose();
    this.#optimizer = undefined;
  }

  #setHypers(lrs: number[], momentum: number): void {
    const optimizer = this.optimizer;
    this.#groupOf.forEach((g, i) => optimizer.setHyper(i, { lr: lrs[g], momentum }));
  }

  async #emit<K extends keyof Callback>(hook: K, ...args: Parameters<NonNullable<Callback[K]>> extends [Learner, ...infer R] ? R : never): Promise<void> {
    for (const cb of this.callbacks) {
      const fn = cb[hook] as ((l: Learner<B, M>, ...a: unknown[]) => void | Promise<void>) | undefined;
      if (fn) await fn.call(cb, this, ...args);
    }
  }

  /**
   * Trains for `epochs` with per-layer-group learning rates `lr` (see `lrRange`), following the given
   * schedules (constant by default). Hyper-parameters are set before every batch from the progress
   * through this fit, as fastai's ParamScheduler.
   */
  async fit(epochs: number, lr: LearningRates, o: FitOptions = {}): Promise<EpochResult[]> {
    const peaks = lrRange(lr, this.task.layerGroups().length);
    const lrSchedules = peaks.map((peak) => (o.lrSchedule ?? constant)(peak));
    const momentumSchedule = o.momentumSchedule ?? constant(0.9);
    const startEpoch = o.startEpoch ?? 0;
    if (!(Number.isInteger(startEpoch) && startEpoch >= 0 && startEpoch <= Math.min(epochs, this.epochsDone)))
      throw new RangeError(`fit: startEpoch must be 0..${Math.min(epochs, this.epochsDone)} (epochs of the fit, done), got ${startEpoch}`);
    const batches = this.task.batchCount(this.epochsDone - startEpoch);
    const total = epochs * batches;
    const plan: FitPlan = { epochs, startEpoch, batchesPerEpoch: batches, phase: o.phase ?? 'fit' };
    this.#stopReason = undefined;
    const results: EpochResult[] = [];
    await this.#emit('beforeFit', plan);
    const data = await this.task.beginFit();
    let iteration = startEpoch * batches;
    try {
      for (let e = startEpoch; e < epochs && !this.#stopReason; e++) {
        const epoch = this.epochsDone;
        const started = performance.now();
        await this.#emit('beforeEpoch', epoch);
        if (data.trainMode) data.trainMode();
        else this.model.train();
        let lossSum = 0;
        let lossCount = 0;
        for await (const batch of data.batches(epoch)) {
          const pos = iteration / total;
          const lrs = lrSchedules.map((s) => s(pos));
          this.#setHypers(lrs, momentumSchedule(pos));
          const { loss, items } = this.#trainStep(batch, data);
          lossSum += loss * items;
          lossCount += items;
          await this.#emit('afterBatch', { iteration, pos, loss, lr: lrs[lrs.length - 1] });
          iteration++;
          if (this.#stopReason) break;
        }
        const validation = o.validate === false || !data.validate ? { loss: NaN, metrics: {} } : await data.validate();
        const result: EpochResult = {
          epoch,
          phase: plan.phase,
          trainLoss: lossCount ? lossSum / lossCount : NaN,
          validLoss: validation.loss,
          metrics: validation.metrics,
          seconds: (performance.now() - started) / 1000,
        };
        this.history.push(result);
        results.push(result);
        await this.#emit('afterEpoch', result);
      }
    } finally {
      data.dispose?.();
    }
    await this.#emit('afterFit');
    return results;
  }

  /** One optimiser step on `batch`: its loss, back-propagated, then the update. */
  #trainStep(batch: B, data: FitData<B>): { loss: number; items: number } {
    const optimizer = this.optimizer;
    return tidy(() => {
      optimizer.zeroGrad();
      const { loss, items } = data.loss(batch);
      loss.backward();
      for (const cb of this.callbacks) cb.afterBackward?.(this, loss);
      optimizer.step();
      data.release?.(batch);
      return { loss: loss.item(), items };
    });
  }

  /** fastai's fit_one_cycle: cosine warm-up to `lrMax` then annealing, momentum cycled inversely. */
  fitOneCycle(epochs: number, lrMax: LearningRates, o: OneCycleOptions & Pick<FitOptions, 'phase' | 'startEpoch'> = {}): Promise<EpochResult[]> {
    const momentum = oneCycle(1, o).momentum;
    return this.fit(epochs, lrMax, {
      lrSchedule: (peak) => oneCycle(peak, o).lr,
      momentumSchedule: momentum,
      phase: o.phase ?? 'one-cycle',
      startEpoch: o.startEpoch,
    });
  }
}
