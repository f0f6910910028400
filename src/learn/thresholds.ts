/**
 * Triage operating points: for each abnormal class, the probability threshold at which the model reaches
 * a target sensitivity on validation data (one vs rest). A study is flagged when its probability for
 * the class reaches the threshold. Chosen on validation data, so the sensitivity on new patients will
 * differ; the model file records what they were chosen on.
 */

/** Classes that are findings (every class whose name does not say normal). */
export function abnormalClasses(classes: string[]): string[] {
  return classes.filter((c) => !/normal/i.test(c));
}

/**
 * The largest threshold t such that at least `targetSensitivity` of the positives have score >= t
 * (so the flag catches that share of them); NaN without positives.
 */
export function thresholdForSensitivity(scores: ArrayLike<number>, positive: ArrayLike<boolean>, targetSensitivity: number): number {
  const positives = Array.from(scores)
    .filter((_, i) => positive[i])
    .sort((a, b) => b - a);
  if (!positives.length) return NaN;
  const needed = Math.max(1, Math.ceil(targetSensitivity * positives.length));
  return positives[needed - 1];
}

export interface OperatingPoint {
  threshold: number;
  sensitivity: number;
  specificity: number;
}

/** Thresholds per abnormal class for `targetSensitivity`, with the sensitivity/specificity they give. */
export function chooseThresholds(
  p: { probs: Float32Array; targets: Int32Array; classes: number },
  classNames: string[],
  targetSensitivity = 0.9,
): Record<string, OperatingPoint> {
  const out: Record<string, OperatingPoint> = {};
  const n = p.targets.length;
  for (const name of abnormalClasses(classNames)) {
    const c = classNames.indexOf(name);
    const scores = Float32Array.from({ length: n }, (_, i) => p.probs[i * p.classes + c]);
    const positive = Array.from(p.targets, (t) => t === c);
    const threshold = thresholdForSensitivity(scores, positive, targetSensitivity);
    if (Number.isNaN(threshold)) continue;
    let tp = 0,
      fn = 0,
      tn = 0,
      fp = 0;
    scores.forEach((s, i) => {
      if (positive[i]) s >= threshold ? tp++ : fn++;
      else s >= threshold ? fp++ : tn++;
    });
    out[name] = { threshold, sensitivity: tp / (tp + fn), specificity: tn + fp ? tn / (tn + fp) : NaN };
  }
  return out;
}

/** The operating points as printed after training: what they were chosen on, then one line per class. */
export function formatOperatingPoints(points: Record<string, OperatingPoint>, chosenOn: string, targetSensitivity: number): string[] {
  return [
    `triage thresholds, chosen on ${chosenOn} for sensitivity >= ${(100 * targetSensitivity).toFixed(0)}%:`,
    ...Object.entries(points).map(
      ([name, p]) =>
        `  ${name}: flag at probability >= ${p.threshold.toFixed(3)} (sensitivity ${(100 * p.sensitivity).toFixed(0)}%, specificity ${(100 * p.specificity).toFixed(0)}% there)`,
    ),
  ];
}
