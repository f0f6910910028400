/** Evaluates an exported model on a labelled dataset (all of it is the test set). */
import type { Dataset } from '../data/types.js';
import { evaluate, type Evaluation } from './evaluation.js';
import type { Predictor } from './predictor.js';

export interface FileEvaluation extends Evaluation {
  /** Files that could not be read, with reasons; they are left out of the figures. */
  failures: { path: string; error: string }[];
}

export async function evaluateDataset(predictor: Predictor, dataset: Dataset, { tta = false, topK = 3 } = {}): Promise<FileEvaluation> {
  const classes = predictor.spec.classes;
  const unknown = dataset.classes.filter((c) => !classes.includes(c));
  if (unknown.length) throw new Error(`${dataset.source}: class ${unknown.map((c) => `'${c}'`).join(', ')} is not one of the model's classes (${classes.join(', ')})`);
  const results = await predictor.predict(dataset.samples.map((s) => s.path), { tta });
  const failures: { path: string; error: string }[] = [];
  const rows: Float32Array[] = [];
  const targets: number[] = [];
  const patients: (string | undefined)[] = [];
  results.forEach((r, i) => {
    if ('error' in r) return void failures.push(r);
    rows.push(Float32Array.from(classes, (c) => r.probabilities[c]));
    targets.push(classes.indexOf(dataset.samples[i].label));
    patients.push(dataset.samples[i].patientId);
  });
  if (!rows.length) throw new Error(`${dataset.source}: none of the ${results.length} images could be read (first: ${failures[0]?.path}: ${failures[0]?.error})`);
  const probs = new Float32Array(rows.length * classes.length);
  rows.forEach((row, i) => probs.set(row, i * classes.length));
  return { ...evaluate({ probs, targets: Int32Array.from(targets), classes: classes.length }, classes, patients, topK), failures };
}
