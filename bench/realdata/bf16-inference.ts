/**
 * `npm run bench:bf16`: inference under bf16 autocast (the predictors' `bf16` option) against float32 on the
 * real-CT validation patients of bench:realdata's split (brain-stroke-ct, patient-grouped, seed 42): top-1
 * agreement per slice and per patient, slice and patient ROC AUC of each, the largest probability difference,
 * and each one's inference throughput on the prepared slices (batch 32). The model is bench:realdata's
 * (bench/results/realdata-model.safetensors); where it is absent, one is trained here (bench/results/bf16-model.safetensors,
 * kept for the next run) as bench:realdata trains findstroke's: ImageNet ResNet-50, 128 px, fine_tune(REALDATA_EPOCHS,
 * default 3), training seed 42. Writes bench/results/bf16-inference.json.
 */
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setNumThreads } from '../../src/torch/index.js';
import { fromManifest } from '../../src/data/sources/index.js';
import { imageDataLoaders } from '../../src/data/dataloaders.js';
import { trainRun } from '../../src/workflows/train-run.js';
import { Predictor } from '../../src/learn/predictor.js';
import { evaluate } from '../../src/learn/evaluation.js';
import { aggregateByGroup, argmaxRows, type Predictions } from '../../src/learn/metrics.js';
import type { HostImage } from '../../src/data/types.js';

const results = fileURLToPath(new URL('../results/', import.meta.url));
const manifest = fileURLToPath(new URL('../../../shared/data/brain-stroke-ct/manifest.csv', import.meta.url));
const SEED = 42;
const BATCH = 32;
const EPOCHS = Number(process.env.REALDATA_EPOCHS ?? 3);
const realdataModel = join(results, 'realdata-model.safetensors');
const modelPath = existsSync(realdataModel) ? realdataModel : join(results, 'bf16-model.safetensors');

if (!existsSync(manifest)) {
  console.error(`bench:bf16 skipped: ${manifest} is absent (real data lives in ../shared/data beside the repository)`);
  process.exit(0);
}
mkdirSync(results, { recursive: true });
setNumThreads(2);
const dataset = await fromManifest(manifest);
const { split } = imageDataLoaders(dataset, { seed: SEED });
const valid = split.valid.map((i) => dataset.samples[i]);
console.log(`split (seed ${SEED}): ${valid.length} validation slices of patients ${split.validPatients!.join(' ')}`);

if (!existsSync(modelPath)) {
  console.log(`${realdataModel} is absent: training ${modelPath} as bench:realdata trains its model (fine_tune(${EPOCHS}), training seed ${SEED})`);
  const run = await trainRun({
    data: dataset,
    out: join(results, `bf16-run-seed${SEED}`),
    arch: 'resnet50',
    pretrained: 'imagenet',
    epochs: EPOCHS,
    seed: SEED,
    split: { train: split.train, valid: split.valid, validGroups: split.validPatients },
  });
  run.model.dispose();
  copyFileSync(run.modelPath, modelPath);
}

const fp32 = Predictor.load(modelPath);
const bf16 = Predictor.load(modelPath, { bf16: true });
const classes = fp32.spec.classes;
const images: HostImage[] = await Promise.all(valid.map((s) => fp32.prepare(s.path)));
const targets = Int32Array.from(valid, (s) => classes.indexOf(s.label));
const patients = valid.map((s) => s.patientId!);

/** Every validation slice's probabilities in batches of BATCH, and the throughput of the forward passes alone. */
function predictAll(predictor: Predictor): { p: Predictions; ips: number } {
  const probs = new Float32Array(images.length * classes.length);
  const started = performance.now();
  for (let start = 0; start < images.length; start += BATCH)
    predictor.probabilities(images.slice(start, start + BATCH)).forEach((row, i) => probs.set(row, (start + i) * classes.length));
  return { p: { probs, targets, classes: classes.length }, ips: images.length / ((performance.now() - started) / 1000) };
}

predictAll(fp32); // warm-up: the first pass pays for oneDNN's kernel choices
const float = predictAll(fp32);
predictAll(bf16);
const brain = predictAll(bf16);
const agreement = (a: Predictions, b: Predictions) => {
  const [x, y] = [argmaxRows(a), argmaxRows(b)];
  return x.filter((v, i) => v === y[i]).length / x.length;
};
const evaluations = { fp32: evaluate(float.p, classes, patients), bf16: evaluate(brain.p, classes, patients) };
const report = {
  measured_on: `brain-stroke-ct validation patients of bench:realdata's split (seed ${SEED}): ${valid.length} slices of ${split.validPatients!.length} patients; model ${modelPath}`,
  slice_top1_agreement: agreement(float.p, brain.p),
  patient_top1_agreement: agreement(aggregateByGroup(float.p, patients), aggregateByGroup(brain.p, patients)),
  max_probability_difference: Math.max(...Array.from(float.p.probs, (v, i) => Math.abs(v - brain.p.probs[i]))),
  slice_auc: { fp32: evaluations.fp32.auc, bf16: evaluations.bf16.auc, difference: evaluations.bf16.auc - evaluations.fp32.auc },
  patient_auc: {
    fp32: evaluations.fp32.patientAuc,
    bf16: evaluations.bf16.patientAuc,
    difference: evaluations.bf16.patientAuc! - evaluations.fp32.patientAuc!,
  },
  accuracy: { fp32: evaluations.fp32.accuracy, bf16: evaluations.bf16.accuracy },
  inference_ips: { fp32: float.ips, bf16: brain.ips, batch: BATCH, threads: 2 },
};
writeFileSync(join(results, 'bf16-inference.json'), JSON.stringify(report, null, 2) + '\n');
console.log(JSON.stringify(report, null, 2));
