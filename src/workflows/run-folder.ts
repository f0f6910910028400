/**
 * The folder a training run leaves, whatever its recipe: triage thresholds chosen on the validation
 * studies, the exported model with its provenance, metrics.json, split.json, the interpretation of the
 * validation files (top losses with Grad-CAM) and report.html. Every recipe's `train` ends here.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { engineInfo } from '../torch/index.js';
import type { Dataset, Sample } from '../data/types.js';
import type { DatasetSummary } from '../data/summary.js';
import type { EpochResult } from '../learn/callback.js';
import type { Evaluation } from '../learn/evaluation.js';
import type { Predictions } from '../learn/metrics.js';
import type { LoadedModel } from '../learn/model-file.js';
import { Predictor } from '../learn/predictor.js';
import { chooseThresholds, formatOperatingPoints } from '../learn/thresholds.js';
import { interpret, worstPatientsLine, writeInterpretation, type PatientScores } from '../interpret/interpret.js';
import { renderReport } from '../interpret/report.js';

/** A model fitted on a split's training side and measured on its validation side. */
export interface FittedRun {
  out: string;
  dataset: Dataset;
  summary: DatasetSummary;
  split: { by: 'patient' | 'random'; seed: number; validPct: number; trainImages: number; valid: readonly number[]; validPatients?: string[] };
  evaluation: Evaluation;
  /** What the evaluation was measured on, in words. */
  measuredOn: string;
  seconds: number;
  history: EpochResult[];
  /** The validation studies as the service scores a study, which the triage thresholds are chosen on, and what they are in words. */
  thresholdsOn: { predictions: Predictions; chosenOn: string };
  targetSensitivity: number;
  /** The validation files, their slice probabilities (a row each, in order), and each validation patient's as the model scores one itself. */
  validation: { files: Sample[]; probs: Float32Array; patientScores?: PatientScores };
  /** The provenance's records of the data and of the training, as the recipe describes them. */
  provenance: { data: Record<string, unknown>; training: Record<string, unknown> };
  /** Writes the model file at `path` with `fields`; returns the model as its file loads. */
  save(path: string, fields: { thresholds: Record<string, number>; provenance: Record<string, unknown> }): LoadedModel;
  /** How the log names the model ('study model') and what its seconds are ('s of training': the fit alone; 's': the whole run). */
  logAs: { model: string; seconds: string };
  report: { title: string; trainingNote?: string };
  log: (line: string) => void;
}

/** Writes the run folder of `run` to `run.out` (which exists); returns the model's path. */
export async function writeRunFolder(run: FittedRun): Promise<string> {
  const { out, dataset, split, evaluation, measuredOn, seconds, history, targetSensitivity, log } = run;
  const { chosenOn } = run.thresholdsOn;
  const operatingPoints = chooseThresholds(run.thresholdsOn.predictions, dataset.classes, targetSensitivity);
  log('');
  formatOperatingPoints(operatingPoints, chosenOn, targetSensitivity).forEach((line) => log(line));

  const modelPath = join(out, 'model.safetensors');
  const { spec, sliceScorer } = run.save(modelPath, {
    thresholds: Object.fromEntries(Object.entries(operatingPoints).map(([name, p]) => [name, p.threshold])),
    provenance: {
      operatingPoints: { targetSensitivity, chosenOn, points: operatingPoints },
      data: run.provenance.data,
      split: { by: split.by, validPct: split.validPct, seed: split.seed, validPatients: split.validPatients, validImages: split.valid.length },
      training: run.provenance.training,
      history,
      validation: { measuredOn, accuracy: evaluation.accuracy, auc: evaluation.auc, patientAuc: evaluation.patientAuc ?? null },
      software: { findstroke: '0.1.0', node: process.version, ...engineInfo() },
      createdAt: new Date().toISOString(),
    },
  });
  writeFileSync(join(out, 'metrics.json'), JSON.stringify({ measuredOn, seconds, ...evaluation }, null, 2) + '\n');
  const validPaths = split.valid.map((i) => dataset.samples[i].path);
  writeFileSync(
    join(out, 'split.json'),
    JSON.stringify({ by: split.by, seed: split.seed, validPatients: split.validPatients, valid: validPaths }, null, 2) + '\n',
  );
  log(`\n${run.logAs.model} saved to ${modelPath} (${seconds.toFixed(0)} ${run.logAs.seconds})`);

  const { files, probs, patientScores } = run.validation;
  const interpretation = await interpret(new Predictor(sliceScorer, spec), files, { probs, patientScores });
  await writeInterpretation(join(out, 'interpretation'), interpretation);
  const reportPath = join(out, 'report.html');
  writeFileSync(
    reportPath,
    renderReport({
      ...run.report,
      data: { source: dataset.source, images: dataset.samples.length, classes: run.summary.classes },
      split: { by: split.by, seed: split.seed, trainImages: split.trainImages, validImages: split.valid.length, validPatients: split.validPatients },
      history,
      evaluation,
      measuredOn,
      interpretation,
      provenance: spec.provenance ?? {},
    }),
  );
  log(`report: ${reportPath}`);
  worstPatientsLine(interpretation.patientLosses).forEach((line) => log(line));
  return modelPath;
}
