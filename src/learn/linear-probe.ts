/**
 * Fitting the linear study head (a linear probe): every training slice's fixed embedding, labelled with
 * its study's class, one full-batch L2-regularised softmax regression through the {@link Learner} (Adam on
 * the whole set each step, so each step is an epoch; a convex problem, so the seed matters little), classes
 * weighted by the inverse of their slice share.
 */
import { F, Tensor, keep, manualSeed, noGrad, tidy } from '../torch/index.js';
import { LinearMeanHead } from '../models/linear-mean-head.js';
import { checkBags, type MilData, type StudyBag } from './mil.js';
import { Learner } from './learner.js';
import type { Callback } from './callback.js';

export interface LinearProbeOptions {
  /** Weight of the squared weights (L2) added to the mean loss (default 0.01). */
  l2?: number;
  /** Full-batch optimiser steps (default 300). */
  steps?: number;
  /** Adam's learning rate (default 0.01). */
  lr?: number;
  /** Weight each class's loss by the inverse of its share of the slices (default true). */
  balanceClasses?: boolean;
  seed?: number;
  /** Callbacks of the training loop (progress, the NaN guard, ...). */
  callbacks?: Callback[];
}

/** Fits a fresh {@link LinearMeanHead} to the slices of `bags`, each labelled with its bag's class. */
export async function fitLinearMeanHead(data: MilData, bags: readonly StudyBag[], numClasses: number, o: LinearProbeOptions = {}): Promise<LinearMeanHead> {
  const { l2 = 0.01, steps = 300, lr = 0.01, balanceClasses = true, seed = 42 } = o;
  if (data.encoder) throw new Error('the linear study head learns from fixed slice embeddings: it trains no body stages (trainStages 0)');
  checkBags(data, bags, numClasses);
  manualSeed(seed);
  const rows = bags.flatMap((b) => b.rows);
  const labels = bags.flatMap((b) => b.rows.map(() => b.label));
  const counts = Array.from({ length: numClasses }, (_, c) => labels.filter((l) => l === c).length);
  const x = keep(noGrad(() => tidy(() => data.instances.indexSelect(0, Tensor.of(rows, [rows.length], 'int64')))));
  const head = new LinearMeanHead({ inFeatures: x.shape[1], numClasses });
  const y = keep(Tensor.of(labels, [labels.length], 'int64'));
  const weight = keep(Tensor.of(counts.map((n) => (balanceClasses && n ? labels.length / (numClasses * n) : 1))));
  noGrad(() => head.standardizeWith(x));
  const everySlice = { x, y };
  const learner = new Learner(
    {
      model: head,
      layerGroups: () => [head.parameters()],
      batchCount: () => 1,
      beginFit: async () => ({
        batches: () => [everySlice],
        loss: () => ({ loss: F.crossEntropy(head.slices(x), y, { weight }).add(head.classify.weight.pow(2).sum().mul(l2)), items: labels.length }),
      }),
    },
    { weightDecay: 0, callbacks: o.callbacks },
  );
  try {
    await learner.fit(steps, lr);
  } finally {
    learner.resetOptimizer();
    for (const t of [x, y, weight]) t.dispose();
  }
  return head.eval();
}
