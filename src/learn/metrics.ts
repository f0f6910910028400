/**
 * Classification metrics over predicted probabilities [n x classes] (row-major) and true class indices.
 * Pure functions on host arrays, so that evaluation, reports and the triage service share one definition.
 */

export interface Predictions {
  /** Row-major probabilities, `n * classes`. */
  probs: Float32Array;
  /** True class index per row. */
  targets: Int32Array;
  classes: number;
}

export function argmaxRows({ probs, classes }: Pick<Predictions, 'probs' | 'classes'>): Int32Array {
  const n = probs.length / classes;
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let c = 1; c < classes; c++) if (probs[i * classes + c] > probs[i * classes + best]) best = c;
    out[i] = best;
  }
  return out;
}

export function accuracy(p: Predictions): number {
  const predicted = argmaxRows(p);
  let right = 0;
  predicted.forEach((c, i) => (right += c === p.targets[i] ? 1 : 0));
  return predicted.length ? right / predicted.length : NaN;
}

/** fastai's error_rate: 1 - accuracy. */
export function errorRate(p: Predictions): number {
  return 1 - accuracy(p);
}

/** Confusion matrix: rows are actual classes, columns predicted. */
export function confusionMatrix(p: Predictions): number[][] {
  const m = Array.from({ length: p.classes }, () => new Array<number>(p.classes).fill(0));
  argmaxRows(p).forEach((predicted, i) => m[p.targets[i]][predicted]++);
  return m;
}

export interface ClassReport {
  precision: number;
  /** Sensitivity. */
  recall: number;
  specificity: number;
  f1: number;
  support: number;
}

/** Per-class precision, recall (sensitivity), specificity and F1, one-vs-rest from the confusion matrix. */
export function classReport(p: Predictions): ClassReport[] {
  const m = confusionMatrix(p);
  const total = p.targets.length;
  return m.map((row, c) => {
    const tp = row[c];
    const support = row.reduce((a, b) => a + b, 0);
    const predicted = m.reduce((a, r) => a + r[c], 0);
    const fp = predicted - tp;
    const fn = support - tp;
    const tn = total - tp - fp - fn;
    const precision = predicted ? tp / predicted : NaN;
    const recall = support ? tp / support : NaN;
    return {
      precision,
      recall,
      specificity: tn + fp ? tn / (tn + fp) : NaN,
      f1: precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0,
      support,
    };
  });
}

export function macroF1(p: Predictions): number {
  const reports = classReport(p).filter((r) => r.support > 0);
  return reports.reduce((a, r) => a + r.f1, 0) / reports.length;
}

/**
 * Area under the ROC curve of `scores` for `positive` labels (Mann-Whitney U, ties counted half).
 * NaN when either class is absent.
 */
export function binaryAuc(scores: ArrayLike<number>, positive: ArrayLike<boolean>): number {
  const order = Array.from({ length: scores.length }, (_, i) => i).sort((a, b) => scores[a] - scores[b]);
  let rankSumPositive = 0;
  let positives = 0;
  for (let i = 0; i < order.length;) {
    let j = i;
    while (j + 1 < order.length && scores[order[j + 1]] === scores[order[i]]) j++;
    const averageRank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++)
      if (positive[order[k]]) {
        rankSumPositive += averageRank;
        positives++;
      }
    i = j + 1;
  }
  const negatives = order.length - positives;
  if (!positives || !negatives) return NaN;
  return (rankSumPositive - (positives * (positives + 1)) / 2) / (positives * negatives);
}

/** One-vs-rest ROC AUC per class. */
export function aucPerClass(p: Predictions): number[] {
  const n = p.targets.length;
  return Array.from({ length: p.classes }, (_, c) =>
    binaryAuc(
      Float32Array.from({ length: n }, (_, i) => p.probs[i * p.classes + c]),
      Array.from(p.targets, (t) => t === c),
    ),
  );
}

/** Macro-averaged one-vs-rest ROC AUC over the classes present (for two classes: the plain AUC). */
export function macroAuc(p: Predictions): number {
  const aucs = aucPerClass(p).filter((a) => !Number.isNaN(a));
  if (p.classes === 2) return aucs[1] ?? NaN;
  return aucs.length ? aucs.reduce((a, b) => a + b, 0) / aucs.length : NaN;
}

/** Mean negative log-likelihood of the true class (probabilities clipped at 1e-15 as scikit-learn). */
export function logLoss(p: Predictions): number {
  let sum = 0;
  p.targets.forEach((t, i) => (sum -= Math.log(Math.min(1 - 1e-15, Math.max(1e-15, p.probs[i * p.classes + t])))));
  return sum / p.targets.length;
}

/**
 * The loss of one label given the probability the model put on it, for ranking by loss: float32
 * probabilities can be exactly 0, which gets a large finite loss (probability clipped at 1e-12), not Infinity.
 */
export function labelLoss(probability: number): number {
  return -Math.log(Math.max(1e-12, probability));
}

/** The most probable class of a class -> probability record, with its probability (the first of ties). */
export function mostProbable(probabilities: Record<string, number>): [string, number] {
  return Object.entries(probabilities).reduce((best, entry) => (entry[1] > best[1] ? entry : best));
}

/** Multi-class Brier score: mean over rows of the squared distance to the one-hot target. */
export function brierScore(p: Predictions): number {
  let sum = 0;
  p.targets.forEach((t, i) => {
    for (let c = 0; c < p.classes; c++) sum += (p.probs[i * p.classes + c] - (c === t ? 1 : 0)) ** 2;
  });
  return sum / p.targets.length;
}

/** Slices averaged per class for a study's (or patient's) probability: the patient-level metrics, the triage thresholds and the service use the same. */
export const STUDY_TOP_K = 3;
/** How a patient is scored from a slice model's slices (see {@link aggregateByGroup}), in words. */
export const TOP_SLICES_PATIENT_SCORE = `the mean of its ${STUDY_TOP_K} highest slice probabilities per class`;
/** How a study model scores a patient, in words. */
export const STUDY_MODEL_PATIENT_SCORE = "the study model's prediction from all of its slices";

/**
 * Aggregates slice predictions per group (patient or study): each class's probability is the mean of
 * that group's `topK` highest slice probabilities for the class (k = 1 is the max; Infinity the mean),
 * renormalised to sum to 1. The group's target is its slices' target (labels are per patient).
 */
export function aggregateByGroup(p: Predictions, groups: readonly string[], topK = STUDY_TOP_K): Predictions & { groups: string[] } {
  const members = new Map<string, number[]>();
  groups.forEach((g, i) => (members.get(g) ?? members.set(g, []).get(g)!).push(i));
  const names = [...members.keys()];
  const probs = new Float32Array(names.length * p.classes);
  const targets = new Int32Array(names.length);
  names.forEach((name, gi) => {
    const rows = members.get(name)!;
    targets[gi] = p.targets[rows[0]];
    let total = 0;
    for (let c = 0; c < p.classes; c++) {
      const values = rows.map((r) => p.probs[r * p.classes + c]).sort((a, b) => b - a);
      const top = values.slice(0, Math.max(1, Math.min(values.length, topK)));
      const mean = top.reduce((a, b) => a + b, 0) / top.length;
      probs[gi * p.classes + c] = mean;
      total += mean;
    }
    for (let c = 0; c < p.classes; c++) probs[gi * p.classes + c] /= total;
  });
  return { probs, targets, classes: p.classes, groups: names };
}
