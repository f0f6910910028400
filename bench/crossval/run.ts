/**
 * `npm run bench:crossval`: the reference recipe (Debian's PyTorch, bench/reference/fastai_recipe.py:
 * ImageNet ResNet-50, 128 px, fine_tune 1 frozen + 3 unfrozen epochs) and findstroke's recipes on the
 * same 5 patient-grouped folds (stratified by class, seeded) of ../shared/data/brain-stroke-ct.
 * Three recipes: `reference`, findstroke's best recipe on these folds (side `study`, key `findstroke` in
 * the results: the linear study recipe, a linear classifier of frozen-body slice embeddings averaged per
 * study) and the reference recipe in findstroke (side `findstroke`, key `findstroke_fine_tune`). Writes bench/results/crossval.json
 * (per recipe: slice and patient AUC mean and sd over the folds, wall seconds, per fold) and leaves the
 * study model trained on every patient at bench/results/crossval-model.safetensors. findstroke's best
 * recipe is also cross-validated over 10 partitions of the patients (`partitions` in its results: the mean
 * over them +/- the spread of their means), to say how far one partition's figure can be trusted.
 * CROSSVAL_REFERENCE_PARTITIONS=N (default 1) runs the reference on the first N of those partitions too
 * (about 38 minutes each on 2 cores; split and result files crossval-partition<r>-fold<k>-*.json from the
 * second on), and the report pairs the two recipes over them.
 * CROSSVAL_PART=reference|findstroke|study runs one side (kept in crossval-<side>.json; crossval.json
 * is written from the sides that exist); CROSSVAL_PART=findstroke-bf16 runs findstroke's side under bf16
 * autocast, paired fold by fold with the float32 one.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { setNumThreads } from '../../src/torch/index.js';
import { fromManifest } from '../../src/data/sources/index.js';
import { kFoldGroups } from '../../src/data/split.js';
import { crossval, meanSd, type FoldResult } from '../../src/workflows/crossval.js';
import { embedWithLog, studyFoldTrainer } from '../../src/workflows/recipes/study.js';
import { LINEAR_STUDY, LINEAR_STUDY_RECIPE } from '../../src/workflows/recipes/linear-study.js';
import { FINE_TUNE } from '../../src/workflows/recipes/fine-tune.js';
import { PARTITION_SEED_STEP, repeatedCrossval } from '../../src/workflows/repeated-crossval.js';
import { trainStudyModel } from '../../src/workflows/study-train.js';
import { exportImageNetBody, requireDebianPyTorch, runReference, writeSplitFileIfChanged, type ReferenceResult } from '../reference/pytorch.js';

const results = fileURLToPath(new URL('../results/', import.meta.url));
const manifest = fileURLToPath(new URL('../../../shared/data/brain-stroke-ct/manifest.csv', import.meta.url));
const SEED = Number(process.env.CROSSVAL_SEED ?? 42);
const FOLDS = 5;
const PART = process.env.CROSSVAL_PART ?? 'all';
/** Partitions of the patients into folds that findstroke's best recipe is also cross-validated on (the first is the benchmark's). */
const PARTITIONS = 10;
/** How many of those partitions the reference recipe runs on (slow on a CPU: ~38 minutes each). */
const REFERENCE_PARTITIONS = Number(process.env.CROSSVAL_REFERENCE_PARTITIONS ?? 1);
/** findstroke's best recipe on these folds (see docs/recipes.md). */
const BEST = LINEAR_STUDY_RECIPE;

if (!existsSync(manifest)) {
  console.error(`bench:crossval skipped: ${manifest} is absent (real data lives in ../shared/data beside the repository)`);
  process.exit(0);
}

/** One recipe's cross-validated figures, as crossval.json holds them. */
interface RecipeSummary {
  slice_auc_mean: number;
  slice_auc_sd: number;
  patient_auc_mean: number;
  patient_auc_sd: number;
  wall_s: number;
  folds: { valid_patients: string[]; slice_auc: number; patient_auc: number; accuracy: number; wall_s: number }[];
  /** The recipe over several partitions of the patients: the mean of their means +/- the sd of those, and each partition's means. */
  partitions?: Partitions;
}

