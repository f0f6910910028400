/**
 * `Learner`: trains a classifier on data loaders, as fastai's Learner. The high-level `fineTune` is
 * built from `fitOneCycle`, which is built from `fit` with schedules; everything that watches or steers
 * training (progress, logging, saving the best model, early stopping) is a callback.
 */
import { Tensor, F, Optimizer, nn, tidy, inferenceMode, withAutocast, preferredMemoryFormat, type Device, type MemoryFormat } from '../torch/index.js';
import type { DataLoader, HostBatch } from '../data/loader.js';
import { FeatureStore, type TensorBatch } from './feature-store.js';
import { oneCycle, lrRange, constant, type Schedule, type OneCycleOptions } from './schedule.js';
import type { Callback, EpochResult, FitPlan } from './callback.js';
import type { Predictions } from './metrics.js';
import { concatFloat32 } from './host-arrays.js';

/** What the learner needs of a model: a body and a head, layer groups, and freezing. */
export interface TrainableModel extends nn.Module {
  readonly body: nn.Module;
  readonly head: nn.Module;
  /** The body's output for an input batch (what the head consumes). */
  features(x: Tensor): Tensor;
  /** Parameter groups from the lowest layers to the head, for discriminative learning rates. */
  layerGroups(): Tensor[][];
  freeze(options?: { trainBatchNorm?: boolean }): this;
  /** Freezes the layer groups below `group` (fastai's freeze_to). */
  freezeTo(group: number, options?: { trainBatchNorm?: boolean }): this;
  unfreeze(): this;
}

export interface DataLoaders {
  train: DataLoader;
  valid: DataLoader;
  classes: string[];
}

export interface Metric {
  name: string;
  compute(p: Predictions): number;
}

export interface LearnerOptions {
  metrics?: Metric[];
  callbacks?: Callback[];
  /** Decoupled weight decay, not applied to batch-norm parameters and biases (fastai: 0.01). */
  weightDecay?: number;
  /** Per-class loss weights, for imbalanced data. */
  classWeights?: number[];
  labelSmoothing?: number;
  /** Keep body batch norm trainable while frozen (fastai's train_bn, default true). */
  trainBatchNorm?: boolean;
  /** Train with bfloat16 autocast. */
  bf16?: boolean;
  device?: Device;
  /** The layout the model and its input batches are put into (default: the device's fastest, see preferredMemoryFormat). */
  memoryFormat?: MemoryFormat;
}

export interface FitOptions {
  /** Learning-rate schedule per layer group, given each group's peak rate. */
  lrSchedule?: (lr: number) => Schedule;
  momentumSchedule?: Schedule;
  phase?: string;
  /** Validate after each epoch (default true; the lr finder skips it). */
  validate?: boolean;
}

export interface FineTuneOptions {
  /** Epochs with the body frozen (default 1). */
  freezeEpochs?: number;
  /** Ratio of the head's learning rate to the lowest layers' in the unfrozen phase (default 100). */
  lrMult?: number;
  pctStart?: number;
  div?: number;
  /**
   * The first layer group the unfrozen phase trains (default 0, fastai: all). 1 leaves the stem to
   * layer2 of a ResNet fixed, batch norm weights included, so nothing is back-propagated through them
   * (ResNet-50, 128 px, 2 cores: a step costs 0.56-0.67 of a full one, a whole epoch about 0.75), which
   * pays for more unfrozen epochs in about the same time. Those layers get fastai's smallest rate
   * (base / 100) anyway.
   */
  trainFrom?: number;
}

/** Predictions of a loader with per-item losses, in loader order. */
export interface LoaderPredictions extends Predictions {
  /** Position of each row in the loader's item list. */
  items: number[];
  losses: Float32Array;
}

export class Learner {
  readonly model: TrainableModel;
  readonly dls: DataLoaders;
  readonly metrics: Metric[];
  readonly callbacks: Callback[];
  readonly history: EpochResult[] = [];
  readonly options: Required<Omit<LearnerOptions, 'metrics' | 'callbacks' | 'classWeights' | 'device'>> & Pick<LearnerOptions, 'classWeights' | 'device'>;
  #optimizer: Optimizer | undefined;
  /** Optimiser group index -> layer group index. */
  #groupOf: number[] = [];
  #stopReason: string | undefined;
  #classWeights: Tensor | null;
  /** Use the frozen-body fast path where it is exact (see #frozenFeatures); off only to measure it. */
  useFeatureCache = true;
  /** Whether the last fit trained the head on cached body features. */
  usedFeatureCache = false;

