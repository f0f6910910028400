/**
 * `npm run bench:equivalence`: does findstroke's `fineTune` compute what the PyTorch reference computes?
 * Both engines start from the same weights (ImageNet ResNet-50 and one fastai head, its dropout off since
 * each engine draws its own masks) and take the same 8 training batches of ../shared/data/brain-stroke-ct
 * (prepared by findstroke's loader) through one frozen and one unfrozen phase of fine_tune
 * (bench/reference/fine_tune_steps.py on the PyTorch side). Writes bench/results/equivalence.json with
 * every step's loss in both, the evaluation-mode loss after each phase (batch norm's running statistics
 * included), and the largest differences of those and of the final head weights.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { manualSeed, setNumThreads } from '../../src/torch/index.js';
import { fromManifest } from '../../src/data/sources/index.js';
import { imageDataLoaders } from '../../src/data/dataloaders.js';
import { DataLoader } from '../../src/data/loader.js';
import { Compose } from '../../src/data/transforms/transform.js';
import { createClassifier } from '../../src/models/create.js';
import { saveModuleWeights } from '../../src/torch/io/module-weights.js';
import { concatFloat32 } from '../../src/learn/host-arrays.js';
import { VisionLearner } from '../../src/learn/vision-learner.js';
import { requireDebianPyTorch } from '../reference/pytorch.js';

const results = fileURLToPath(new URL('../results/', import.meta.url));
const manifest = fileURLToPath(new URL('../../../shared/data/brain-stroke-ct/manifest.csv', import.meta.url));
const script = fileURLToPath(new URL('../reference/fine_tune_steps.py', import.meta.url));
const BATCHES = 8;
const BATCH = 32;
const SIZE = 128;
if (!existsSync(manifest)) {
  console.error(`bench:equivalence skipped: ${manifest} is absent (real data lives in ../shared/data beside the repository)`);
  process.exit(0);
}
requireDebianPyTorch('bench:equivalence');
setNumThreads(2);
manualSeed(0);

const dataset = await fromManifest(manifest);
const dls = imageDataLoaders(dataset, { size: SIZE, batchSize: BATCH, seed: 42 });
const images: Float32Array[] = [];
const labels: number[] = [];
for await (const batch of dls.train.epoch(0)) {
  images.push(batch.images);
  labels.push(...batch.labels);
  if (images.length === BATCHES) break;
}
const x = concatFloat32(images);

const model = await createClassifier({ arch: 'resnet50', numClasses: dataset.classes.length, pretrained: 'imagenet', head: { dropout: [0, 0] } });
const dir = mkdtempSync(join(tmpdir(), 'findstroke-equivalence-'));
writeFileSync(join(dir, 'x.bin'), x);
writeFileSync(join(dir, 'y.json'), JSON.stringify({ y: labels, classes: dataset.classes }));
saveModuleWeights(model.body, join(dir, 'body.safetensors'));
saveModuleWeights(model.head, join(dir, 'head.safetensors'));

// The same batches, in the same order, every epoch: no shuffling, no augmentation.
const per = 3 * SIZE * SIZE;
const items = labels.map((label, i) => ({ label, load: async () => ({ width: SIZE, height: SIZE, channels: 3, data: x.slice(i * per, (i + 1) * per) }) }));
const fixed = new DataLoader(items, new Compose([]), { batchSize: BATCH, shuffle: false, seed: 0, dropLast: true });
const losses: number[] = [];
const learner = new VisionLearner(
  model,
  { train: fixed, valid: fixed, classes: dataset.classes },
  { callbacks: [{ afterBatch: (_l, info) => void losses.push(info.loss) }] },
);
await learner.fineTune(1, 2e-3);
const head = Object.fromEntries(model.head.namedParameters().map(([name, p]) => [name, p.floats()]));

const reference = JSON.parse(execFileSync('/usr/bin/python3', [script, '--dir', dir, '--bs', String(BATCH)], { encoding: 'utf8', maxBuffer: 1 << 28 })) as {
  losses: number[];
  eval_losses: number[];
  head: Record<string, number[]>;
};
// The learner validates on the same batches after each phase, in evaluation mode: batch norm's running statistics.
const evalLosses = learner.history.map((epoch) => epoch.validLoss);
const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);
const report = {
  measured_on: `brain-stroke-ct, ${BATCHES} training batches of ${BATCH} at ${SIZE} px, fine_tune: one frozen and one unfrozen pass over them`,
  steps: losses.length,
  max_abs_loss_diff: maxDiff(losses, reference.losses),
  max_abs_head_weight_diff: Math.max(...Object.keys(head).map((name) => maxDiff(head[name], reference.head[name]))),
  max_abs_eval_loss_diff: maxDiff(evalLosses, reference.eval_losses),
  findstroke_losses: losses,
  pytorch_losses: reference.losses,
  findstroke_eval_losses: evalLosses,
  pytorch_eval_losses: reference.eval_losses,
};
mkdirSync(results, { recursive: true });
writeFileSync(join(results, 'equivalence.json'), JSON.stringify(report, null, 2) + '\n');
console.log(
  `${report.steps} steps of fine_tune on the same weights and batches: largest loss difference ${report.max_abs_loss_diff.toExponential(2)}, ` +
    `head-weight difference ${report.max_abs_head_weight_diff.toExponential(2)}, evaluation-mode loss difference ${report.max_abs_eval_loss_diff.toExponential(2)}`,
);
