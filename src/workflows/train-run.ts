/**
 * One training run end to end, as the reference notebook does it: dataset -> seeded split -> loaders ->
 * pretrained classifier -> fine_tune -> evaluation -> exported model, with every output of the run
 * (model, epoch log, split, metrics) written to one folder. The CLI's `train` and the demo call this.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { manualSeed, engineInfo } from '../torch/index.js';
import { datasetFromPath } from '../data/sources/index.js';
import { summarize } from '../data/summary.js';
import { imageDataLoaders, type ImageDataOptions, type ImageDataLoaders } from '../data/dataloaders.js';
import type { Dataset } from '../data/types.js';
import type { VisionClassifier } from '../models/classifier.js';
import type { Evaluation } from '../learn/evaluation.js';
import { STUDY_TOP_K, aggregateByGroup } from '../learn/metrics.js';
import type { VisionLearner } from '../learn/vision-learner.js';
import { describePretrained } from '../models/create.js';
import { fitOnSplit, fitOptions, measuredOn, type FitOptions } from './fit.js';
import { chooseThresholds, formatOperatingPoints } from '../learn/thresholds.js';
import { saveModel, readModelSpec } from '../learn/model-file.js';
import { Predictor } from '../learn/predictor.js';
import { interpret, worstPatientsLine, writeInterpretation } from '../interpret/interpret.js';
import { renderReport } from '../interpret/report.js';
import type { EpochResult } from '../learn/callback.js';
import type { RunFingerprint } from '../learn/callbacks/checkpoint.js';

/** Defaults are the reference recipe: ImageNet ResNet-50, fine_tune 1 + 3 epochs at 2e-3. */
export interface TrainRunOptions extends ImageDataOptions, Partial<FitOptions> {
  /** A dataset folder (class folders or manifest.csv) or manifest CSV, or an already loaded dataset. */
  data: string | Dataset;
  out: string;
  /** Sensitivity the triage thresholds aim for on validation data (default 0.9). */
  targetSensitivity?: number;
  /** Continue the run from the checkpoint in `out` (written after each epoch; removed once the run has trained every epoch). */
  resume?: boolean;
  log?: (line: string) => void;
}

export interface TrainRunResult {
  modelPath: string;
  evaluation: Evaluation;
  history: EpochResult[];
  dls: ImageDataLoaders;
  model: VisionClassifier;
  learner: VisionLearner;
}

/**
 * With `group`, one rank of a data-parallel run: every rank trains on its shard of each global batch and
 * computes the same validation figures; only rank 0 prints, writes the run folder and exports the model.
 */
