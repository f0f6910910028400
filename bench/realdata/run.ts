/**
 * `npm run bench:realdata`: the reference recipe on real CT (../shared/data/brain-stroke-ct), in
 * findstroke and in Debian's PyTorch (bench/reference/fastai_recipe.py), on the same patient-grouped
 * split (seeded; the validation patients are listed in the result), with the same ImageNet ResNet-50
 * weights, 128 px, fine_tune(3). Writes bench/results/realdata.json and leaves findstroke's model at
 * bench/results/realdata-model.safetensors.
 */
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { setNumThreads } from '../../src/torch/index.js';
import { fromManifest } from '../../src/data/sources/index.js';
import { imageDataLoaders } from '../../src/data/dataloaders.js';
import { trainRun } from '../../src/workflows/train-run.js';
import { exportImageNetBody, requireDebianPyTorch, runReference, writeSplitFile } from '../reference/pytorch.js';

const results = fileURLToPath(new URL('../results/', import.meta.url));
const manifest = fileURLToPath(new URL('../../../shared/data/brain-stroke-ct/manifest.csv', import.meta.url));
const SEED = Number(process.env.REALDATA_SEED ?? 42);
const EPOCHS = Number(process.env.REALDATA_EPOCHS ?? 3);

if (!existsSync(manifest)) {
  console.error(`bench:realdata skipped: ${manifest} is absent (real data lives in ../shared/data beside the repository)`);
  process.exit(0);
}
requireDebianPyTorch('bench:realdata');

mkdirSync(results, { recursive: true });
setNumThreads(2);
const dataset = await fromManifest(manifest);
const { split } = imageDataLoaders(dataset, { seed: SEED });
const splitPath = join(results, 'realdata-split.json');
writeSplitFile(splitPath, dataset, split, SEED);
console.log(`split (seed ${SEED}): ${split.train.length} training / ${split.valid.length} validation slices; validation patients ${split.validPatients!.join(' ')}`);

// The reference gets the very same ImageNet body (Keras ResNet-50 in torchvision layout).
const bodyPath = join(results, 'realdata-imagenet-body.safetensors');
await exportImageNetBody(bodyPath, dataset.classes.length);

console.log('\n== PyTorch (reference recipe) ==');
const pytorch = runReference({ split: splitPath, weights: bodyPath, epochs: EPOCHS, seed: SEED, out: join(results, 'realdata-pytorch.json') });

console.log('\n== findstroke ==');
const started = performance.now();
const run = await trainRun({ data: dataset, out: join(results, 'realdata-run'), arch: 'resnet50', pretrained: 'imagenet', epochs: EPOCHS, seed: SEED });
const wall = (performance.now() - started) / 1000;
copyFileSync(run.modelPath, join(results, 'realdata-model.safetensors'));

const findstroke = { wall_s: wall, valid_accuracy: run.evaluation.accuracy, valid_auc: run.evaluation.auc, valid_patient_auc: run.evaluation.patientAuc ?? NaN };
const report = {
  measured_on: `brain-stroke-ct, patient-grouped split (seed ${SEED}): ${split.valid.length} validation slices of ${split.validPatients!.length} patients`,
  valid_patients: split.validPatients,
  epochs: { frozen: 1, unfrozen: EPOCHS },
  findstroke,
  pytorch: { wall_s: pytorch.wall_s, valid_accuracy: pytorch.valid_accuracy, valid_auc: pytorch.valid_auc, valid_patient_auc: pytorch.valid_patient_auc },
};
writeFileSync(join(results, 'realdata.json'), JSON.stringify(report, null, 2) + '\n');
const f = (v: number) => (Number.isNaN(v) ? 'n/a' : v.toFixed(3));
console.log(`\n${report.measured_on}`);
console.log('engine      wall s   accuracy  slice AUC  patient AUC');
for (const [name, r] of [['findstroke', findstroke], ['pytorch', report.pytorch]] as const) {
  console.log(`${name.padEnd(10)}  ${r.wall_s.toFixed(0).padStart(6)}   ${f(r.valid_accuracy).padStart(8)}  ${f(r.valid_auc).padStart(9)}  ${f(r.valid_patient_auc).padStart(11)}`);
}
console.log(`wall-time ratio findstroke/PyTorch: ${(findstroke.wall_s / pytorch.wall_s).toFixed(3)} (target <= 1.1); AUC difference ${(findstroke.valid_auc - pytorch.valid_auc).toFixed(3)} (target >= -0.02)`);
