/**
 * `VisionLearner`: the {@link Learner} of an image classifier, as fastai's vision_learner: image batches,
 * cross-entropy, a body and a head with layer groups and freezing. The high-level `fineTune` is built from
 * `fitOneCycle`, which is built from `fit` with schedules.
 */
import { Tensor, F, tidy, inferenceMode, withAutocast, preferredMemoryFormat, type Device, type MemoryFormat, type nn } from '../torch/index.js';
import type { DataLoader, HostBatch } from '../data/loader.js';
import { FeatureStore, type TensorBatch } from './feature-store.js';
import { Learner, type FitData, type LearnerOptions, type LearnerTask, type Metric, type Validation } from './learner.js';
import type { Callback, EpochResult } from './callback.js';
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

export interface VisionLearnerOptions extends LearnerOptions {
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
  /** Epochs of the fine-tune already done, frozen ones first, e.g. by a run resumed from its checkpoint (see FitOptions.startEpoch). */
  startEpoch?: number;
}

/** Predictions of a loader with per-item losses, in loader order. */
export interface LoaderPredictions extends Predictions {
  /** Position of each row in the loader's item list. */
  items: number[];
  losses: Float32Array;
}

type ResolvedOptions = Required<Pick<VisionLearnerOptions, 'labelSmoothing' | 'trainBatchNorm' | 'bf16' | 'memoryFormat'>> &
  Pick<VisionLearnerOptions, 'classWeights' | 'device'>;

/** Image classification as a learner task: loaders of images, cross-entropy, the frozen-body fast path. */
class ImageClassification implements LearnerTask<TensorBatch, TrainableModel> {
  readonly #classWeights: Tensor | null;
  /** Use the frozen-body fast path where it is exact (see #frozenFeatures); off only to measure it. */
  useFeatureCache = true;
  /** Whether the last fit trained the head on cached body features. */
  usedFeatureCache = false;

  constructor(
    readonly model: TrainableModel,
    readonly dls: DataLoaders,
    readonly options: ResolvedOptions,
    readonly metrics: readonly Metric[],
    /** The learner's callbacks, which may join predictions with other processes' (see Callback.gatherPredictions). */
    readonly callbacks: readonly Callback[],
  ) {
    if (options.device) model.to(options.device);
    // Before the optimiser exists, so that Adam's moments are created in the parameters' layout.
    model.toMemoryFormat(options.memoryFormat);
    if (options.classWeights && options.classWeights.length !== dls.classes.length) {
      throw new Error(`${options.classWeights.length} class weights for ${dls.classes.length} classes`);
    }
    this.#classWeights = options.classWeights ? Tensor.of(options.classWeights).to(options.device ?? 'cpu') : null;
  }

  layerGroups(): Tensor[][] {
    return this.model.layerGroups();
  }

  batchCount(epoch: number): number {
    return this.dls.train.batchCount(epoch);
  }

  async beginFit(): Promise<FitData<TensorBatch>> {
    const features = await this.#frozenFeatures();
    this.usedFeatureCache = features !== undefined;
    const forward = features ? (x: Tensor) => this.model.head.forward(x) : (x: Tensor) => this.model.forward(x);
    return {
      batches: (epoch) => (features ? features.train.batches(this.dls.train.batchItems(epoch)) : this.batches(this.dls.train, epoch)),
      loss: (batch) => {
        const lossOf = () => this.loss(forward(batch.x), batch.y);
        return { loss: this.options.bf16 ? withAutocast(lossOf) : lossOf(), items: batch.labels.length };
      },
      release: (batch) => {
        batch.x.dispose();
        batch.y.dispose();
      },
      trainMode: () => {
        this.model.train();
        if (this.#bodyFixed()) this.model.body.eval();
      },
      validate: async () =>
        this.scores(
          await (features
            ? this.predict(this.dls.valid, features.valid.batches(this.dls.valid.batchItems(0)), (x) => this.model.head.forward(x))
            : this.predict(this.dls.valid, this.batches(this.dls.valid, 0), (x) => this.model.forward(x))),
        ),
      dispose: () => features?.dispose(),
    };
  }

  loss(logits: Tensor, targets: Tensor, reduction: 'mean' | 'sum' | 'none' = 'mean'): Tensor {
    return F.crossEntropy(logits, targets, { weight: this.#classWeights, labelSmoothing: this.options.labelSmoothing, reduction });
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

  batches(loader: DataLoader, epoch: number): AsyncGenerator<TensorBatch> {
    return this.#tensorBatches(loader.epoch(epoch));
  }

  async *#tensorBatches(batches: AsyncIterable<HostBatch>): AsyncGenerator<TensorBatch> {
    const { device = 'cpu', memoryFormat } = this.options;
    for await (const batch of batches) {
      const { x, y } = tidy(() => ({
        x: Tensor.fromHost({ dtype: 'float32', shape: batch.shape, data: batch.images }).to(device).contiguous(memoryFormat),
        y: Tensor.of(batch.labels, [batch.labels.length], 'int64').to(device),
      }));
      yield { x, y, labels: batch.labels, items: batch.items };
    }
  }

  /** Predictions of `batches` (of `loader`) in evaluation mode, with per-item losses, gathered by the callbacks. */
  async predict(loader: DataLoader, batches: AsyncIterable<TensorBatch>, forward: (x: Tensor) => Tensor): Promise<LoaderPredictions> {
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
          losses.push(this.loss(logits, batch.y, 'none').floats());
        }),
      );
      batch.x.dispose();
      batch.y.dispose();
      targets.push(...batch.labels);
      items.push(...batch.items);
    }
    const preds: LoaderPredictions = { probs: concatFloat32(probs), targets: Int32Array.from(targets), classes, items, losses: concatFloat32(losses) };
    return this.callbacks.reduce((gathered, cb) => cb.gatherPredictions?.(gathered, loader) ?? gathered, preds);
  }

  /** Validation loss and metrics of `preds`. */
  scores(preds: LoaderPredictions): Validation {
    const loss = preds.losses.reduce((a, b) => a + b, 0) / preds.losses.length;
    return { loss, metrics: Object.fromEntries(this.metrics.map((m) => [m.name, m.compute(preds)])) };
  }
}

