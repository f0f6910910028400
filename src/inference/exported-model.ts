/**
 * An exported model as the places that use one see it, whatever its kind: its spec (classes, declared
 * preprocessing, thresholds), its predictions of files, of a study and of a labelled dataset, how a
 * study's figure pools the slices in words, the options it refuses, its interpretation, and a slice's
 * Grad-CAM overlay. A slice model scores each slice alone and its study prediction is the top-k mean of
 * its slices (as the evaluation reads a patient); a study model predicts the study itself. Only this
 * module (and the file's reader, learn/model-file.ts) tells the kinds apart.
 */
import { Tensor, setNumThreads, tidy, type nn } from '../torch/index.js';
import { STUDY_MODEL_PATIENT_SCORE, STUDY_TOP_K, aggregateByGroup } from '../learn/metrics.js';
import { readModel, type AnyModelSpec, type LoadedModel, type ModelKind, type StudyModelSpec } from '../learn/model-file.js';
import { Predictor } from '../learn/predictor.js';
import { StudyPredictor } from '../learn/study-predictor.js';
import { evaluateDataset, evaluateStudies, type FileEvaluation } from '../learn/evaluate-files.js';
import { oneSliceStudiesNote, studiesOf } from '../learn/file-studies.js';
import { sliceFileScorer, studyFileScorer, type FileScorer } from '../learn/file-scores.js';
import { gradCam, type CamMethod } from '../interpret/gradcam.js';
import { heatmapOverlayPng } from '../interpret/images.js';
import { heatmapOnSource } from '../interpret/cam-geometry.js';
import { interpret, type Interpretation, type LabelledFile, type PatientScores } from '../interpret/interpret.js';
import { readImage } from '../data/decode.js';
import { isDicomPath } from '../data/files.js';
import { inputGeometry, preprocessor } from '../data/preprocessing.js';
import { applyWindow, HEAD_CT_WINDOWS } from '../data/window.js';
import type { Dataset, HostImage } from '../data/types.js';

/** A slice model's spec, or a study model's. */
export type ExportedModelSpec = AnyModelSpec;

/**
 * Per slice: its class probabilities (and, from a study model, its weight in the study's prediction), or
 * why it could not be prepared.
 */
export type SliceOutcome = { probabilities: Float32Array; weight?: number } | { error: string };

/** A study's prediction: each slice's outcome, in the order given, and the study's class probabilities. */
export interface StudyPrediction {
  slices: SliceOutcome[];
  study: Float32Array;
}

/** Prediction options a model may refuse: test-time augmentation, and the top-k slices that make a patient's figure. */
export type PredictionOption = 'tta' | 'topK';

/** What `findstroke predict` says of files: one JSON record and text lines per prediction, and whether a file failed. */
export interface FilesPrediction {
  records: unknown[];
  lines: string[];
  failed: boolean;
}

/** The model as a dataset cleaner sees it: the scorer of its files (a study model's scores each patient as a whole too), and what to say first. */
export interface CleanerView {
  scorer: FileScorer;
  notes: string[];
}

export interface ExportedModel {
  readonly spec: ExportedModelSpec;
  /** How the study's probabilities come from its slices, in words: a reader of a flagged study should know whether one slice or all of them carried it. */
  readonly studyScore: string;
  /** The options this model does not take, each with why (e.g. 'a study model, which scores each study as it is'): its methods ignore them, callers refuse them. */
  readonly refuses: Partial<Record<PredictionOption, string>>;
  /** Predicts the study made of these slice files, `batchSize` slices per forward pass. @throws Error when no slice can be prepared. */
  predictStudy(paths: readonly string[], batchSize: number): Promise<StudyPrediction>;
  /** The files given together: a slice model predicts each (with `tta`, also from its mirror image), a study model the study they make. */
  predictFiles(paths: readonly string[], options: { tta?: boolean }): Promise<FilesPrediction>;
  /** Slice and patient figures on a labelled dataset, every image of it a test image. */
  evaluate(dataset: Dataset, options: { tta?: boolean; topK?: number }): Promise<FileEvaluation>;
  /** Confusion, top losses with Grad-CAM, calibration and ROC of `files`, and what a reader of them should know first. */
  interpret(files: LabelledFile[], options: { k?: number; layer?: string; method?: CamMethod }): Promise<{ notes: string[]; interpretation: Interpretation }>;
  /** The model for `findstroke clean`. */
  cleaner(): CleanerView;
  /** A PNG of the Grad-CAM map of `classIndex` (default: the predicted class) over the whole slice at its own size, in the brain window. */
  heatmapPng(path: string, classIndex?: number): Promise<Uint8Array>;
}

/** Loads the model file at `path` (either kind, read once), running libtorch on `threads` intra-op threads. */
export function loadExportedModel(path: string, threads: number): ExportedModel {
  setNumThreads(threads);
  return exportedModel(readModel(path));
}

type Loaded<K extends ModelKind> = Extract<LoadedModel, { kind: K }>;

/** How a study's probabilities come from its slices' probabilities, as a rule a deployer can apply; attention pools features inside the model. */
export type StudyPooling = { rule: 'top-k mean'; k: number } | { rule: 'mean' } | { rule: 'attention' };

