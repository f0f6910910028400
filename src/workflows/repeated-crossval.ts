/**
 * Repeated patient-grouped cross-validation: one recipe over several partitions of the patients into
 * folds. With a dozen patients per fold, which patients share a fold moves a recipe's figures by about
 * as much as recipes differ: the mean over partitions is the steadier figure, and the spread of the
 * partitions' means says how far the figure of any one partition can be trusted.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { labelLoss } from '../learn/metrics.js';
import { datasetFromPath } from '../data/sources/index.js';
import {
  crossval,
  meanSd,
  patientFolds,
  worstPatientsOutOfFold,
  writePatientsCsv,
  type CrossvalOptions,
  type CrossvalResult,
  type MeanSd,
  type PatientOutOfFold,
} from './crossval.js';
import type { Recipe } from './recipes/recipe.js';

/** Partition r (from 0) is drawn with seed `seed + PARTITION_SEED_STEP * r`, which also seeds its folds' training (+ fold). */
export const PARTITION_SEED_STEP = 1000;

export interface PartitionResult {
  seed: number;
  /** The partition's own cross-validation folder. */
  out: string;
  /** Mean +/- sd over the partition's folds. */
  sliceAuc: MeanSd;
  patientAuc: MeanSd;
  accuracy: MeanSd;
}

export interface RepeatedCrossvalResult {
  classes: string[];
  partitions: PartitionResult[];
  /** Mean over partitions of each partition's mean over folds, +/- the sd of those means. */
  sliceAuc: MeanSd;
  patientAuc: MeanSd;
  accuracy: MeanSd;
  seconds: number;
  /** Each patient's out-of-fold probabilities averaged over the partitions, highest loss first (also in `patients`). */
  oofPatientsPath: string;
  patients: PatientOutOfFold[];
}

export interface RepeatedCrossvalOptions {
  out: string;
  seed: number;
  partitions: number;
  log?: (line: string) => void;
}

/**
 * Runs `crossvalOnce(seed, out)` (one patient-grouped cross-validation, writing under `out`) for each
 * partition, in `out/partition-N`, and writes the summary (crossval.json, oof-patients.csv) under `out`.
 */
export async function repeatedCrossval(
  o: RepeatedCrossvalOptions,
  crossvalOnce: (seed: number, out: string) => Promise<CrossvalResult>,
): Promise<RepeatedCrossvalResult> {
  if (!(Number.isInteger(o.partitions) && o.partitions >= 2))
    throw new RangeError(`repeated cross-validation needs at least 2 partitions, got ${o.partitions}`);
  const log = o.log ?? ((line: string) => console.log(line));
  const started = performance.now();
  mkdirSync(o.out, { recursive: true });
  const runs: (CrossvalResult & { seed: number; out: string })[] = [];
  for (let r = 0; r < o.partitions; r++) {
    const seed = o.seed + PARTITION_SEED_STEP * r;
    const out = join(o.out, `partition-${r + 1}`);
    log(`\n==== partition ${r + 1}/${o.partitions} (seed ${seed}) ====`);
    runs.push({ ...(await crossvalOnce(seed, out)), seed, out });
  }
  const classes = runs[0].classes;
  const patients = averagedPatients(
    runs.map((run) => run.patients),
    classes,
  );
  const oofPatientsPath = join(o.out, 'oof-patients.csv');
  writePatientsCsv(oofPatientsPath, classes, patients);
  const partitions = runs.map(({ seed, out, sliceAuc, patientAuc, accuracy }) => ({ seed, out, sliceAuc, patientAuc, accuracy }));
  const result: RepeatedCrossvalResult = {
    classes,
    partitions,
    sliceAuc: meanSd(partitions.map((p) => p.sliceAuc.mean)),
    patientAuc: meanSd(partitions.map((p) => p.patientAuc.mean)),
    accuracy: meanSd(partitions.map((p) => p.accuracy.mean)),
    seconds: (performance.now() - started) / 1000,
    oofPatientsPath,
    patients,
  };
  writeFileSync(join(o.out, 'crossval.json'), JSON.stringify(result, null, 2) + '\n');
  log(`\n${formatRepeatedCrossval(result)}`);
  log(worstPatientsOutOfFold(patients));
  return result;
}