  constructor(model: TrainableModel, dls: DataLoaders, o: LearnerOptions = {}) {
    this.model = model;
    this.dls = dls;
    this.metrics = o.metrics ?? [];
    this.callbacks = o.callbacks ?? [];
    this.options = { weightDecay: 0.01, labelSmoothing: 0, trainBatchNorm: true, bf16: false, memoryFormat: preferredMemoryFormat(o.device), ...o };
    if (o.device) model.to(o.device);
    // Before the optimiser exists, so that Adam's moments are created in the parameters' layout.
    model.toMemoryFormat(this.options.memoryFormat);
    if (o.classWeights && o.classWeights.length !== dls.classes.length) {
      throw new Error(`${o.classWeights.length} class weights for ${dls.classes.length} classes`);
    }
    this.#classWeights = o.classWeights ? Tensor.of(o.classWeights).to(o.device ?? 'cpu') : null;
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

  freeze(): this {
    this.model.freeze({ trainBatchNorm: this.options.trainBatchNorm });
    return this;
  }

  unfreeze(): this {
    this.model.unfreeze();
    return this;
  }

  /**
   * The optimiser, created once over every parameter (frozen ones are skipped by the update while they
   * have no gradient) and kept across fits so that Adam's moments carry over, as in fastai. Each layer
   * group becomes two optimiser groups: with weight decay, and without it for batch norm and biases.
   */
  get optimizer(): Optimizer {
    if (this.#optimizer) return this.#optimizer;
    const noDecay = new Set<Tensor>();
    for (const [, m] of this.model.namedModules()) if (m instanceof nn.BatchNorm) m.parameters().forEach((p) => noDecay.add(p));
    for (const [name, p] of this.model.namedParameters()) if (name.endsWith('.bias')) noDecay.add(p);
    const groups: { params: Tensor[]; weightDecay: number }[] = [];
    this.#groupOf = [];
    this.model.layerGroups().forEach((params, g) => {
      for (const [decay, members] of [
        [true, params.filter((p) => !noDecay.has(p))],
        [false, params.filter((p) => noDecay.has(p))],
      ] as const) {
        if (!members.length) continue;
        groups.push({ params: members, weightDecay: decay ? this.options.weightDecay : 0 });
        this.#groupOf.push(g);
      }
    });
    this.#optimizer = Optimizer.adamW(groups, { weightDecay: this.options.weightDecay });
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

  #loss(logits: Tensor, targets: Tensor, reduction: 'mean' | 'sum' | 'none' = 'mean'): Tensor {
    return F.crossEntropy(logits, targets, { weight: this.#classWeights, labelSmoothing: this.options.labelSmoothing, reduction });
  }

  #inputs(batch: HostBatch): { x: Tensor; y: Tensor } {
    const { device = 'cpu', memoryFormat } = this.options;
    return tidy(() => ({
      x: Tensor.fromHost({ dtype: 'float32', shape: batch.shape, data: batch.images }).to(device).contiguous(memoryFormat),
      y: Tensor.of(batch.labels, [batch.labels.length], 'int64').to(device),
    }));
  }

  async #emit<K extends keyof Callback>(hook: K, ...args: Parameters<NonNullable<Callback[K]>> extends [Learner, ...infer R] ? R : never): Promise<void> {
    for (const cb of this.callbacks) {
      const fn = cb[hook] as ((l: Learner, ...a: unknown[]) => void | Promise<void>) | undefined;
      if (fn) await fn.call(cb, this, ...args);
    }
  }

  /**
   * Trains for `epochs` with per-layer-group learning rates `lr` (see `lrRange`), following the given
   * schedules (constant by default). Hyper-parameters are set before every batch from the progress
   * through this fit, as fastai's ParamScheduler.
   */
  async fit(epochs: number, lr: number | [number] | [number, number], o: FitOptions = {}): Promise<EpochResult[]> {
    const groupCount = this.model.layerGroups().length;
    const peaks = lrRange(lr, groupCount);
    const lrSchedules = peaks.map((peak) => (o.lrSchedule ?? constant)(peak));
    const momentumSchedule = o.momentumSchedule ?? constant(0.9);
    const batches = this.dls.train.batchCount(this.epochsDone);
    const total = epochs * batches;
    const plan: FitPlan = { epochs, batchesPerEpoch: batches, phase: o.phase ?? 'fit' };
    this.#stopReason = undefined;
    const results: EpochResult[] = [];
    await this.#emit('beforeFit', plan);
    const features = await this.#frozenFeatures();
    this.usedFeatureCache = features !== undefined;
    let iteration = 0;
    try {
      for (let e = 0; e < epochs && !this.#stopReason; e++) {
        const epoch = this.epochsDone;
        const started = performance.now();
        await this.#emit('beforeEpoch', epoch);
        this.#trainMode();
        let lossSum = 0;
        let lossCount = 0;
        for await (const batch of features ? features.train.batches(this.dls.train.batchItems(epoch)) : this.#batches(this.dls.train, epoch)) {
          const pos = iteration / total;
          const lrs = lrSchedules.map((s) => s(pos));
          this.#setHypers(lrs, momentumSchedule(pos));
          const loss = this.#trainStep(batch, features ? (x) => this.model.head.forward(x) : (x) => this.model.forward(x));
          lossSum += loss * batch.labels.length;
          lossCount += batch.labels.length;
          await this.#emit('afterBatch', { iteration, pos, loss, lr: lrs[lrs.length - 1] });
          iteration++;
          if (this.#stopReason) break;
        }
        const validation = o.validate === false ? { loss: NaN, metrics: {} } : await this.#validate(features?.valid);
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
      features?.dispose();
    }
    await this.#emit('afterFit');
    return results;
  }

  /** Training mode, except a body whose every parameter is frozen: it computes as in evaluation. */
  #trainMode(): void {
    this.model.train();
    if (this.#bodyFixed()) this.model.body.eval();
  }

  #bodyFixed(): boolean {
    return this.model.body.parameters().every((p) => !p.requiresGrad);
  }

  /**
   * The frozen-body fast path: when no body parameter trains (batch norm included) and neither loader
   * augments, the body's output for an item is the same in every epoch, so it is computed once per fit
   * and the head trains on it — exactly the same numbers as the full forward pass, without its cost.
   */
  async #frozenFeatures(): Promise<{ train: FeatureStore; valid: FeatureStore; dispose(): void } | undefined> {
    if (!this.useFeatureCache || !this.#bodyFixed() || !this.dls.train.deterministic || !this.dls.valid.deterministic) return undefined;
    this.model.eval();
    const compute = (x: Tensor) => (this.options.bf16 ? withAutocast(() => this.model.features(x)).float() : this.model.features(x));
    const train = await FeatureStore.compute(this.#tensorBatches(this.dls.train.everyItem()), this.dls.train.size, compute);
    const valid = await FeatureStore.compute(this.#tensorBatches(this.dls.valid.everyItem()), this.dls.valid.size, compute);
    return { train, valid, dispose: () => (train.dispose(), valid.dispose()) };
  }

  #batches(loader: DataLoader, epoch: number): AsyncGenerator<TensorBatch> {
    return this.#tensorBatches(loader.epoch(epoch));
  }

  async *#tensorBatches(batches: AsyncIterable<HostBatch>): AsyncGenerator<TensorBatch> {
    for await (const batch of batches) yield { ...this.#inputs(batch), labels: batch.labels, items: batch.items };
  }

  #trainStep(batch: TensorBatch, forward: (x: Tensor) => Tensor): number {
    const optimizer = this.optimizer;
    return tidy(() => {
      const { x, y } = batch;
      optimizer.zeroGrad();
      const lossOf = () => this.#loss(forward(x), y);
      const loss = this.options.bf16 ? withAutocast(lossOf) : lossOf();
      loss.backward();
      for (const cb of this.callbacks) cb.afterBackward?.(this, loss);
      optimizer.step();
      x.dispose();
      y.dispose();
      return loss.item();
    });
  }

  /** fastai's fit_one_cycle: cosine warm-up to `lrMax` then annealing, momentum cycled inversely. */
  fitOneCycle(epochs: number, lrMax: number | [number] | [number, number], o: OneCycleOptions & { phase?: string } = {}): Promise<EpochResult[]> {
    const momentum = oneCycle(1, o).momentum;
    return this.fit(epochs, lrMax, { lrSchedule: (peak) => oneCycle(peak, o).lr, momentumSchedule: momentum, phase: o.phase ?? 'one-cycle' });
  }

  /**
   * fastai's fine_tune: freeze the body, one-cycle for `freezeEpochs` at `baseLr` (pct_start 0.99),
   * then halve the base rate, unfreeze, and one-cycle for `epochs` with discriminative rates from
   * baseLr/lrMult (lowest layers) to baseLr (head), pct_start 0.3 and div 5. With `trainFrom` the
   * unfrozen phase leaves the layer groups below it fixed (see {@link FineTuneOptions.trainFrom}).
   */
  async fineTune(
    epochs: number,
    baseLr = 2e-3,
    { freezeEpochs = 1, lrMult = 100, pctStart = 0.3, div = 5, trainFrom = 0 }: FineTuneOptions = {},
  ): Promise<EpochResult[]> {
    const bodyGroups = this.model.layerGroups().length - 1;
    if (!(Number.isInteger(trainFrom) && trainFrom >= 0 && trainFrom <= bodyGroups))
      throw new RangeError(`fineTune: trainFrom must be a layer group of the body, 0..${bodyGroups}, got ${trainFrom}`);
    this.freeze();
    const frozen = await this.fitOneCycle(freezeEpochs, [baseLr], { pctStart: 0.99, phase: 'frozen' });
    if (this.#stopReason) return frozen;
    const lr = baseLr / 2;
    if (trainFrom > 0) this.model.freezeTo(trainFrom, { trainBatchNorm: false });
    else this.unfreeze();
    const unfrozen = await this.fitOneCycle(epochs, [lr / lrMult, lr], { pctStart, div, phase: 'unfrozen' });
    return [...frozen, ...unfrozen];
  }

  /** Predictions of `loader` (validation by default) in evaluation mode, with per-item losses. */
  getPreds(loader: DataLoader = this.dls.valid): Promise<LoaderPredictions> {
    return this.#predict(loader, this.#batches(loader, 0), (x) => this.model.forward(x));
  }

  async #predict(loader: DataLoader, batches: AsyncIterable<TensorBatch>, forward: (x: Tensor) => Tensor): Promise<LoaderPredictions> {
    const classes = this.dls.classes.length;
    const probs: Float32Array[] = [];
    const losses: Float32Array[] = [];
    const targets: number[] = [];
    const items: number[] = [];
    this.model.eval();
    for await (const batch of batches) {
      tidy(() =>
        inferenceMode(() => {
          const logits = this.options.bf16 ? withAutocast(() => forward(batch.x)).float() : forward(batch.x);
          probs.push(logits.softmax(1).floats());
          losses.push(this.#loss(logits, batch.y, 'none').floats());
        }),
      );
      batch.x.dispose();
      batch.y.dispose();
      targets.push(...batch.labels);
      items.push(...batch.items);
    }
    const preds: LoaderPredictions = { probs: concatFloat32(probs), targets: Int32Array.from(targets), classes, items, losses: concatFloat32(losses) };
    return this.callbacks.reduce((gathered, cb) => cb.gatherPredictions?.(this, gathered, loader) ?? gathered, preds);
  }

  /** Validation loss and metrics. */
  async validate(loader: DataLoader = this.dls.valid): Promise<{ loss: number; metrics: Record<string, number> }> {
    return this.#scores(await this.getPreds(loader));
  }

  async #validate(cached: FeatureStore | undefined): Promise<{ loss: number; metrics: Record<string, number> }> {
    if (!cached) return this.validate();
    return this.#scores(await this.#predict(this.dls.valid, cached.batches(this.dls.valid.batchItems(0)), (x) => this.model.head.forward(x)));
  }

  #scores(preds: LoaderPredictions): { loss: number; metrics: Record<string, number> } {
    const loss = preds.losses.reduce((a, b) => a + b, 0) / preds.losses.length;
    return { loss, metrics: Object.fromEntries(this.metrics.map((m) => [m.name, m.compute(preds)])) };
  }
}