interface Partitions {
  count: number;
  seeds: number[];
  slice_auc_mean: number;
  slice_auc_sd: number;
  patient_auc_mean: number;
  patient_auc_sd: number;
  means: { seed: number; slice_auc: number; patient_auc: number }[];
}

function summarisePartitions(means: Partitions['means']): Partitions {
  const slice = meanSd(means.map((m) => m.slice_auc));
  const patient = meanSd(means.map((m) => m.patient_auc));
  return {
    count: means.length,
    seeds: means.map((m) => m.seed),
    slice_auc_mean: slice.mean,
    slice_auc_sd: slice.sd,
    patient_auc_mean: patient.mean,
    patient_auc_sd: patient.sd,
    means,
  };
}

function summarise(folds: RecipeSummary['folds']): RecipeSummary {
  const slice = meanSd(folds.map((f) => f.slice_auc));
  const patient = meanSd(folds.map((f) => f.patient_auc));
  return {
    slice_auc_mean: slice.mean,
    slice_auc_sd: slice.sd,
    patient_auc_mean: patient.mean,
    patient_auc_sd: patient.sd,
    wall_s: folds.reduce((s, f) => s + f.wall_s, 0),
    folds,
  };
}

mkdirSync(results, { recursive: true });
setNumThreads(2);
const dataset = await fromManifest(manifest);
const splits = kFoldGroups(dataset.samples, FOLDS, SEED, { stratify: true });
const partPath = (side: string) => join(results, `crossval-${side}.json`);
console.log(
  `${FOLDS} patient-grouped folds (seed ${SEED}) of ${dataset.samples.length} slices, ${new Set(dataset.samples.map((s) => s.patientId)).size} patients`,
);

/** The reference recipe on the folds of partition `r` (0: the benchmark's), each fold's split and result in its own file. */
function referencePartition(r: number, bodyPath: string): RecipeSummary['folds'] {
  const seed = SEED + PARTITION_SEED_STEP * r;
  const prefix = r === 0 ? 'crossval-' : `crossval-partition${r + 1}-`;
  const folds: RecipeSummary['folds'] = [];
  for (const [fold, split] of (r === 0 ? splits : kFoldGroups(dataset.samples, FOLDS, seed, { stratify: true })).entries()) {
    console.log(`\n== reference (PyTorch), partition seed ${seed}, fold ${fold + 1}/${FOLDS}: validation patients ${split.validGroups.join(' ')} ==`);
    const splitPath = join(results, `${prefix}fold${fold + 1}-split.json`);
    writeSplitFileIfChanged(splitPath, dataset, { ...split, validPatients: split.validGroups }, seed + fold);
    const out = join(results, `${prefix}fold${fold + 1}-reference.json`);
    // A fold already run on this very split (an interrupted benchmark) is not run again.
    const done = existsSync(out) && statSync(out).mtimeMs > statSync(splitPath).mtimeMs;
    const result = done
      ? (JSON.parse(readFileSync(out, 'utf8')) as ReferenceResult)
      : runReference({ split: splitPath, weights: bodyPath, epochs: 3, seed: seed + fold, out, tuned: false });
    if (done) console.log(`(kept from an earlier run of this split: ${out})`);
    folds.push({
      valid_patients: split.validGroups,
      slice_auc: result.valid_auc,
      patient_auc: result.valid_patient_auc,
      accuracy: result.valid_accuracy,
      wall_s: result.wall_s,
    });
  }
  return folds;
}

if (PART === 'all' || PART === 'reference') {
  requireDebianPyTorch('bench:crossval');
  const bodyPath = join(results, 'crossval-imagenet-body.safetensors');
  await exportImageNetBody(bodyPath, dataset.classes.length);
  const summaries = Array.from({ length: REFERENCE_PARTITIONS }, (_, r) => summarise(referencePartition(r, bodyPath)));
  const partitions =
    summaries.length > 1
      ? {
          partitions: summarisePartitions(
            summaries.map((p, r) => ({ seed: SEED + PARTITION_SEED_STEP * r, slice_auc: p.slice_auc_mean, patient_auc: p.patient_auc_mean })),
          ),
        }
      : {};
  writeFileSync(partPath('reference'), JSON.stringify({ ...summaries[0], ...partitions }, null, 2) + '\n');
}