export class VisionLearner extends Learner<TensorBatch, TrainableModel> {
  readonly dls: DataLoaders;
  readonly options: ResolvedOptions;
  readonly #task: ImageClassification;

  constructor(model: TrainableModel, dls: DataLoaders, o: VisionLearnerOptions = {}) {
    // An option given as undefined (passed through by a caller) keeps its default.
    const options: ResolvedOptions = {
      ...o,
      labelSmoothing: o.labelSmoothing ?? 0,
      trainBatchNorm: o.trainBatchNorm ?? true,
      bf16: o.bf16 ?? false,
      memoryFormat: o.memoryFormat ?? preferredMemoryFormat(o.device),
    };
    const metrics = o.metrics ?? [];
    const callbacks = o.callbacks ?? [];
    const task = new ImageClassification(model, dls, options, metrics, callbacks);
    super(task, { ...o, metrics, callbacks });
    this.dls = dls;
    this.options = options;
    this.#task = task;
  }

  /** Use the frozen-body fast path where it is exact; off only to measure it. */
  get useFeatureCache(): boolean {
    return this.#task.useFeatureCache;
  }

  set useFeatureCache(on: boolean) {
    this.#task.useFeatureCache = on;
  }

  /** Whether the last fit trained the head on cached body features. */
  get usedFeatureCache(): boolean {
    return this.#task.usedFeatureCache;
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
   * fastai's fine_tune: freeze the body, one-cycle for `freezeEpochs` at `baseLr` (pct_start 0.99),
   * then halve the base rate, unfreeze, and one-cycle for `epochs` with discriminative rates from
   * baseLr/lrMult (lowest layers) to baseLr (head), pct_start 0.3 and div 5. With `trainFrom` the
   * unfrozen phase leaves the layer groups below it fixed (see {@link FineTuneOptions.trainFrom}). With
   * `startEpoch` it trains only the epochs after those.
   */
  async fineTune(
    epochs: number,
    baseLr = 2e-3,
    { freezeEpochs = 1, lrMult = 100, pctStart = 0.3, div = 5, trainFrom = 0, startEpoch = 0 }: FineTuneOptions = {},
  ): Promise<EpochResult[]> {
    const bodyGroups = this.model.layerGroups().length - 1;
    if (!(Number.isInteger(trainFrom) && trainFrom >= 0 && trainFrom <= bodyGroups))
      throw new RangeError(`fineTune: trainFrom must be a layer group of the body, 0..${bodyGroups}, got ${trainFrom}`);
    this.freeze();
    const frozen = startEpoch < freezeEpochs ? await this.fitOneCycle(freezeEpochs, [baseLr], { pctStart: 0.99, phase: 'frozen', startEpoch }) : [];
    if (this.stopReason) return frozen;
    const lr = baseLr / 2;
    if (trainFrom > 0) this.model.freezeTo(trainFrom, { trainBatchNorm: false });
    else this.unfreeze();
    const unfrozen = await this.fitOneCycle(epochs, [lr / lrMult, lr], {
      pctStart,
      div,
      phase: 'unfrozen',
      startEpoch: Math.max(0, startEpoch - freezeEpochs),
    });
    return [...frozen, ...unfrozen];
  }

  /** Predictions of `loader` (validation by default) in evaluation mode, with per-item losses. */
  getPreds(loader: DataLoader = this.dls.valid): Promise<LoaderPredictions> {
    return this.#task.predict(loader, this.#task.batches(loader, 0), (x) => this.model.forward(x));
  }

  /** Validation loss and metrics. */
  async validate(loader: DataLoader = this.dls.valid): Promise<Validation> {
    return this.#task.scores(await this.getPreds(loader));
  }
}
