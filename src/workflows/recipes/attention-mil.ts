/**
 * The attention-MIL study recipe (`--recipe study`): every slice through the frozen body once, and an
 * attention-MIL head fitted on the training patients' studies through the {@link Learner}: a one-cycle
 * AdamW fit over bags (a few bags per step), with a random subset of each bag's slices every time it is
 * seen, so that the model cannot lean on one particular slice of a training patient. An optional encoder
 * (the body's last stages, fine-tuned on cached maps of the frozen stages: `--recipe study-finetune`)
 * turns rows into slice features and trains with the head.
 */
import { F, Tensor, keep, manualSeed, nn, noGrad, tidy } from '../../torch/index.js';
import { Rng } from '../../data/rng.js';
import { AttentionMil, type AttentionMilSpec } from '../../models/attention-mil.js';
import { checkBags, features, featuresOf, type MilData, type StudyBag } from '../../learn/mil.js';
import { Learner, type LearnerTask } from '../../learn/learner.js';
import type { Callback } from '../../learn/callback.js';

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
