/**
 * Training and prediction for study-level (multiple-instance) models: every slice is a row of one
 * instance tensor (an embedding, or the feature map of a frozen stage), a study is a bag of rows, and the
 * study label supervises a pooled prediction. A one-cycle AdamW fit over bags (a few bags per step)
 * through the {@link Learner}, with a random subset of each bag's slices every time it is seen, so that
 * the model cannot lean on one particular slice of a training patient. An optional encoder (e.g. the
 * body's last stage, fine-tuned on cached maps of the frozen stages) turns rows into slice features and
 * trains with the head.
 */
import { F, Tensor, inferenceMode, keep, manualSeed, nn, noGrad, tidy } from '../torch/index.js';
import { Rng } from '../data/rng.js';
import type { Dataset } from '../data/types.js';
import { AttentionMil, type AttentionMilSpec } from '../models/attention-mil.js';
import type { StudyHead } from '../models/study-classifier.js';
import { studiesOf } from './file-studies.js';
import { Learner, type LearnerTask } from './learner.js';
import type { Callback } from './callback.js';
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

export interface MilFitOptions extends Partial<Omit<AttentionMilSpec, 'inFeatures' | 'numClasses'>> {
  /** Passes over the training bags (default 60). */
  epochs?: number;
  /** Peak learning rate of the head's one-cycle schedule (default 1e-3). */
  lr?: number;
  /** Peak learning rate of the encoder, when there is one (default lr / 10). */
  encoderLr?: number;
  /** Decoupled weight decay (default 0.05). */
  weightDecay?: number;
  /** Bags per optimiser step (default 8). */
  bagsPerStep?: number;
  /** Share of each bag's slices kept every time it is seen (default 0.7). */
  keepSlices?: number;
  /** At most this many of a bag's slices per pass (default: no cap); bounds an encoder's work per step. */
  maxSlices?: number;
  /** Weight of a per-slice loss (each slice's own score against the study label) beside the study loss (default 0). */
  sliceLoss?: number;
  /** Weight each class's loss by the inverse of its share of the bags (default true). */
  balanceClasses?: boolean;
  seed?: number;
  /** Callbacks of the training loop (progress, the NaN guard, ...). */
  callbacks?: Callback[];
}

/** One optimiser step's bags, each with the rows of the slices it keeps this time. */
interface BagStep {
  bags: StudyBag[];
  kept: number[][];
}

/** A study's prediction: class probabilities, each slice's own probabilities ([slices, C]) and attention weights. */
export interface BagPrediction {
  study: Float32Array;
  slices: Float32Array;
  attention: Float32Array;
}

const rowIndex = (rows: readonly number[]) => Tensor.of(rows, [rows.length], 'int64');

/** Slice features [rows, dim] of `rows`: the rows themselves, or what the encoder makes of them. */
function features(data: MilData, rows: readonly number[]): Tensor {
  const x = data.instances.indexSelect(0, rowIndex(rows));
  return data.encoder ? data.encoder.forward(x) : x;
}

/** Features of many rows without gradients, in chunks (an encoder's maps are large). */
function featuresOf(data: MilData, rows: readonly number[], chunk = 64): Tensor {
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

/** Fits a fresh {@link AttentionMil} (and the encoder, if any) to `bags` for `numClasses` classes. */
export async function fitAttentionMil(data: MilData, bags: readonly StudyBag[], numClasses: number, o: MilFitOptions = {}): Promise<AttentionMil> {
  const {
    epochs = 60,
    lr = 1e-3,
    encoderLr = lr / 10,
    weightDecay = 0.05,
    bagsPerStep = 8,
    keepSlices = 0.7,
    maxSlices = Infinity,
    sliceLoss = 0,
    balanceClasses = true,
    seed = 42,
  } = o;
  checkBags(data, bags, numClasses);
  const { encoder } = data;
  manualSeed(seed);
  encoder?.eval();
  const dim = noGrad(() => tidy(() => features(data, bags[0].rows.slice(0, 1)).shape[1]));
  const model = new AttentionMil({ inFeatures: dim, numClasses, hidden: o.hidden, attention: o.attention, dropout: o.dropout });
  // Standardise by the training features (through an encoder, from a sample of at most ~512 slices).
  const everyRow = bags.flatMap((b) => b.rows);
  const stride = encoder ? Math.ceil(everyRow.length / 512) : 1;
  noGrad(() =>
    tidy(() =>
      model.standardizeWith(
        featuresOf(
          data,
          everyRow.filter((_, i) => i % stride === 0),
        ),
      ),
    ),
  );
  const counts = Array.from({ length: numClasses }, (_, c) => bags.filter((b) => b.label === c).length);
  const weight = keep(Tensor.of(counts.map((n) => (balanceClasses && n ? bags.length / (numClasses * n) : 1))));
  const rng = new Rng(seed);
  const task: LearnerTask<BagStep> = {
    model: encoder ? new nn.Sequential(encoder, model) : model,
    layerGroups: () => (encoder ? [encoder.parameters(), model.parameters()] : [model.parameters()]),
    // Every parameter decays, biases and batch norm included.
    noDecay: () => new Set(),
    batchCount: () => Math.ceil(bags.length / bagsPerStep),
    beginFit: async () => ({
      *batches() {
        const order = rng.shuffle(bags.map((_, i) => i));
        for (let start = 0; start < order.length; start += bagsPerStep) {
          const step = order.slice(start, start + bagsPerStep).map((i) => bags[i]);
          yield { bags: step, kept: step.map((bag) => keptSlices(bag.rows.length, keepSlices, maxSlices, rng).map((k) => bag.rows[k])) };
        }
      },
      loss: ({ bags: step, kept }) => {
        // One encoder pass for the whole step, so that its batch norm sees every bag's slices.
        const all = features(data, kept.flat());
        let offset = 0;
        const losses = step.map((bag, b) => {
          const out = model.bag(all.slice(0, offset, offset + kept[b].length));
          offset += kept[b].length;
          const loss = F.crossEntropy(out.study, Tensor.of([bag.label], [1], 'int64'), { weight });
          if (!sliceLoss) return loss;
          const targets = Tensor.of(new Array<number>(kept[b].length).fill(bag.label), [kept[b].length], 'int64');
          return loss.add(F.crossEntropy(out.slices, targets, { weight }).mul(sliceLoss));
        });
        return { loss: losses.reduce((a, b) => a.add(b)).mul(1 / step.length), items: step.length };
      },
    }),
  };
  const learner = new Learner(task, { weightDecay, callbacks: o.callbacks });
  try {
    await learner.fitOneCycle(epochs, encoder ? { perGroup: [encoderLr, lr] } : lr);
  } finally {
    learner.resetOptimizer();
    weight.dispose();
    encoder?.eval();
  }
  return model.eval();
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

/** A random subset (at least one, at most `cap`) of `slices` slice positions, in order. */
function keptSlices(slices: number, share: number, cap: number, rng: Rng): number[] {
  const all = Array.from({ length: slices }, (_, i) => i);
  const count = Math.min(cap, Math.max(1, Math.round(slices * Math.min(1, share))));
  if (count >= slices) return all;
  return rng
    .shuffle(all)
    .slice(0, count)
    .sort((a, b) => a - b);
}
