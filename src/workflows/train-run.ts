/**
 * One training run end to end, as the reference notebook does it: dataset -> seeded split -> loaders ->
 * pretrained classifier -> fine_tune -> evaluation -> exported model, with every output of the run
 * (model, epoch log, split, metrics) written to one folder. The CLI's `train` and the demo call this.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { manualSeed } from '../torch/index.js';
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
import { loadedModel, saveModel } from '../learn/model-file.js';
import { writeRunFolder } from './run-folder.js';
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
      `data-parallel: ${o.group.worldSize} processes over ${o.group.backend}, ${(o.batchSize ?? 32) / o.group.worldSize} images each per batch of ${o.batchSize ?? 32}${o.syncBatchNorm ? ', batch norm synchronised' : ''}`,
    );

  const checkpoint = { path: join(o.out, 'checkpoint.safetensors'), fingerprint: runFingerprint(o, fit, dataset, dls), resume: o.resume };
  const { model, learner, preds, evaluation, seconds } = await fitOnSplit(dataset, dls, { ...fit, checkpoint }, log, join(o.out, 'history.csv'));
  // Trained on a GPU, the model comes back to the CPU, where prediction runs: the run's interpretation and report use it.
  if (fit.device && fit.device !== 'cpu') model.to('cpu');

  // The service flags a study by the mean of its top slices, so with patients known the operating
  // points are chosen on the validation patients scored that way, not on single slices.
  const validFiles = preds.items.map((item) => dataset.samples[dls.split.valid[item]]);
  const studies = dls.split.by === 'patient' ? aggregateByGroup(preds, validFiles.map((s) => s.patientId) as string[]) : undefined;
  const chosenOn = studies
    ? `the ${studies.groups.length} validation patients, each scored as the service scores a study (mean of its top ${STUDY_TOP_K} slices per class)`
    : measuredOn(dls);
  const modelPath = join(o.out, 'model.safetensors');
  if (!main) return { modelPath, evaluation, history: learner.history, dls, model, learner };
  const { split } = dls;
  await writeRunFolder({
    out: o.out,
    dataset,
    summary,
    split: { by: split.by, seed, validPct: split.validPct, trainImages: split.train.length, valid: split.valid, validPatients: split.validPatients },
    evaluation,
    measuredOn: measuredOn(dls),
    seconds,
    history: learner.history,
    thresholdsOn: { predictions: studies ?? preds, chosenOn },
    targetSensitivity: o.targetSensitivity ?? 0.9,
    validation: { files: validFiles, probs: preds.probs },
    provenance: {
      data: { source: dataset.source, images: dataset.samples.length, classes: summary.classes },
      training: {
        arch,
        pretrained: describePretrained(pretrained, arch),
        epochs,
        freezeEpochs,
        trainFrom: o.trainFrom ?? 0,
        lr,
        size: dls.input.size,
        batchSize: o.batchSize ?? 32,
        precision: fit.bf16 ? 'bfloat16 autocast' : 'float32',
        device: fit.device ?? 'cpu',
        dataParallel: o.group ? { processes: o.group.worldSize, backend: o.group.backend, syncBatchNorm: o.syncBatchNorm ?? false } : null,
        seconds,
        stopReason: learner.stopReason ?? null,
      },
    },
    save: (path, fields) => loadedModel(saveModel(path, model, { classes: dataset.classes, input: dls.input, ...fields }), model),
    logAs: { model: 'model', seconds: 's of training' },
    report: { title: `findstroke training run: ${arch} on ${dataset.source}` },
    log,
  });
  // A run stopped early (Ctrl-C, NaN) keeps its checkpoint, to be resumed.
  if (!learner.stopReason) rmSync(checkpoint.path, { force: true });
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
    syncBatchNorm: fit.syncBatchNorm ?? false,
  };
}
