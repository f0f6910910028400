/**
 * The data of study-level (multiple-instance) models: every slice is a row of one instance tensor (an
 * embedding, or the feature map of a frozen stage), a study is a bag of rows, and the study label
 * supervises a pooled prediction. An optional encoder (e.g. the body's last stage, fine-tuned on cached
 * maps of the frozen stages) turns rows into slice features. The study recipes (src/recipes) train on
 * these bags; this module predicts them.
 */
import { Tensor, inferenceMode, tidy, type nn } from '../torch/index.js';
import type { Dataset } from '../data/types.js';
import type { StudyHead } from '../models/study-classifier.js';
import { studiesOf } from './file-studies.js';
import type { Predictions } from './metrics.js';

/** One study: the rows of its slices in the instance tensor (in slice order) and its class. */
export interface StudyBag {
  id: string;
  rows: number[];
  label: number;
}

/** Every slice as a row of `instances`; `encoder` (trained with the head when given) turns rows into features [n, dim]. */
export interface MilData {
  instances: Tensor;
  encoder?: nn.Module;
}

/** A study's prediction: class probabilities, each slice's own probabilities ([slices, C]) and attention weights. */
export interface BagPrediction {
  study: Float32Array;
  slices: Float32Array;
  attention: Float32Array;
}

const rowIndex = (rows: readonly number[]) => Tensor.of(rows, [rows.length], 'int64');

/** Slice features [rows, dim] of `rows`: the rows themselves, or what the encoder makes of them. */
export function features(data: MilData, rows: readonly number[]): Tensor {
  const x = data.instances.indexSelect(0, rowIndex(rows));
  return data.encoder ? data.encoder.forward(x) : x;
}

/** Features of many rows without gradients, in chunks (an encoder's maps are large). */
export function featuresOf(data: MilData, rows: readonly number[], chunk = 64): Tensor {
  const parts: Tensor[] = [];
  for (let start = 0; start < rows.length; start += chunk) parts.push(features(data, rows.slice(start, start + chunk)));
  return Tensor.cat(parts, 0);
}

/** Refuses an empty list, or a bag whose rows or label do not fit the instances and classes. */
export function checkBags(data: MilData, bags: readonly StudyBag[], numClasses: number): void {
  if (!bags.length) throw new Error('study-level training needs at least one bag');
  const count = data.instances.shape[0];
  const bad = bags.find((b) => !b.rows.length || b.rows.some((r) => !Number.isInteger(r) || r < 0 || r >= count) || b.label < 0 || b.label >= numClasses);
  if (bad) throw new Error(`bag ${bad.id}: rows [${bad.rows.join(', ')}] and label ${bad.label} do not fit ${count} instances and ${numClasses} classes`);
}

/** The study and slice probabilities `model` gives `bag` (put an encoder in evaluation mode first). */
export function predictBag(model: StudyHead, data: MilData, bag: Pick<StudyBag, 'rows'>): BagPrediction {
  return inferenceMode(() =>
    tidy(() => {
      const out = model.bag(featuresOf(data, bag.rows));
      return { study: out.study.softmax(1).floats(), slices: out.slices.softmax(1).floats(), attention: out.attention.floats() };
    }),
  );
}

/** Predictions of `bags` (one per bag, in order) as slice-level and study-level prediction sets, each row labelled with its study's class. */
export function bagPredictionSets(
  bags: readonly StudyBag[],
  predictions: readonly BagPrediction[],
  classes: number,
): { slices: Predictions; studies: Predictions } {
  return {
    slices: {
      probs: Float32Array.from(predictions.flatMap((p) => [...p.slices])),
      targets: Int32Array.from(bags.flatMap((b) => new Array<number>(b.rows.length).fill(b.label))),
      classes,
    },
    studies: { probs: Float32Array.from(predictions.flatMap((p) => [...p.study])), targets: Int32Array.from(bags.map((b) => b.label)), classes },
  };
}

/**
 * Groups rows into bags, in the order given: `groupOf(row)` names each row's study, `labelOf(row)` its
 * class. A study whose rows disagree on the class is refused.
 */
export function bagsOf(rows: readonly number[], groupOf: (row: number) => string, labelOf: (row: number) => number): StudyBag[] {
  const members = new Map<string, number[]>();
  for (const row of rows) (members.get(groupOf(row)) ?? members.set(groupOf(row), []).get(groupOf(row))!).push(row);
  return [...members].map(([id, list]) => {
    const labels = new Set(list.map(labelOf));
    if (labels.size > 1) throw new Error(`study ${id} has slices of ${labels.size} classes; study-level labels must agree`);
    return { id, rows: list, label: labelOf(list[0]) };
  });
}

/**
 * A study bag per patient of dataset `rows` (slices in slice order). Training needs every slice's patient;
 * prediction (`withoutPatient: 'own-study'`) makes a slice without one a one-slice study of its own (see {@link studiesOf}), named by its path.
 * @throws Error naming the first file without a patient id, unless it is to be a study of its own.
 */
export function studyBags(
  dataset: Dataset,
  rows: readonly number[],
  { withoutPatient = 'refuse' }: { withoutPatient?: 'refuse' | 'own-study' } = {},
): StudyBag[] {
  const orphan = rows.find((r) => dataset.samples[r].patientId === undefined);
  if (withoutPatient === 'refuse' && orphan !== undefined) {
    throw new Error(
      `${dataset.samples[orphan].path}: no patient id; study-level models group slices into studies by patient (manifest patient_id, DICOM PatientID or pNNN_ file names)`,
    );
  }
  const studies = studiesOf(dataset.samples, rows);
  const studyOf = new Map(studies.flatMap(({ patientId, members }) => members.map((r) => [r, patientId ?? dataset.samples[r].path])));
  const classIndex = new Map(dataset.classes.map((c, i) => [c, i]));
  return bagsOf(
    studies.flatMap((s) => s.members),
    (r) => studyOf.get(r)!,
    (r) => classIndex.get(dataset.samples[r].label)!,
  );
}