/** Each kind: the interface over a loaded model of it, and how its study's figure comes from the slices, in words and as a rule. */
const KINDS: {
  [K in ModelKind]: { exported(loaded: Loaded<K>): ExportedModel; studyScore(spec: Loaded<K>['spec']): string; pooling(spec: Loaded<K>['spec']): StudyPooling };
} = {
  slice: {
    exported: sliceModel,
    studyScore: () => `per class, the mean of the ${STUDY_TOP_K} highest slice probabilities (a slice model scores each slice alone)`,
    pooling: () => ({ rule: 'top-k mean', k: STUDY_TOP_K }),
  },
  study: {
    exported: studyModel,
    studyScore: (spec) => `a study model: ${studyPoolingText(spec)}`,
    pooling: (spec) => (spec.classifier.linear ? { rule: 'mean' } : { rule: 'attention' }),
  },
};

/** The one interface over a loaded model of either kind. */
export function exportedModel(loaded: LoadedModel): ExportedModel {
  return (KINDS[loaded.kind].exported as (loaded: LoadedModel) => ExportedModel)(loaded);
}

/** {@link ExportedModel.studyScore} of a model's spec. */
export function studyScoreOf(spec: ExportedModelSpec): string {
  return (KINDS[spec.kind].studyScore as (spec: ExportedModelSpec) => string)(spec);
}

/** How a model's study figure pools its slices, as a rule. */
export function studyPoolingOf(spec: ExportedModelSpec): StudyPooling {
  return (KINDS[spec.kind].pooling as (spec: ExportedModelSpec) => StudyPooling)(spec);
}

/** How a study model pools a study's slices into the study's probabilities, in words. */
export function studyPoolingText(spec: Pick<StudyModelSpec, 'classifier'>): string {
  return spec.classifier.linear
    ? "the mean of every slice's probabilities (linear head; every slice weighs the same)"
    : "every slice's features pooled by learnt attention weights (attention-MIL head; each slice's weight is shown)";
}

/** A slice model's study probabilities: per class, the mean of the top-k slice probabilities, renormalised (as the evaluation reads a patient). */
export function topKStudyProbabilities(classCount: number, sliceRows: readonly Float32Array[], topK = STUDY_TOP_K): Float32Array {
  const probs = new Float32Array(sliceRows.length * classCount);
  sliceRows.forEach((row, i) => probs.set(row, i * classCount));
  const grouped = aggregateByGroup(
    { probs, targets: new Int32Array(sliceRows.length), classes: classCount },
    sliceRows.map(() => 'study'),
    topK,
  );
  return Float32Array.from(grouped.probs.subarray(0, classCount));
}

function sliceModel({ model, spec }: Loaded<'slice'>): ExportedModel {
  // Fresh predictors per study: their decode caches then live only as long as the study's prediction.
  return {
    ...common(spec, model),
    refuses: {},
    async predictStudy(paths, batchSize) {
      const slices = await predictSlices(new Predictor(model, spec), paths, batchSize);
      const read = slices.flatMap((slice) => ('probabilities' in slice ? [slice.probabilities] : []));
      if (read.length === 0) throw new Error(`no slice could be prepared (slice 0: ${(slices[0] as { error: string } | undefined)?.error ?? 'none given'})`);
      return { slices, study: topKStudyProbabilities(spec.classes.length, read) };
    },
    async predictFiles(paths, { tta }) {
      const results = await new Predictor(model, spec).predict([...paths], { tta });
      return {
        records: results,
        lines: results.map((r) => ('error' in r ? `${r.path}: error: ${r.error}` : `${r.path}: ${r.label} (${probabilitiesText(r.probabilities)})`)),
        failed: results.some((r) => 'error' in r),
      };
    },
    evaluate: (dataset, options) => evaluateDataset(new Predictor(model, spec), dataset, options),
    async interpret(files, options) {
      return { notes: [], interpretation: await interpret(new Predictor(model, spec), files, options) };
    },
    cleaner: () => ({ scorer: sliceFileScorer(new Predictor(model, spec)), notes: [] }),
  };
}

