/**
 * Triage decisions from class probabilities: which classes are abnormal and in what order of urgency
 * (haemorrhage before ischaemia before anything else, the normal class last), each abnormal class
 * against its own threshold.
 */
import { mostProbable } from '../../../learn/metrics.js';

/** Threshold used for an abnormal class the model file and the configuration give none for. */
const DEFAULT_THRESHOLD = 0.5;

/** How a model's classes are triaged. */
export interface UrgencyPolicy {
  /** Every class, most urgent first; the normal class (if any) last. */
  order: string[];
  /** The classes that flag a study, with their thresholds. */
  thresholds: Record<string, number>;
  /** The class reported when nothing is flagged. */
  normal: string | undefined;
}

const HAEMORRHAGE = /haemorrh|hemorrh/i;
const ISCHAEMIA = /ischaem|ischem/i;
const NORMAL = /normal/i;

/**
 * The policy for `classes`: thresholds from `overrides`, else `modelThresholds` (the model file's
 * operating points), else {@link DEFAULT_THRESHOLD}.
 * @throws Error when an override names a class the model does not have.
 */
export function urgencyPolicy(classes: readonly string[], modelThresholds: Record<string, number> = {}, overrides: Record<string, number> = {}): UrgencyPolicy {
  for (const name of Object.keys(overrides)) {
    if (!classes.includes(name)) throw new Error(`threshold for '${name}': the model's classes are ${classes.join(', ')}`);
  }
  const rank = (name: string) => (HAEMORRHAGE.test(name) ? 0 : ISCHAEMIA.test(name) ? 1 : NORMAL.test(name) ? 3 : 2);
  // Stable sort: classes of equal rank keep the model's order.
  const order = [...classes].sort((a, b) => rank(a) - rank(b));
  const normal = classes.find((name) => rank(name) === 3);
  const abnormal = order.filter((name) => name !== normal);
  const thresholds = Object.fromEntries(abnormal.map((name) => [name, overrides[name] ?? modelThresholds[name] ?? DEFAULT_THRESHOLD]));
  return { order, thresholds, normal };
}

/** The decision for one study. */
export interface UrgencyDecision {
  /** The most urgent abnormal class past its threshold; else the normal class (or the most probable class). */
  urgency: string;
  flagged: boolean;
}

export function decideUrgency(policy: UrgencyPolicy, probabilities: Record<string, number>): UrgencyDecision {
  const passed = policy.order.find((name) => name in policy.thresholds && probabilities[name] >= policy.thresholds[name]);
  if (passed) return { urgency: passed, flagged: true };
  return { urgency: policy.normal ?? mostProbable(probabilities)[0], flagged: false };
}

/** A probability row as a class -> probability record. */
export function probabilityRecord(classes: readonly string[], row: ArrayLike<number>): Record<string, number> {
  return Object.fromEntries(classes.map((name, c) => [name, row[c]]));
}
