/** ROC and precision-recall curves, and calibration (reliability diagram, expected calibration error). */

export interface CurvePoint {
  x: number;
  y: number;
  threshold: number;
}

/** Points sorted by falling threshold, one per distinct score. */
function sweep(scores: ArrayLike<number>, positive: ArrayLike<boolean>): { tp: number; fp: number; threshold: number }[] {
  const order = Array.from({ length: scores.length }, (_, i) => i).sort((a, b) => scores[b] - scores[a]);
  const out: { tp: number; fp: number; threshold: number }[] = [];
  let tp = 0;
  let fp = 0;
  order.forEach((i, k) => {
    if (positive[i]) tp++;
    else fp++;
    if (k === order.length - 1 || scores[order[k + 1]] !== scores[i]) out.push({ tp, fp, threshold: scores[i] });
  });
  return out;
}

/** ROC curve: x = false-positive rate (1 - specificity), y = sensitivity; starts at (0, 0). */
export function rocCurve(scores: ArrayLike<number>, positive: ArrayLike<boolean>): CurvePoint[] {
  const positives = Array.from(positive).filter(Boolean).length;
  const negatives = positive.length - positives;
  return [
    { x: 0, y: 0, threshold: Infinity },
    ...sweep(scores, positive).map(({ tp, fp, threshold }) => ({ x: negatives ? fp / negatives : 0, y: positives ? tp / positives : 0, threshold })),
  ];
}

/** Precision-recall curve: x = recall, y = precision. */
export function precisionRecallCurve(scores: ArrayLike<number>, positive: ArrayLike<boolean>): CurvePoint[] {
  const positives = Array.from(positive).filter(Boolean).length;
  return sweep(scores, positive).map(({ tp, fp, threshold }) => ({ x: positives ? tp / positives : 0, y: tp / (tp + fp), threshold }));
}

export interface ReliabilityBin {
  /** Bin range of predicted confidence. */
  low: number;
  high: number;
  count: number;
  /** Mean confidence and observed accuracy in the bin. */
  confidence: number;
  accuracy: number;
}

/**
 * Reliability of the top-class confidence in `bins` equal-width bins, and the expected calibration
 * error (Guo et al. 2017): the count-weighted mean |accuracy - confidence| over bins.
 */
export function calibration(p: { probs: Float32Array; targets: Int32Array; classes: number }, bins = 10): { bins: ReliabilityBin[]; ece: number } {
  const out: ReliabilityBin[] = Array.from({ length: bins }, (_, b) => ({ low: b / bins, high: (b + 1) / bins, count: 0, confidence: 0, accuracy: 0 }));
  const n = p.targets.length;
  for (let i = 0; i < n; i++) {
    const row = p.probs.subarray(i * p.classes, (i + 1) * p.classes);
    let top = 0;
    row.forEach((v, c) => (top = v > row[top] ? c : top));
    const bin = out[Math.min(bins - 1, Math.floor(row[top] * bins))];
    bin.count++;
    bin.confidence += row[top];
    bin.accuracy += top === p.targets[i] ? 1 : 0;
  }
  let ece = 0;
  for (const bin of out) {
    if (!bin.count) continue;
    bin.confidence /= bin.count;
    bin.accuracy /= bin.count;
    ece += (bin.count / n) * Math.abs(bin.accuracy - bin.confidence);
  }
  return { bins: out, ece };
}
