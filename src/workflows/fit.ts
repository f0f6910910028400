/**
 * The training step of a run, shared by `train` (one split) and `crossval` (one call per fold): build
 * the classifier, fine-tune it as fastai's fine_tune on the given loaders, and evaluate the
 * validation side at slice and patient level.
 */
import { createClassifier, describePretrained, type Pretrained } from '../models/create.js';
import type { ResNetArch } from '../models/resnet.js';
import type { Device, MemoryFormat } from '../torch/index.js';
import type { VisionClassifier } from '../models/classifier.js';
import type { ImageDataLoaders } from '../data/dataloaders.js';
import type { Dataset } from '../data/types.js';
import { VisionLearner, type LoaderPredictions } from '../learn/vision-learner.js';
import { ERROR_RATE, ROC_AUC } from '../learn/standard-metrics.js';
import { SaveBest } from '../learn/callbacks/save-best.js';
import { Checkpoint, readCheckpoint, restoreCheckpoint, type RunFingerprint } from '../learn/callbacks/checkpoint.js';
import { keepLoggedEpochs } from '../learn/callbacks/recorder.js';
import { trainingCallbacks } from './recipes/recipe.js';
import { evaluate, formatEvaluation, type Evaluation } from '../learn/evaluation.js';
import type { ProcessGroup } from '../torch/distributed.js';

export interface FitOptions {
  arch: ResNetArch;
  pretrained: Pretrained;
  epochs: number;
  freezeEpochs: number;
  lr: number;
  /** The first layer group the unfrozen epochs train (default 0: all, as fastai); see `FineTuneOptions`. */
  trainFrom?: number;
  bf16?: boolean;
  /** Where the model trains (default 'cpu'). */
  device?: Device;
  /** The layout of the model and its batches (default: the device's fastest, channels-last on a CPU). */
  memoryFormat?: MemoryFormat;
  /** Weight the loss by inverse class frequency. */
  balanceLoss?: boolean;
  /**
   * Keep the best epoch's weights by validation loss rather than the last (default false, as fastai's
   * fine_tune): choosing on the validation set makes its figures slightly optimistic.
   */
  saveBest?: boolean;
  /**
   * Train data-parallel as one rank of this group (the loaders must be sharded for it): only rank 0 shows
   * progress and writes the history; Ctrl-C ends every rank at once instead of after the batch.
   */
  group?: ProcessGroup;
  /** With `group`: batch norm normalises with the global batch's statistics (see `DataParallelOptions`). */
  syncBatchNorm?: boolean;
  /**
   * Write the training state to `path` after every epoch (rank 0 only), and with `resume` start from the state
   * there, of the run `fingerprint` describes, and train the epochs after it (see callbacks/checkpoint.ts).
   */
  checkpoint?: { path: string; fingerprint: RunFingerprint; resume?: boolean };
}

/** The reference recipe: the ImageNet ResNet-50, fine_tune 1 + 3 epochs at 2e-3. */
const REFERENCE_FIT: FitOptions = { arch: 'resnet50', pretrained: 'imagenet', epochs: 3, freezeEpochs: 1, lr: 2e-3 };

/** The fit options of `o`, with the reference recipe's where it leaves one out. */
export function fitOptions(o: Partial<FitOptions>): FitOptions {
  const { arch = REFERENCE_FIT.arch, pretrained = REFERENCE_FIT.pretrained, epochs = REFERENCE_FIT.epochs, freezeEpochs = REFERENCE_FIT.freezeEpochs } = o;
  const { lr = REFERENCE_FIT.lr, trainFrom, bf16, device, memoryFormat, balanceLoss, saveBest, group, syncBatchNorm, checkpoint } = o;
  return { arch, pretrained, epochs, freezeEpochs, lr, trainFrom, bf16, device, memoryFormat, balanceLoss, saveBest, group, syncBatchNorm, checkpoint };
}

export interface FitResult {
  model: VisionClassifier;
  learner: VisionLearner;
  /** Validation predictions in loader order (`items` index the split's validation list). */
  preds: LoaderPredictions;
  evaluation: Evaluation;
  seconds: number;
}