if (PART === 'all' || PART === 'study') {
  console.log(`\n== findstroke, study-level recipe (${JSON.stringify(BEST)}) ==`);
  const started = performance.now();
  const embeddings = await embedWithLog(dataset, BEST, console.log);
  const trainer = await studyFoldTrainer(dataset, BEST, console.log, embeddings);
  const cv = await crossval(LINEAR_STUDY, { data: dataset, out: join(results, 'crossval-study-run'), folds: FOLDS, seed: SEED, options: BEST, trainer });
  const embeddingSeconds = (performance.now() - started) / 1000 - cv.seconds;
  // Each fold's time counts the embedding of every slice, as a fold run on its own would need it.
  const folds = foldsOf(cv.folds, embeddingSeconds);
  const wall = (performance.now() - started) / 1000;
  // The same recipe over other partitions of the patients: how far this partition's figure can be trusted.
  const repeated = await repeatedCrossval({ out: join(results, 'crossval-study-partitions'), seed: SEED, partitions: PARTITIONS }, (seed, out) =>
    crossval(LINEAR_STUDY, { data: dataset, out, folds: FOLDS, seed, options: BEST, trainer, log: () => {} }),
  );
  const partitions = summarisePartitions(repeated.partitions.map((p) => ({ seed: p.seed, slice_auc: p.sliceAuc.mean, patient_auc: p.patientAuc.mean })));
  writeFileSync(partPath('study'), JSON.stringify({ ...summarise(folds), wall_s: wall, embedding_s: embeddingSeconds, partitions }, null, 2) + '\n');
  const modelPath = await trainStudyModel({ dataset, out: join(results, 'crossval-model-run'), recipe: BEST, seed: SEED, embeddings });
  copyFileSync(modelPath, join(results, 'crossval-model.safetensors'));
}

// The reference recipe in findstroke, in float32 and (side findstroke-bf16, only when asked for) under bf16 autocast,
// on the same folds and seeds, so that the two precisions pair fold by fold.
for (const [side, bf16] of [
  ['findstroke', false],
  ['findstroke-bf16', true],
] as const) {
  if (PART !== side && (PART !== 'all' || bf16)) continue;
  console.log(`\n== findstroke, the reference recipe (fine_tune 1 + 3 epochs, ResNet-50, 128 px)${bf16 ? ', bf16 autocast' : ''} ==`);
  const cv = await crossval(FINE_TUNE, {
    data: dataset,
    out: join(results, `crossval-${side}-run`),
    folds: FOLDS,
    seed: SEED,
    options: { arch: 'resnet50', pretrained: 'imagenet', size: 128, epochs: 3, freezeEpochs: 1, lr: 2e-3, bf16 },
  });
  writeFileSync(partPath(side), JSON.stringify(summarise(foldsOf(cv.folds)), null, 2) + '\n');
}

/** The folds of a findstroke cross-validation as crossval.json lists them, checked against the reference's folds. */
function foldsOf(folds: FoldResult[], extraSeconds = 0): RecipeSummary['folds'] {
  return folds.map((f, i) => {
    if (f.validPatients.join() !== splits[i].validGroups.join()) throw new Error(`fold ${i + 1}: findstroke's validation patients differ from the reference's`);
    return { valid_patients: f.validPatients, slice_auc: f.sliceAuc, patient_auc: f.patientAuc, accuracy: f.accuracy, wall_s: f.seconds + extraSeconds };
  });
}

