/** Evaluates an exported model on a labelled dataset (all of it is the test set). */
import type { Dataset } from '../data/types.js';
import { evaluate, withPatientLevel, type Evaluation } from './evaluation.js';
import { STUDY_TOP_K } from './metrics.js';
import { studyBags } from './mil.js';
import type { Predictor } from './predictor.js';
import type { StudyPredictor } from './study-predictor.js';

export interface FileEvaluation extends Evaluation {
  /** Files that could not be read, with reasons; they are left out of the figures. */
  failures: { path: string; error: string }[];
}

export async function evaluateDataset(predictor: Predictor, dataset: Dataset, { tta = false, topK = STUDY_TOP_K } = {}): Promise<FileEvaluation> {
  const classes = checkedClasses(predictor.spec.classes, dataset);
  const results = await predictor.predict(
    dataset.samples.map((s) => s.path),
    { tta },
  );
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
  if (!rows.length)
    throw new Error(`${dataset.source}: none of the ${results.length} images could be read (first: ${failures[0]?.path}: ${failures[0]?.error})`);
  const probs = new Float32Array(rows.length * classes.length);
  rows.forEach((row, i) => probs.set(row, i * classes.length));
  return { ...evaluate({ probs, targets: Int32Array.from(targets), classes: classes.length }, classes, patients, topK), failures };
}

/** The model's `classes`, once every class of `dataset` is known to be one of them. */
function checkedClasses(classes: string[], dataset: Dataset): string[] {
  const unknown = dataset.classes.filter((c) => !classes.includes(c));
  if (unknown.length)
    throw new Error(`${dataset.source}: class ${unknown.map((c) => `'${c}'`).join(', ')} is not one of the model's classes (${classes.join(', ')})`);
  return classes;
}

/**
 * Evaluates an exported study model on a labelled dataset: each patient's slices are one study, and each
 * image without a patient id a one-slice study of its own (counted as a patient, and said so). Slice
 * figures are the slices' own scores; patient figures are the study predictions.
 */
export async function evaluateStudies(predictor: StudyPredictor, dataset: Dataset): Promise<FileEvaluation> {
  const classes = checkedClasses(predictor.spec.classes, dataset);
  const bags = studyBags(
    dataset,
    dataset.samples.map((_, i) => i),
    { withoutPatient: 'own-study' },
  );
  const imagesWithoutPatient = dataset.samples.filter((s) => s.patientId === undefined).length;
  const failures: { path: string; error: string }[] = [];
  const slices = { rows: [] as number[], targets: [] as number[] };
  const studies = { rows: [] as number[], targets: [] as number[] };
  for (const bag of bags) {
    const target = classes.indexOf(dataset.classes[bag.label]);
    const p = await predictor
      .predictStudy(
        bag.id,
        bag.rows.map((r) => dataset.samples[r].path),
      )
      .catch((error: Error) => void failures.push({ path: bag.id, error: error.message }));
    if (!p) continue;
    failures.push(...p.failures);
    studies.rows.push(...classes.map((c) => p.probabilities[c]));
    studies.targets.push(target);
    for (const s of p.slices) {
      slices.rows.push(...classes.map((c) => s.probabilities[c]));
      slices.targets.push(target);
    }
  }
  if (!studies.targets.length)
    throw new Error(`${dataset.source}: none of the ${bags.length} studies could be read (first: ${failures[0]?.path}: ${failures[0]?.error})`);
  const predictions = (p: typeof slices) => ({ probs: Float32Array.from(p.rows), targets: Int32Array.from(p.targets), classes: classes.length });
  return { ...withPatientLevel(evaluate(predictions(slices), classes), predictions(studies)), ...(imagesWithoutPatient && { imagesWithoutPatient }), failures };
}