/** Describes what the validation figures were measured on, honestly. */
export function measuredOn(dls: ImageDataLoaders): string {
  const { split } = dls;
  const slices = split.valid.length;
  if (split.by === 'patient')
    return `the validation split: ${slices} images of ${split.validPatients?.length ?? '?'} held-out patients (patient-level split, seed ${split.seed})`;
  return `the validation split: ${slices} images chosen at random (seed ${split.seed}); slices of one patient may sit on both sides, so these figures can be inflated`;
}

export async function fitOnSplit(dataset: Dataset, dls: ImageDataLoaders, o: FitOptions, log: (line: string) => void, historyCsv?: string): Promise<FitResult> {
  const resumed = o.checkpoint?.resume ? readCheckpoint(o.checkpoint.path, o.checkpoint.fingerprint) : undefined;
  if (resumed && o.saveBest)
    throw new Error(`${resumed.path}: a run that keeps its best epoch (--save-best) cannot resume: the checkpoint does not hold the best epoch's weights`);
  const model = await createClassifier({ arch: o.arch, numClasses: dataset.classes.length, pretrained: o.pretrained });
  log(
    `model: ${o.arch}, body ${describePretrained(o.pretrained, o.arch)}, fastai head, ${(model.countParameters() / 1e6).toFixed(1)} M parameters, ${o.bf16 ? 'bfloat16 autocast' : 'float32'}, on ${o.device ?? 'cpu'}`,
  );
  const counts = dataset.classes.map((c) => dls.split.train.filter((i) => dataset.samples[i].label === c).length);
  const classWeights = o.balanceLoss ? counts.map((n) => counts.reduce((a, b) => a + b, 0) / (counts.length * Math.max(1, n))) : undefined;
  const saveBest = o.saveBest ? new SaveBest({ name: 'valid_loss', mode: 'min' }) : undefined;
  const learner = new VisionLearner(model, dls, {
    metrics: [ERROR_RATE, ROC_AUC],
    callbacks: [
      ...trainingCallbacks({ historyCsv, table: log, group: o.group, syncBatchNorm: o.syncBatchNorm }),
      ...(saveBest ? [saveBest] : []),
      // Last, so that the epoch is logged before its checkpoint says it is done.
      ...(o.checkpoint && (o.group?.isMain ?? true) ? [new Checkpoint(o.checkpoint.path, o.checkpoint.fingerprint)] : []),
    ],
    classWeights,
    bf16: o.bf16,
    device: o.device,
    memoryFormat: o.memoryFormat,
  });

  if (resumed) {
    restoreCheckpoint(learner, resumed);
    if (historyCsv && (o.group?.isMain ?? true)) keepLoggedEpochs(historyCsv, learner.epochsDone);
    log(`resuming from ${resumed.path}: ${learner.epochsDone} of ${o.freezeEpochs + o.epochs} epochs done`);
  }

  // A resumed run's training time counts the epochs its checkpoint holds, as their history logged them.
  const earlier = learner.history.reduce((sum, epoch) => sum + epoch.seconds, 0);
  const started = performance.now();
  await learner.fineTune(o.epochs, o.lr, { freezeEpochs: o.freezeEpochs, trainFrom: o.trainFrom, startEpoch: learner.epochsDone });
  const seconds = earlier + (performance.now() - started) / 1000;
  if (learner.stopReason) log(`stopped early: ${learner.stopReason}`);
  if (saveBest && saveBest.bestEpoch >= 0) {
    log(
      `kept the weights of epoch ${saveBest.bestEpoch} (lowest validation loss ${saveBest.bestValue.toFixed(4)}); chosen on the validation set, so its figures below are slightly optimistic`,
    );
  }

  const preds = await learner.getPreds();
  const patientIds = preds.items.map((item) => dataset.samples[dls.split.valid[item]].patientId);
  const evaluation = evaluate(preds, dataset.classes, patientIds);
  log('');
  log(formatEvaluation(evaluation, measuredOn(dls)));
  return { model, learner, preds, evaluation, seconds };
}