/**
 * {@link crossval} of `recipe` over `partitions` partitions of the patients, what its folds share (every
 * slice through the frozen body, for a study recipe) done once for all of them.
 */
export async function repeatedRecipeCrossval<Options>(
  recipe: Recipe<Options>,
  o: Omit<CrossvalOptions<Options>, 'trainer' | 'seed'> & Omit<RepeatedCrossvalOptions, 'log'>,
): Promise<RepeatedCrossvalResult> {
  const log = o.log ?? ((line: string) => console.log(line));
  const dataset = typeof o.data === 'string' ? await datasetFromPath(o.data) : o.data;
  // Refuses a dataset without patient ids before the recipe's work, as one cross-validation does.
  await patientFolds(dataset, o.folds ?? 5, o.seed, o.out, () => {});
  const trainer = await recipe.prepare(dataset, o.options, log);
  if (trainer.sharedWork) log(`${trainer.sharedWork.what}, for all partitions: ${trainer.sharedWork.seconds.toFixed(0)} s`);
  try {
    return await repeatedCrossval(o, (seed, out) => crossval(recipe, { ...o, data: dataset, seed, out, trainer, log }));
  } finally {
    trainer.dispose();
  }
}

/** Each patient's probabilities averaged over the partitions (one entry per partition), highest loss of the average first. */
function averagedPatients(perPartition: readonly PatientOutOfFold[][], classes: readonly string[]): PatientOutOfFold[] {
  const byPatient = new Map<string, PatientOutOfFold[]>();
  for (const patients of perPartition) for (const p of patients) (byPatient.get(p.patient) ?? byPatient.set(p.patient, []).get(p.patient)!).push(p);
  return [...byPatient.values()]
    .map((runs) => {
      const probabilities = Object.fromEntries(classes.map((c) => [c, runs.reduce((sum, p) => sum + p.probabilities[c], 0) / runs.length]));
      return {
        patient: runs[0].patient,
        label: runs[0].label,
        folds: runs.flatMap((p) => p.folds),
        probabilities,
        loss: labelLoss(probabilities[runs[0].label]),
      };
    })
    .sort((a, b) => b.loss - a.loss);
}

function formatRepeatedCrossval(r: RepeatedCrossvalResult): string {
  const f = (v: number) => (Number.isNaN(v) ? ' n/a ' : v.toFixed(3));
  const lines = [
    `repeated patient-grouped cross-validation: ${r.partitions.length} partitions of the patients into folds (each patient validated once per partition)`,
    'partition   seed  slice AUC  patient AUC  accuracy  (means over its folds)',
  ];
  for (const [i, p] of r.partitions.entries())
    lines.push(
      `${String(i + 1).padStart(9)}  ${String(p.seed).padStart(5)}  ${f(p.sliceAuc.mean).padStart(9)}  ${f(p.patientAuc.mean).padStart(11)}  ${f(p.accuracy.mean).padStart(8)}`,
    );
  lines.push(
    `mean +/- sd over partitions: slice AUC ${f(r.sliceAuc.mean)} +/- ${f(r.sliceAuc.sd)}, patient AUC ${f(r.patientAuc.mean)} +/- ${f(r.patientAuc.sd)}, accuracy ${f(r.accuracy.mean)} +/- ${f(r.accuracy.sd)} (the sd: how much the choice of partition moves a figure)`,
  );
  lines.push(`out-of-fold patients averaged over the partitions: ${r.oofPatientsPath} (highest loss first); each partition's files in its folder`);
  return lines.join('\n');
}