export async function trainRun(o: TrainRunOptions): Promise<TrainRunResult> {
  const main = o.group?.isMain ?? true;
  const log = main ? (o.log ?? ((line: string) => console.log(line))) : () => {};
  const fit = fitOptions(o);
  const { arch, pretrained, epochs, freezeEpochs, lr } = fit;
  const seed = o.seed ?? 42;
  if (main) mkdirSync(o.out, { recursive: true });
  manualSeed(seed);

  const dataset = typeof o.data === 'string' ? await datasetFromPath(o.data) : o.data;
  const summary = await summarize(dataset);
  log(
    `data: ${dataset.source}: ${dataset.samples.length} images, classes ${dataset.classes.map((c) => `${c} (${summary.classes.find((k) => k.label === c)?.images ?? '?'})`).join(', ')}`,
  );
  const dls = imageDataLoaders(dataset, { ...o, seed, shard: o.group && { rank: o.group.rank, count: o.group.worldSize } });
  log(
    `split: ${dls.split.train.length} training / ${dls.split.valid.length} validation images, ${dls.split.by === 'patient' ? `by patient (${dls.split.validPatients!.length} validation patients)` : 'at random (no patient ids: figures may be inflated)'}`,
  );
  if (o.group)
    log(
      `data-parallel: ${o.group.worldSize} processes over ${o.group.backend}, ${(o.batchSize ?? 32) / o.group.worldSize} images each per batch of ${o.batchSize ?? 32}`,
    );

  const checkpoint = { path: join(o.out, 'checkpoint.safetensors'), fingerprint: runFingerprint(o, fit, dataset, dls), resume: o.resume };
  const { model, learner, preds, evaluation, seconds } = await fitOnSplit(dataset, dls, { ...fit, checkpoint }, log, join(o.out, 'history.csv'));

  const targetSensitivity = o.targetSensitivity ?? 0.9;
  // The service flags a study by the mean of its top slices, so with patients known the operating
  // points are chosen on the validation patients scored that way, not on single slices.
  const patientIds = preds.items.map((item) => dataset.samples[dls.split.valid[item]].patientId);
  const studies = dls.split.by === 'patient' ? aggregateByGroup(preds, patientIds as string[]) : undefined;
  const operatingPoints = chooseThresholds(studies ?? preds, dataset.classes, targetSensitivity);
  const chosenOn = studies
    ? `the ${studies.groups.length} validation patients, each scored as the service scores a study (mean of its top ${STUDY_TOP_K} slices per class)`
    : measuredOn(dls);
  log('');
  formatOperatingPoints(operatingPoints, chosenOn, targetSensitivity).forEach((line) => log(line));

  const modelPath = join(o.out, 'model.safetensors');
  if (!main) return { modelPath, evaluation, history: learner.history, dls, model, learner };
  saveModel(modelPath, model, {
    classes: dataset.classes,
    input: dls.input,
    thresholds: Object.fromEntries(Object.entries(operatingPoints).map(([name, p]) => [name, p.threshold])),
    provenance: {
      operatingPoints: { targetSensitivity, chosenOn, points: operatingPoints },
      data: { source: dataset.source, images: dataset.samples.length, classes: summary.classes },
      split: { by: dls.split.by, validPct: dls.split.validPct, seed, validPatients: dls.split.validPatients, validImages: dls.split.valid.length },
      training: {
        arch,
        pretrained: describePretrained(pretrained, arch),
        epochs,
        freezeEpochs,
        trainFrom: o.trainFrom ?? 0,
        lr,
        size: dls.input.size,
        batchSize: o.batchSize ?? 32,
        dataParallel: o.group ? { processes: o.group.worldSize, backend: o.group.backend } : null,
        seconds,
        stopReason: learner.stopReason ?? null,
      },
      history: learner.history,
      validation: { measuredOn: measuredOn(dls), accuracy: evaluation.accuracy, auc: evaluation.auc, patientAuc: evaluation.patientAuc ?? null },
      software: { findstroke: '0.1.0', node: process.version, ...engineInfo() },
      createdAt: new Date().toISOString(),
    },
  });
  // A run stopped early (Ctrl-C, NaN) keeps its checkpoint, to be resumed.
  if (!learner.stopReason) rmSync(checkpoint.path, { force: true });
  writeFileSync(join(o.out, 'metrics.json'), JSON.stringify({ measuredOn: measuredOn(dls), seconds, ...evaluation }, null, 2) + '\n');
  writeFileSync(
    join(o.out, 'split.json'),
    JSON.stringify({ by: dls.split.by, seed, validPatients: dls.split.validPatients, valid: dls.split.valid.map((i) => dataset.samples[i].path) }, null, 2) +
      '\n',
  );
  log(`\nmodel saved to ${modelPath} (${seconds.toFixed(0)} s of training)`);

  const spec = readModelSpec(modelPath);
  const validFiles = preds.items.map((item) => dataset.samples[dls.split.valid[item]]);
  const interpretation = await interpret(new Predictor(model, spec), validFiles, { probs: preds.probs });
  await writeInterpretation(join(o.out, 'interpretation'), interpretation);
  const reportPath = join(o.out, 'report.html');
  writeFileSync(
    reportPath,
    renderReport({
      title: `findstroke training run: ${arch} on ${dataset.source}`,
      data: { source: dataset.source, images: dataset.samples.length, classes: summary.classes },
      split: { by: dls.split.by, seed, trainImages: dls.split.train.length, validImages: dls.split.valid.length, validPatients: dls.split.validPatients },
      history: learner.history,
      evaluation,
      measuredOn: measuredOn(dls),
      interpretation,
      provenance: spec.provenance ?? {},
    }),
  );
  log(`report: ${reportPath}`);
  worstPatientsLine(interpretation.patientLosses).forEach((line) => log(line));
  return { modelPath, evaluation, history: learner.history, dls, model, learner };
}

/** What decides what a run trains, resolved as the run resolves it: a checkpoint of a run with another fingerprint is not resumed. */
function runFingerprint(o: TrainRunOptions, fit: FitOptions, dataset: Dataset, dls: ImageDataLoaders): RunFingerprint {
  const samples = createHash('sha256').update(JSON.stringify(dataset.samples.map((s) => [s.path, s.label, s.patientId ?? null])));
  const { by, validPct, seed } = dls.split;
  return {
    data: dataset.source,
    samples: `${dataset.samples.length} (sha256 ${samples.digest('hex').slice(0, 16)})`,
    split: { by, validPct, seed, stratify: o.stratify ?? true },
    input: dls.input,
    augmentation: {
      augment: o.augment ?? true,
      minScale: o.minScale ?? null,
      flip: o.flip ?? false,
      rotateDegrees: o.rotateDegrees ?? null,
      brightnessContrast: o.brightnessContrast ?? null,
      oversample: o.oversample ?? false,
    },
    arch: fit.arch,
    pretrained: describePretrained(fit.pretrained, fit.arch),
    epochs: fit.epochs,
    freezeEpochs: fit.freezeEpochs,
    trainFrom: fit.trainFrom ?? 0,
    lr: fit.lr,
    batchSize: o.batchSize ?? 32,
    bf16: fit.bf16 ?? false,
    memoryFormat: fit.memoryFormat ?? 'default',
    balanceLoss: fit.balanceLoss ?? false,
    processes: o.group?.worldSize ?? 1,
  };
}