function studyModel({ model, spec, sliceScorer }: Loaded<'study'>): ExportedModel {
  const studyPredictor = () => new StudyPredictor(model, spec);
  return {
    ...common(spec, sliceScorer),
    refuses: { tta: 'a study model, which scores each study as it is', topK: "a study model, which predicts each patient's study itself" },
    predictStudy: (paths, batchSize) => predictWithStudyModel(studyPredictor(), paths, batchSize),
    async predictFiles(paths) {
      const p = await studyPredictor().predictStudy('study', paths);
      // A linear head weighs every slice the same (its pooling text says so): a weight column would say nothing.
      const weight = spec.classifier.mil ? (s: { attention: number }) => `; attention ${s.attention.toFixed(3)}` : () => '';
      const lines = [
        `study of ${p.slices.length} slices: ${p.label} (${probabilitiesText(p.probabilities)}); the study's figures are ${studyPoolingText(spec)}`,
        ...p.slices.map((s) => `  ${s.path}: ${probabilitiesText(s.probabilities)}${weight(s)}`),
        ...p.failures.map((f) => `  ${f.path}: error: ${f.error}`),
      ];
      return { records: [p], lines, failed: p.failures.length > 0 };
    },
    evaluate: (dataset) => evaluateStudies(studyPredictor(), dataset),
    async interpret(files, options) {
      const notes = [
        "a study model: interpreting each slice's own score from its study head, against its study's label; patients by the study model's prediction",
      ];
      const withoutPatient = files.filter((f) => f.patientId === undefined).length;
      if (withoutPatient) notes.push(oneSliceStudiesNote(withoutPatient));
      const studyPredictions = await studyPredictionsOf(studyPredictor(), files);
      return { notes, interpretation: await interpret(new Predictor(sliceScorer, spec), files, { ...options, ...studyPredictions }) };
    },
    cleaner: () => ({
      scorer: studyFileScorer(studyPredictor()),
      notes: ["a study model: ranking images by each slice's own score from its study head, patients by the study model's prediction"],
    }),
  };
}

/** What either kind does alike: its spec, study score and Grad-CAM overlay, through `camModel` (the model as a classifier of one slice). */
function common(spec: ExportedModelSpec, camModel: nn.Module): Pick<ExportedModel, 'spec' | 'studyScore' | 'heatmapPng'> {
  return {
    spec,
    studyScore: studyScoreOf(spec),
    async heatmapPng(path, classIndex) {
      const input = await preprocessor(spec.preprocessing)(path);
      const cam = tidy(() =>
        gradCam(camModel, Tensor.fromHost({ dtype: 'float32', shape: [1, input.channels, input.height, input.width], data: input.data }), {
          classIndex,
        }),
      );
      const slice = await readImage(path);
      const base: HostImage = isDicomPath(path) ? { ...slice, channels: 1, data: applyWindow(slice.data, HEAD_CT_WINDOWS.brain) } : slice;
      const { size, resize } = inputGeometry(spec.preprocessing);
      const onSlice = heatmapOnSource(cam.heatmap, size, resize, slice.width, slice.height);
      return new Uint8Array(await heatmapOverlayPng(base, onSlice, isDicomPath(path) ? 'first-channel' : 'luminance'));
    },
  };
}

const probabilitiesText = (probabilities: Record<string, number>) =>
  Object.entries(probabilities)
    .map(([c, p]) => `${c} ${p.toFixed(3)}`)
    .join(', ');

/** Each slice's probabilities through {@link Predictor.predict}, which batches and reports an unreadable file by itself. */
async function predictSlices(predictor: Predictor, paths: readonly string[], batchSize: number): Promise<SliceOutcome[]> {
  const { classes } = predictor.spec;
  const predictions = await predictor.predict([...paths], { batchSize });
  return predictions.map((p) => ('error' in p ? { error: p.error } : { probabilities: Float32Array.from(classes, (c) => p.probabilities[c]) }));
}

/** The study model's prediction of the whole study, with each slice's own probabilities and weight in it (or why it was left out). */
async function predictWithStudyModel(predictor: StudyPredictor, paths: readonly string[], batchSize: number): Promise<StudyPrediction> {
  const { classes } = predictor.spec;
  const p = await predictor.predictStudy('study', [...paths], { batchSize });
  const read = new Map(p.slices.map((s) => [s.path, { probabilities: Float32Array.from(classes, (c) => s.probabilities[c]), weight: s.attention }]));
  const errors = new Map(p.failures.map((f) => [f.path, f.error]));
  return {
    slices: paths.map((path) => read.get(path) ?? { error: errors.get(path) ?? 'not predicted' }),
    study: Float32Array.from(classes, (c) => p.probabilities[c]),
  };
}

/**
 * A study model's predictions of `files`, each patient's files as one study and each file without a patient
 * id as a one-slice study of its own (see {@link studiesOf}): each patient's study prediction, and every
 * file's own slice probabilities from the same pass (rows in file order), so that no slice is run through the body twice.
 * @throws Error for a file that cannot be read, as interpreting a slice model does.
 */
async function studyPredictionsOf(predictor: StudyPredictor, files: LabelledFile[]): Promise<{ patientScores: PatientScores; probs: Float32Array }> {
  const { classes } = predictor.spec;
  const patients: string[] = [];
  const studyProbs: number[] = [];
  const sliceProbs = new Map<string, Record<string, number>>();
  for (const { patientId, members } of studiesOf(files)) {
    const paths = members.map((i) => files[i].path);
    const study = await predictor.predictStudy(patientId ?? paths[0], paths);
    if (study.failures.length) throw new Error(study.failures[0].error);
    if (patientId !== undefined) {
      patients.push(patientId);
      studyProbs.push(...classes.map((c) => study.probabilities[c]));
    }
    for (const slice of study.slices) sliceProbs.set(slice.path, slice.probabilities);
  }
  return {
    patientScores: { patients, probs: Float32Array.from(studyProbs), how: STUDY_MODEL_PATIENT_SCORE },
    probs: Float32Array.from(files.flatMap((f) => classes.map((c) => sliceProbs.get(f.path)![c]))),
  };
}
