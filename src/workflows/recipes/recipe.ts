/**
 * A training recipe as a plug-in of the `train` and `crossval` workflows: how a model is fitted to some
 * patients and scores others, what it shares between folds, and which training options it takes. Every
 * recipe trains through the one {@link Learner} loop, so each gets its schedules, progress, the NaN guard
 * and callbacks. The recipes: fine-tune (`slice`, fastai's), attention MIL (`study`), study fine-tune
 * (`study-finetune`) and linear study (`study-linear`).
 */
import type { GroupSplit } from '../../data/split.js';
import type { Dataset } from '../../data/types.js';
import type { Evaluation } from '../../learn/evaluation.js';
import type { Pretrained } from '../../models/create.js';
import type { ResNetArch } from '../../models/resnet.js';
import type { Callback } from '../../learn/callback.js';
import { DataParallel } from '../../learn/callbacks/data-parallel.js';
import type { ProcessGroup } from '../../torch/distributed.js';
import type { Device } from '../../torch/index.js';
import { ProgressBar } from '../../learn/callbacks/progress.js';
import { ResultsTable, CsvLogger } from '../../learn/callbacks/recorder.js';
import { StopOnInterrupt, StopOnNaN } from '../../learn/callbacks/guards.js';

/** The training options of the command line that only some recipes take (each recipe names its own). */
export const TRAINING_OPTIONS = ['epochs', 'freezeEpochs', 'trainFrom', 'lr', 'bs', 'bf16', 'device', 'flip', 'balanceLoss', 'oversample', 'saveBest'] as const;
export type TrainingOption = (typeof TRAINING_OPTIONS)[number];

/** The command line's training options, its defaults included, and which of them the user gave. */
export interface TrainingSettings {
  arch: ResNetArch;
  pretrained: Pretrained;
  size: number;
  seed: number;
  maskOutsideHead?: boolean;
  epochs: number;
  freezeEpochs: number;
  trainFrom: number;
  lr: number;
  bs: number;
  bf16?: boolean;
  /** Where the model trains: 'cpu', or a GPU ('cuda:N'; a data-parallel rank's own, by its local rank). */
  device: Device;
  flip?: boolean;
  balanceLoss?: boolean;
  oversample?: boolean;
  saveBest?: boolean;
  /** Whether the user gave `option` (or left it at the command line's default). */
  given(option: TrainingOption | 'size'): boolean;
}

/**
 * The callbacks every recipe trains with: a progress bar, the results table (when `table` prints it), the
 * epochs logged to `historyCsv`, and the guards that stop on a NaN loss or Ctrl-C. With `group`, one rank of a
 * data-parallel run: gradients averaged over the group (and with `syncBatchNorm`, batch-norm statistics), and only
 * rank 0 shows progress and writes the history.
 */
export function trainingCallbacks(o: { historyCsv?: string; table?: (line: string) => void; group?: ProcessGroup; syncBatchNorm?: boolean }): Callback[] {
  const { historyCsv, table, group, syncBatchNorm } = o;
  if (syncBatchNorm && !group) throw new Error('synchronised batch norm needs a data-parallel run (a process group) to synchronise over');
  const main = group?.isMain ?? true;
  return [
    ...(group ? [new DataParallel(group, { syncBatchNorm })] : []),
    ...(main ? [new ProgressBar(), ...(table ? [new ResultsTable(table)] : []), ...(historyCsv ? [new CsvLogger(historyCsv)] : [])] : []),
    new StopOnNaN(),
    // A clean stop after the batch needs every rank to stop after the same one; data-parallel ranks just end.
    ...(group ? [] : [new StopOnInterrupt()]),
  ];
}

/** One fold's validation side as the recipe predicted it. */
export interface FoldOutcome {
  /** Figures of the validation slices. */
  slices: Evaluation;
  /** Patient ROC AUC, as the recipe scores a patient. */
  patientAuc: number;
  /** Every validation slice: its dataset row, its class probabilities, and the recipe's extra out-of-fold cells. */
  rows: { row: number; probs: ArrayLike<number>; extra?: string[] }[];
  /** Every validation patient, as the recipe scores a patient. */
  patients: { id: string; label: string; probs: ArrayLike<number> }[];
  seconds: number;
}

/** A recipe ready to train folds of one dataset: what the folds share is done. */
export interface FoldTrainer {
  /** Columns the recipe adds to each out-of-fold slice row. */
  readonly oofColumns: string[];
  /** Work every fold shares (e.g. every slice through the frozen body), when there is any. */
  readonly sharedWork?: { what: string; seconds: number };
  /** Fields crossval.json records about the recipe's run. */
  readonly summary: Record<string, number>;
  /** Fits a fresh model to `split.train` (seeded by `seed`) and predicts `split.valid`; `historyCsv` logs its epochs. */
  fold(split: GroupSplit, fold: number, folds: number, seed: number, historyCsv: string): Promise<FoldOutcome>;
  dispose(): void;
}

/** Common options of a training run (`findstroke train`). */
export interface TrainRunSettings {
  /** A dataset folder (class folders or manifest.csv) or manifest CSV, or an already loaded dataset. */
  data: string | Dataset;
  out: string;
  validPct: number;
  groupBy: 'auto' | 'patient' | 'random';
  /** Seed of the split and the training. */
  seed: number;
  /** Sensitivity the triage thresholds aim for on validation data. */
  targetSensitivity: number;
  log?: (line: string) => void;
  /** Train as one rank of this data-parallel group (recipes whose `dataParallel` is true). */
  group?: ProcessGroup;
  /** With `group`: batch norm normalises with the global batch's statistics (see `DataParallelOptions`). */
  syncBatchNorm?: boolean;
  /** Continue the run in `out` from its checkpoint (recipes whose `resumes` is true). */
  resume?: boolean;
}

export interface Recipe<Options = unknown> {
  /** The word `--recipe` names it by. */
  readonly name: string;
  /** The {@link TRAINING_OPTIONS} it takes; the command line refuses the others by name. */
  readonly takes: readonly TrainingOption[];
  /** Whether its training run can be one rank of a data-parallel group (`train --nproc`, WORLD_SIZE). */
  readonly dataParallel: boolean;
  /** Whether its training run can resume from the checkpoint of an interrupted one (`train --resume`). */
  readonly resumes: boolean;
  /** Its options from the command line's settings (its own values where they leave one out). */
  options(settings: TrainingSettings): Options;
  /** Does what every fold of `dataset` shares, once. */
  prepare(dataset: Dataset, options: Options, log: (line: string) => void): Promise<FoldTrainer>;
  /** A training run: fitted on a split, measured on its validation side, exported with the run folder. */
  train(settings: TrainRunSettings, options: Options): Promise<{ modelPath: string; evaluation: Evaluation }>;
}
