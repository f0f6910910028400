/** What a confusion matrix and per-image losses say: the most confused pairs and the worst images. */

export interface ConfusedPair {
  actual: string;
  predicted: string;
  count: number;
}

/** Off-diagonal cells with at least `minCount` images, most frequent first (fastai's most_confused). */
export function mostConfused(confusion: number[][], classes: string[], minCount = 1): ConfusedPair[] {
  const pairs: ConfusedPair[] = [];
  confusion.forEach((row, i) =>
    row.forEach((count, j) => {
      if (i !== j && count >= minCount) pairs.push({ actual: classes[i], predicted: classes[j], count });
    }),
  );
  return pairs.sort((a, b) => b.count - a.count || a.actual.localeCompare(b.actual));
}

export interface LossRecord {
  /** Row in the predictions. */
  row: number;
  path: string;
  actual: string;
  predicted: string;
  loss: number;
  /** Probability of the predicted class. */
  probability: number;
  /** Probability of the actual class. */
  actualProbability: number;
}

/** The `k` images with the highest loss (fastai's top_losses), for finding mislabelled data. */
export function topLosses(
  p: { probs: Float32Array; targets: Int32Array; losses: Float32Array; classes: number },
  paths: string[],
  classes: string[],
  k: number,
): LossRecord[] {
  const rows = [...p.losses.keys()].sort((a, b) => p.losses[b] - p.losses[a]).slice(0, k);
  return rows.map((row) => {
    const probs = p.probs.subarray(row * p.classes, (row + 1) * p.classes);
    let predicted = 0;
    probs.forEach((v, c) => (predicted = v > probs[predicted] ? c : predicted));
    return {
      row,
      path: paths[row],
      actual: classes[p.targets[row]],
      predicted: classes[predicted],
      loss: p.losses[row],
      probability: probs[predicted],
      actualProbability: probs[p.targets[row]],
    };
  });
}
