/**
 * Hyper-parameter schedules as functions of training progress `pos` in [0, 1], as fastai's
 * SchedCos / combined_cos. `fitOneCycle` anneals the learning rate up then down and momentum the
 * other way (Smith 2018; fastai's fit_one_cycle).
 */
export type Schedule = (pos: number) => number;

/** Cosine from `start` to `end`. */
export function cosine(start: number, end: number): Schedule {
  return (pos) => start + ((1 + Math.cos(Math.PI * (1 - pos))) * (end - start)) / 2;
}

export function constant(value: number): Schedule {
  return () => value;
}

/** Exponential from `start` to `end` (lr_find's sweep). */
export function exponential(start: number, end: number): Schedule {
  return (pos) => start * (end / start) ** pos;
}

/** Cosine `start -> middle` for the first `pct` of training, then cosine `middle -> end`. */
export function combinedCosine(pct: number, start: number, middle: number, end: number): Schedule {
  const up = cosine(start, middle);
  const down = cosine(middle, end);
  return (pos) => (pos < pct ? up(pct === 0 ? 1 : pos / pct) : down(pct === 1 ? 1 : (pos - pct) / (1 - pct)));
}

export interface OneCycleOptions {
  /** Fraction of training spent warming up (fastai: 0.25; fine_tune's unfrozen phase: 0.3). */
  pctStart?: number;
  /** Initial lr = lrMax / div (fastai: 25; fine_tune's unfrozen phase: 5). */
  div?: number;
  /** Final lr = lrMax / finalDiv (fastai: 1e5). */
  finalDiv?: number;
  /** Momentum (Adam's beta1) at start, middle and end (fastai: 0.95, 0.85, 0.95). */
  moms?: [number, number, number];
}

/** The learning-rate and momentum schedules of a one-cycle fit with peak `lrMax`. */
export function oneCycle(lrMax: number, o: OneCycleOptions = {}): { lr: Schedule; momentum: Schedule } {
  const { pctStart = 0.25, div = 25, finalDiv = 1e5, moms = [0.95, 0.85, 0.95] } = o;
  return {
    lr: combinedCosine(pctStart, lrMax / div, lrMax, lrMax / finalDiv),
    momentum: combinedCosine(pctStart, ...moms),
  };
}

/** A learning rate for every layer group, a fastai-style range of them, or each group's own. */
export type LearningRates = number | [number] | [number, number] | { perGroup: readonly number[] };

/**
 * Learning rates for `groups` layer groups from a fastai-style range: a number gives every group that
 * rate; [stop] gives the last group `stop` and the others stop/10 (fastai's slice(stop)); [start, stop]
 * spreads rates geometrically from the lowest group to the head (slice(start, stop)); `perGroup` gives
 * each group its own.
 */
export function lrRange(lr: LearningRates, groups: number): number[] {
  if (typeof lr === 'number') return new Array<number>(groups).fill(lr);
  if ('perGroup' in lr) {
    if (lr.perGroup.length !== groups) throw new RangeError(`${lr.perGroup.length} learning rates for ${groups} layer groups`);
    return [...lr.perGroup];
  }
  if (lr.length === 1) return Array.from({ length: groups }, (_, i) => (i === groups - 1 ? lr[0] : lr[0] / 10));
  const [start, stop] = lr;
  if (groups === 1) return [stop];
  return Array.from({ length: groups }, (_, i) => start * (stop / start) ** (i / (groups - 1)));
}