// In crossval.json, `findstroke` is findstroke's best recipe by these folds (the linear study recipe: it
// beats findstroke's own fine-tune) and `findstroke_fine_tune` is the reference recipe run in findstroke.
const keys: Record<string, string> = {
  reference: 'reference',
  study: 'findstroke',
  findstroke: 'findstroke_fine_tune',
  'findstroke-bf16': 'findstroke_fine_tune_bf16',
};
const sides = Object.keys(keys).filter((side) => existsSync(partPath(side)));
if (sides.includes('reference') && sides.length > 1) {
  const report: Record<string, unknown> = {
    measured_on: `brain-stroke-ct, ${FOLDS}-fold patient-grouped cross-validation (stratified, seed ${SEED}): every one of ${new Set(dataset.samples.map((s) => s.patientId)).size} patients validated once`,
    recipes: {
      reference: 'Debian PyTorch: ImageNet ResNet-50, 128 px, fastai head, fine_tune 1 frozen + 3 unfrozen epochs',
      findstroke: `findstroke's linear study recipe, a linear classifier of frozen ImageNet ResNet-50 slice embeddings, a study the mean of its slices: ${JSON.stringify(BEST)}`,
      findstroke_fine_tune: 'findstroke, the reference recipe',
      findstroke_fine_tune_bf16: 'findstroke, the reference recipe under bf16 autocast (CROSSVAL_PART=findstroke-bf16)',
    },
  };
  for (const side of sides) report[keys[side]] = JSON.parse(readFileSync(partPath(side), 'utf8')) as RecipeSummary;
  writeFileSync(join(results, 'crossval.json'), JSON.stringify(report, null, 2) + '\n');
  const f = (v: number) => v.toFixed(3);
  const reference = report.reference as RecipeSummary;
  console.log(`\n${report.measured_on}`);
  console.log('recipe                 slice AUC        patient AUC      wall s (per fold)');
  for (const side of sides) {
    const r = report[keys[side]] as RecipeSummary;
    const vs =
      side === 'reference'
        ? ''
        : `   vs reference: slice ${f(r.slice_auc_mean - reference.slice_auc_mean)}, patient ${f(r.patient_auc_mean - reference.patient_auc_mean)}`;
    console.log(
      `${keys[side].padEnd(21)}  ${f(r.slice_auc_mean)} +/- ${f(r.slice_auc_sd)}  ${f(r.patient_auc_mean)} +/- ${f(r.patient_auc_sd)}  ${r.wall_s.toFixed(0)} (${r.folds.map((x) => x.wall_s.toFixed(0)).join(' ')})${vs}`,
    );
    const p = r.partitions;
    if (p)
      console.log(
        `${''.padEnd(21)}  over ${p.count} partitions of the patients: slice AUC ${f(p.slice_auc_mean)} +/- ${f(p.slice_auc_sd)}, patient AUC ${f(p.patient_auc_mean)} +/- ${f(p.patient_auc_sd)} (sd of the partitions' means)`,
      );
    const paired =
      side === 'reference'
        ? []
        : (reference.partitions?.means ?? []).flatMap((m) =>
            (p?.means ?? []).filter((n) => n.seed === m.seed).map((n) => ({ slice: n.slice_auc - m.slice_auc, patient: n.patient_auc - m.patient_auc })),
          );
    if (paired.length > 1)
      console.log(
        `${''.padEnd(21)}  vs reference on the same ${paired.length} partitions: slice ${f(meanSd(paired.map((d) => d.slice)).mean)}, patient ${f(meanSd(paired.map((d) => d.patient)).mean)} (${paired.map((d) => `${f(d.slice)}/${f(d.patient)}`).join(', ')})`,
      );
  }
}

// bf16 against float32, fold by fold (the same folds and training seeds).
if (existsSync(partPath('findstroke')) && existsSync(partPath('findstroke-bf16'))) {
  const [fp32, bf16] = ['findstroke', 'findstroke-bf16'].map((side) => JSON.parse(readFileSync(partPath(side), 'utf8')) as RecipeSummary);
  const differences = bf16.folds.map((b, i) => ({ slice: b.slice_auc - fp32.folds[i].slice_auc, patient: b.patient_auc - fp32.folds[i].patient_auc }));
  const f = (v: number) => v.toFixed(3);
  console.log(
    `\nbf16 - float32, fold by fold: slice AUC ${differences.map((d) => f(d.slice)).join(' ')} (mean ${f(meanSd(differences.map((d) => d.slice)).mean)}), ` +
      `patient AUC ${differences.map((d) => f(d.patient)).join(' ')} (mean ${f(meanSd(differences.map((d) => d.patient)).mean)}); ` +
      `wall s per fold ${f(meanSd(bf16.folds.map((x) => x.wall_s)).mean)} against ${f(meanSd(fp32.folds.map((x) => x.wall_s)).mean)}`,
  );
}
