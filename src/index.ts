/**
 * findstroke as a library (`import ... from 'findstroke'`): what the `findstroke` command is built from,
 * in fastai's order: data from folders or a manifest, loaders split by patient, a pretrained classifier,
 * the Learner and its fine-tuning, evaluation, the exported model file, prediction, interpretation, the
 * whole runs the CLI makes, the synthetic phantoms, and the libtorch engine as `torch`.
 */

// Data: datasets, loaders, checks, the phantom generator.
export {
  MANIFEST_COLUMNS,
  datasetFromPath,
  fromClassFolders,
  fromFileNames,
  fromManifest,
  manifestText,
  type ClassFolderOptions,
  type FileNameOptions,
  type ManifestRow,
  type SourceOptions,
} from './data/sources/index.js';
export type { Dataset, HostImage, Sample } from './data/types.js';
export { imageDataLoaders, type ImageDataLoaders, type ImageDataOptions, type SplitInfo } from './data/dataloaders.js';
export { preprocessingOf, preprocessor, type PreprocessingStep } from './data/preprocessing.js';
export { formatSummary, summarize, type DatasetSummary } from './data/summary.js';
export { verifyImages, type FileProblem } from './data/verify.js';
export { HEAD_CT_WINDOWS, RSNA_ICH_WINDOWS, type VoiWindow } from './data/window.js';
export {
  PHANTOM_CLASSES,
  PHANTOM_FORMATS,
  writePhantomDataset,
  type PhantomClass,
  type PhantomDatasetOptions,
  type PhantomDatasetSummary,
  type PhantomFormat,
} from './data/phantoms/index.js';

// Models.
export { createClassifier, type CreateOptions, type Pretrained } from './models/create.js';
export { VisionClassifier, type ClassifierSpec } from './models/classifier.js';
export type { ResNetArch } from './models/resnet.js';
export { loadTorchvisionWeights } from './models/weights/torchvision.js';

// Training.
export { Learner, type FitOptions, type LearnerOptions, type LearnerTask, type FitData, type Metric } from './learn/learner.js';
export {
  VisionLearner,
  type DataLoaders,
  type FineTuneOptions,
  type LoaderPredictions,
  type TrainableModel,
  type VisionLearnerOptions,
} from './learn/vision-learner.js';
export { ACCURACY, ERROR_RATE, MACRO_F1, ROC_AUC } from './learn/standard-metrics.js';
export type { Callback, EpochResult } from './learn/callback.js';
export { ProgressBar } from './learn/callbacks/progress.js';
export { CsvLogger, ResultsTable } from './learn/callbacks/recorder.js';
export { SaveBest } from './learn/callbacks/save-best.js';
export { EarlyStopping, StopOnInterrupt, StopOnNaN } from './learn/callbacks/guards.js';
export { lrFind, type LrFindResult } from './learn/lr-find.js';

// Data-parallel training on c10d (docs/distributed.md).
export { DataParallel } from './learn/callbacks/data-parallel.js';
export {
  DistributedError,
  ProcessGroup,
  backendFor,
  distributedEnv,
  initProcessGroup,
  type Backend,
  type DistributedEnv,
  type InitOptions,
} from './torch/distributed.js';
export type { Shard } from './data/loader.js';

// Evaluation, the exported model, prediction, interpretation.
export { evaluate, formatEvaluation, type Evaluation } from './learn/evaluation.js';
export { evaluateDataset, evaluateStudies, type FileEvaluation } from './learn/evaluate-files.js';
export type { Predictions } from './learn/metrics.js';
export {
  loadModel,
  loadStudyModel,
  readModel,
  readModelSpec,
  saveModel,
  saveStudyModel,
  type AnyModelSpec,
  type InputSpec,
  type ModelSpec,
  type StudyModelSpec,
} from './learn/model-file.js';
export { loadExportedModel, type ExportedModel } from './inference/exported-model.js';
export { Predictor, type Prediction, type PredictionFailure } from './learn/predictor.js';
export { StudyPredictor, type StudyPrediction, type StudySlicePrediction } from './learn/study-predictor.js';
export { interpret, writeInterpretation, type Interpretation, type InterpretOptions, type LabelledFile } from './interpret/interpret.js';

// Whole runs, as the CLI makes them.
export { trainRun, type TrainRunOptions, type TrainRunResult } from './workflows/train-run.js';
export { studyTrainRun, type StudyTrainRunOptions, type StudyTrainRunResult } from './workflows/study-train.js';
export { crossval, formatCrossval, type CrossvalOptions, type CrossvalResult } from './workflows/crossval.js';
export { RECIPES, recipeNamed } from './workflows/recipes/index.js';
export type { FoldTrainer, Recipe } from './workflows/recipes/recipe.js';

// The engine: Tensor, tidy, nn, F, optimisers, runtime settings.
export * as torch from './torch/index.js';
