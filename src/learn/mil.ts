/**
 * Training and prediction for study-level (multiple-instance) models: bags of slice embeddings, one per
 * study, supervised by the study label. A one-cycle AdamW fit over bags (a few bags per step), with a
 * random share of each bag's slices dropped every time it is seen, so that the model cannot lean on one
 * particular slice of a training patient.
 */
import { F, Optimizer, Tensor, keep, manualSeed, noGrad, tidy } from '../torch/index.js';
import { Rng } from '../data/rng.js';
import { AttentionMil, type AttentionMilSpec } from '../models/attention-mil.js';
import { oneCycle } from './schedule.js';

/** One study: its slices' embeddings (row-major [slices, dim], in slice order) and its class. */
export interface Bag {
  id: string;
  features: Float32Array;
  slices: number;
  label: number;
}

export interface MilFitOptions extends Partial<Omit<AttentionMilSpec, 'inFeatures' | 'numClasses'>> {
  /** Passes over the training bags (default 60). */
  epochs?: number;
  /** Peak learning rate of the one-cycle schedule (default 1e-3). */
  lr?: number;
  /** Decoupled weight decay (default 0.05). */
  weightDecay?: number;
  /** Bags per optimiser step (default 8). */
  bagsPerStep?: number;
  /** Share of each bag's slices kept every time it is seen (default 0.7). */
  keepSlices?: number;
  /** Weight each class's loss by the inverse of its share of the bags (default true). */
  balanceClasses?: boolean;
  seed?: number;
}

/** A study's prediction: class probabilities, each slice's own probabilities ([slices, C]) and attention weights. */
export interface BagPrediction {
  study: Float32Array;
  slices: Float32Array;
  attention: Float32Array;
}

/** Fits a fresh {@link AttentionMil} to `bags` (all of one embedding width) for `numClasses` classes. */
export function fitAttentionMil(bags: readonly Bag[], numClasses: number, o: MilFitOptions = {}): AttentionMil {
  const { epochs = 60, lr = 1e-3, weightDecay = 0.05, bagsPerStep = 8, keepSlices = 0.7, balanceClasses = true, seed = 42 } = o;
  if (!bags.length) throw new Error('study-level training needs at least one bag');
  const dim = bags[0].features.length / bags[0].slices;
  const bad = bags.find((b) => b.slices < 1 || b.features.length !== b.slices * dim || b.label < 0 || b.label >= numClasses);
  if (bad) throw new Error(`bag ${bad.id}: ${bad.slices} slices, ${bad.features.length} values, label ${bad.label} do not fit ${dim}-wide embeddings and ${numClasses} classes`);

  manualSeed(seed);
  const model = new AttentionMil({ inFeatures: dim, numClasses, hidden: o.hidden, attention: o.attention, dropout: o.dropout });
  const inputs = bags.map((b) => keep(Tensor.fromHost({ dtype: 'float32', shape: [b.slices, dim], data: b.features })));
  try {
    tidy(() => model.standardizeWith(Tensor.cat(inputs, 0)));
    const counts = Array.from({ length: numClasses }, (_, c) => bags.filter((b) => b.label === c).length);
    const weight = keep(Tensor.of(counts.map((n) => (balanceClasses && n ? bags.length / (numClasses * n) : 1))));
    const optimizer = Optimizer.adamW([{ params: model.parameters() }], { lr, weightDecay });
    const steps = epochs * Math.ceil(bags.length / bagsPerStep);
    const schedule = oneCycle(lr);
    const rng = new Rng(seed);
    model.train();
    let step = 0;
    for (let epoch = 0; epoch < epochs; epoch++) {
      const order = rng.shuffle(bags.map((_, i) => i));
      for (let start = 0; start < order.length; start += bagsPerStep) {
        const pos = step++ / steps;
        optimizer.setHyper(0, { lr: schedule.lr(pos), momentum: schedule.momentum(pos) });
        optimizer.zeroGrad();
        const group = order.slice(start, start + bagsPerStep);
        for (const i of group) {
          tidy(() => {
            const kept = keptSlices(bags[i].slices, keepSlices, rng);
            const logits = model.forward(inputs[i].indexSelect(0, Tensor.of(kept, [kept.length], 'int64')));
            F.crossEntropy(logits, Tensor.of([bags[i].label], [1], 'int64'), { weight }).mul(1 / group.length).backward();
          });
        }
        optimizer.step();
      }
    }
    optimizer.dispose();
    weight.dispose();
  } finally {
    for (const t of inputs) t.dispose();
  }
  return model.eval();
}

/** The study and slice probabilities `model` gives `bag`. */
export function predictBag(model: AttentionMil, bag: Pick<Bag, 'features' | 'slices'>): BagPrediction {
  return noGrad(() =>
    tidy(() => {
      const out = model.bag(Tensor.fromHost({ dtype: 'float32', shape: [bag.slices, bag.features.length / bag.slices], data: bag.features }));
      return { study: out.study.softmax(1).floats(), slices: out.slices.softmax(1).floats(), attention: out.attention.floats() };
    }),
  );
}

/**
 * Groups embedding rows into bags, in the order given: `groupOf(row)` names each row's study,
 * `labelOf(row)` its class; each bag remembers its rows.
 */
export function bagsOf(features: Float32Array, dim: number, rows: readonly number[], groupOf: (row: number) => string, labelOf: (row: number) => number): (Bag & { rows: number[] })[] {
  const members = new Map<string, number[]>();
  for (const row of rows) (members.get(groupOf(row)) ?? members.set(groupOf(row), []).get(groupOf(row))!).push(row);
  return [...members].map(([id, list]) => {
    const data = new Float32Array(list.length * dim);
    list.forEach((row, k) => data.set(features.subarray(row * dim, (row + 1) * dim), k * dim));
    const labels = new Set(list.map(labelOf));
    if (labels.size > 1) throw new Error(`study ${id} has slices of ${labels.size} classes; study-level labels must agree`);
    return { id, features: data, slices: list.length, label: labelOf(list[0]), rows: list };
  });
}

/** A random subset (at least one) of `slices` slice positions, in order. */
function keptSlices(slices: number, share: number, rng: Rng): number[] {
  const all = Array.from({ length: slices }, (_, i) => i);
  if (share >= 1) return all;
  const count = Math.max(1, Math.round(slices * share));
  return rng.shuffle(all).slice(0, count).sort((a, b) => a - b);
}
