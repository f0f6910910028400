/**
 * Train/validation splits. Slices of one patient are near-copies of each other, so a split that puts a
 * patient on both sides leaks and flatters the validation figures: {@link groupSplit} and
 * {@link kFoldGroups} keep each patient on one side. All splits are deterministic given the seed.
 */
import { Rng } from './rng.js';
import type { Sample } from './types.js';

/** Indices into the samples, ascending. */
export interface Split {
  train: number[];
  valid: number[];
}

/** A split by groups (patients), with the groups that went to validation, sorted. */
export interface GroupSplit extends Split {
  validGroups: string[];
}

export interface GroupOptions {
  /** The group of a sample; default its patient id, which every sample must then have. */
  groupBy?: (sample: Sample) => string;
  /**
   * Balance each class's share of validation groups: every class gets round(validPct x its groups),
   * a group's class being the label of most of its samples (ties: the first label alphabetically).
   */
  stratify?: boolean;
}

export interface GroupSplitOptions extends GroupOptions {
  /** Share of the groups that go to validation, in (0, 1). */
  validPct: number;
  seed: number;
}

/**
 * fastai's `RandomSplitter`: shuffles the sample indices with `seed`, and the first floor(validPct x n)
 * are validation. Only for data with one image per patient; otherwise use {@link groupSplit}.
 * @throws Error when a side would be empty or a class would have no training samples.
 */
export function randomSplit(samples: readonly Sample[], validPct: number, seed: number): Split {
  checkValidPct(validPct);
  const shuffled = new Rng(seed).shuffle(samples.map((_, index) => index));
  const valid = new Set(shuffled.slice(0, Math.floor(validPct * samples.length)));
  return checkedSplit(samples, valid, `randomSplit of ${samples.length} samples at validPct ${validPct}`);
}

/**
 * Puts round(validPct x groups) groups, drawn with `seed`, in validation (per class when stratified)
 * and the rest in training; every sample goes where its group goes.
 * @throws Error when a sample has no group, a side would be empty, or a class would have no training group.
 */
export function groupSplit(samples: readonly Sample[], { validPct, seed, groupBy, stratify = false }: GroupSplitOptions): GroupSplit {
  checkValidPct(validPct);
  const groups = groupsOf(samples, groupBy);
  const rng = new Rng(seed);
  const validGroups = strataOf(groups, samples, stratify).flatMap((stratum) => rng.shuffle(stratum).slice(0, Math.round(validPct * stratum.length)));
  const context = `groupSplit of ${groups.size} groups at validPct ${validPct}${stratify ? ', stratified' : ''}`;
  return groupedSplit(samples, groups, validGroups, context);
}

/**
 * `k` folds for cross-validation: groups shuffled with `seed` and dealt to folds in turn (class by class
 * when stratified, continuing the turn across classes so folds stay the same size); fold i validates on
 * the groups dealt to it and trains on the rest.
 * @throws Error when k is not in [2, groups], or a fold would leave a class without training groups.
 */
export function kFoldGroups(samples: readonly Sample[], k: number, seed: number, { groupBy, stratify = false }: GroupOptions = {}): GroupSplit[] {
  const groups = groupsOf(samples, groupBy);
  if (!(Number.isInteger(k) && k >= 2 && k <= groups.size))
    throw new RangeError(`kFoldGroups: k must be an integer from 2 to the number of groups (${groups.size}), got ${k}`);
  const rng = new Rng(seed);
  const folds: string[][] = Array.from({ length: k }, () => []);
  let turn = 0;
  for (const stratum of strataOf(groups, samples, stratify)) {
    for (const group of rng.shuffle(stratum)) folds[turn++ % k].push(group);
  }
  return folds.map((validGroups, fold) => groupedSplit(samples, groups, validGroups, `kFoldGroups fold ${fold + 1} of ${k}`));
}

/** Group id -> indices of its samples, in order of first appearance. */
function groupsOf(samples: readonly Sample[], groupBy?: (sample: Sample) => string): Map<string, number[]> {
  const groups = new Map<string, number[]>();
  samples.forEach((sample, index) => {
    const group = groupBy ? groupBy(sample) : sample.patientId;
    if (group === undefined || group === '') {
      throw new Error(
        `${sample.path}: no ${groupBy ? 'group' : 'patient id'}; a grouped split needs one for every sample (a manifest's patient_id column, or patientIdFrom)`,
      );
    }
    const members = groups.get(group);
    if (members) members.push(index);
    else groups.set(group, [index]);
  });
  return groups;
}

/** The group ids, sorted (so the sample order does not change the split): one list, or one per class. */
function strataOf(groups: Map<string, number[]>, samples: readonly Sample[], stratify: boolean): string[][] {
  const sorted = [...groups.keys()].sort();
  if (!stratify) return [sorted];
  const byClass = new Map<string, string[]>();
  for (const group of sorted) {
    const label = majorityLabel(groups.get(group)!.map((index) => samples[index].label));
    const members = byClass.get(label);
    if (members) members.push(group);
    else byClass.set(label, [group]);
  }
  return [...byClass.keys()].sort().map((label) => byClass.get(label)!);
}

function majorityLabel(labels: readonly string[]): string {
  const counts = new Map<string, number>();
  for (const label of labels) counts.set(label, (counts.get(label) ?? 0) + 1);
  return [...counts.entries()].sort(([a, countA], [b, countB]) => countB - countA || (a < b ? -1 : 1))[0][0];
}

function groupedSplit(samples: readonly Sample[], groups: Map<string, number[]>, validGroups: readonly string[], context: string): GroupSplit {
  const valid = new Set(validGroups.flatMap((group) => groups.get(group)!));
  return { ...checkedSplit(samples, valid, context), validGroups: [...validGroups].sort() };
}

/** The split with `valid` as validation, after checking both sides have samples and every class trains. */
function checkedSplit(samples: readonly Sample[], valid: ReadonlySet<number>, context: string): Split {
  const split: Split = { train: [], valid: [] };
  samples.forEach((_, index) => (valid.has(index) ? split.valid : split.train).push(index));
  if (split.valid.length === 0) throw new Error(`${context}: the validation side is empty; raise validPct or add data`);
  if (split.train.length === 0) throw new Error(`${context}: the training side is empty; lower validPct or add data`);
  const trained = new Set(split.train.map((index) => samples[index].label));
  const untrained = [...new Set(samples.map((sample) => sample.label))].filter((label) => !trained.has(label)).sort();
  if (untrained.length > 0) throw new Error(`${context}: no training samples of class ${untrained.join(', ')}; it needs more patients, or a lower validPct`);
  return split;
}

function checkValidPct(validPct: number): void {
  if (!(validPct > 0 && validPct < 1)) throw new RangeError(`validPct must be between 0 and 1 (exclusive), got ${validPct}`);
}
