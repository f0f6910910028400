/**
 * One training run end to end, as the reference notebook does it: dataset -> seeded split -> loaders ->
 * pretrained classifier -> fine_tune -> evaluation -> exported model, with every output of the run
 * (model, epoch log, split, metrics) written to one folder. The CLI's `train` and the demo call this.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { manualSeed, engineInfo } from '../torch/index.js';
import { datasetFromPath } from '../data/sources/index.js';
import { summarize } from '../data/summary.js';
import { imageDataLoaders, type ImageDataOptions, type ImageDataLoaders } from '../data/dataloaders.js';
import type { Dataset } from '../data/types.js';
import { createClassifier, describePretrained, type Pretrained } from '../models/create.js';
import type { ResNetArch } from '../models/resnet.js';
import type { VisionClassifier } from '../models/classifier.js';
import { Learner } from '../learn/learner.js';
import { ERROR_RATE, ROC_AUC } from '../learn/standard-metrics.js';
import { ProgressBar } from '../learn/callbacks/progress.js';
import { ResultsTable, CsvLogger } from '../learn/callbacks/recorder.js';
import { SaveBest } from '../learn/callbacks/save-best.js';
import { StopOnInterrupt, StopOnNaN } from '../learn/callbacks/guards.js';
import { evaluate, formatEvaluation, type Evaluation } from '../learn/evaluation.js';
import { saveModel, readModelSpec } from '../learn/model-file.js';
import { Predictor } from '../learn/predictor.js';
import { interpret, writeInterpretation } from '../interpret/interpret.js';
import { renderReport } from '../interpret/report.js';
import type { EpochResult } from '../learn/callback.js';

export interface TrainRunOptions extends ImageDataOptions {
  /** A dataset folder (class folders or manifest.csv) or manifest CSV, or an already loaded dataset. */
  data: string | Dataset;
  out: string;
  arch?: ResNetArch;
  pretrained?: Pretrained;
  epochs?: number;
  freezeEpochs?: number;
  lr?: number;
  bf16?: boolean;
  /** Weight the loss by inverse class frequency. */
  balanceLoss?: boolean;
  /** Keep the best epoch's weights (by validation loss) rather than the last. */
  saveBest?: boolean;
  log?: (line: string) => void;
}

export interface TrainRunResult {
  modelPath: string;
  evaluation: Evaluation;
  history: EpochResult[];
  dls: ImageDataLoaders;
  model: VisionClassifier;
  /** Validation predictions: probabilities and targets per validation item. */
  learner: Learner;
}

/** Describes what the validation figures were measured on, honestly. */
export function measuredOn(dls: ImageDataLoaders): string {
  const { split } = dls;
  const slices = split.valid.length;
  if (split.by === 'patient') return `the validation split: ${slices} images of ${split.validPatients?.length ?? '?'} held-out patients (patient-level split, seed ${split.seed})`;
  return `the validation split: ${slices} images chosen at random (seed ${split.seed}); slices of one patient may sit on both sides, so these figures can be inflated`;
}

export async function trainRun(o: TrainRunOptions): Promise<TrainRunResult> {
  const log = o.log ?? ((line: string) => console.log(line));
  const { arch = 'resnet50', pretrained = 'imagenet', epochs = 3, freezeEpochs = 1, lr = 2e-3, seed = 42 } = o;
  mkdirSync(o.out, { recursive: true });
  manualSeed(seed);

  const dataset = typeof o.data === 'string' ? await datasetFromPath(o.data) : o.data;
  const summary = await summarize(dataset);
  log(`data: ${dataset.source}: ${dataset.samples.length} images, classes ${dataset.classes.map((c) => `${c} (${summary.classes.find((k) => k.label === c)?.images ?? '?'})`).join(', ')}`);
  const dls = imageDataLoaders(dataset, { ...o, seed });
  log(`split: ${dls.split.train.length} training / ${dls.split.valid.length} validation images, ${dls.split.by === 'patient' ? `by patient (${dls.split.validPatients!.length} validation patients)` : 'at random (no patient ids: figures may be inflated)'}`);

  const model = await createClassifier({ arch, numClasses: dataset.classes.length, pretrained });
  log(`model: ${arch}, body ${describePretrained(pretrained, arch)}, fastai head, ${(model.countParameters() / 1e6).toFixed(1)} M parameters`);
  const counts = dataset.classes.map((c) => dls.split.train.filter((i) => dataset.samples[i].label === c).length);
  const classWeights = o.balanceLoss ? counts.map((n) => counts.reduce((a, b) => a + b, 0) / (counts.length * Math.max(1, n))) : undefined;
  const saveBest = o.saveBest === false ? undefined : new SaveBest({ name: 'valid_loss', mode: 'min' });
  const learner = new Learner(model, dls, {
    metrics: [ERROR_RATE, ROC_AUC],
    callbacks: [new ProgressBar(), new ResultsTable(log), new CsvLogger(join(o.out, 'history.csv')), new StopOnNaN(), new StopOnInterrupt(), ...(saveBest ? [saveBest] : [])],
    classWeights,
    bf16: o.bf16,
  });

  const started = performance.now();
  await learner.fineTune(epochs, lr, { freezeEpochs });
  const seconds = (performance.now() - started) / 1000;
  if (learner.stopReason) log(`stopped early: ${learner.stopReason}`);
  if (saveBest && saveBest.bestEpoch >= 0) log(`kept the weights of epoch ${saveBest.bestEpoch} (lowest validation loss ${saveBest.bestValue.toFixed(4)})`);

  const preds = await learner.getPreds();
  const patientIds = preds.items.map((item) => dataset.samples[dls.split.valid[item]].patientId);
  const evaluation = evaluate(preds, dataset.classes, patientIds);
  log('');
  log(formatEvaluation(evaluation, measuredOn(dls)));

  const modelPath = join(o.out, 'model.safetensors');
  saveModel(modelPath, model, {
    classes: dataset.classes,
    input: dls.input,
    provenance: {
      data: { source: dataset.source, images: dataset.samples.length, classes: summary.classes },
      split: { by: dls.split.by, validPct: dls.split.validPct, seed, validPatients: dls.split.validPatients, validImages: dls.split.valid.length },
      training: { arch, pretrained: describePretrained(pretrained, arch), epochs, freezeEpochs, lr, size: dls.input.size, batchSize: o.batchSize ?? 32, seconds, stopReason: learner.stopReason ?? null },
      history: learner.history,
      validation: { measuredOn: measuredOn(dls), accuracy: evaluation.accuracy, auc: evaluation.auc, patientAuc: evaluation.patientAuc ?? null },
      software: { findstroke: '0.1.0', node: process.version, ...engineInfo() },
      createdAt: new Date().toISOString(),
    },
  });
  writeFileSync(join(o.out, 'metrics.json'), JSON.stringify({ measuredOn: measuredOn(dls), seconds, ...evaluation }, null, 2) + '\n');
  writeFileSync(
    join(o.out, 'split.json'),
    JSON.stringify({ by: dls.split.by, seed, validPatients: dls.split.validPatients, valid: dls.split.valid.map((i) => dataset.samples[i].path) }, null, 2) + '\n',
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
  return { modelPath, evaluation, history: learner.history, dls, model, learner };
}
