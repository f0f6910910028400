/**
 * `npm run bench:loader`: one epoch of ResNet-18 training at 128 px on ../shared/data/brain-stroke-ct
 * fed by the real loader (cold decode cache: every 650x650 JPEG decoded during the epoch, overlapping
 * the training steps), against the same batches made beforehand and held in memory (trained on before
 * and after the loader-fed epochs); then a second, warm-cache epoch. Writes bench/results/loader.json
 * with {"loader_vs_premade": first-epoch throughput ratio (target >= 0.9), "loader_vs_premade_warm": the
 * later epochs' ratio}.
 */
import { mkdirSync, writeFileSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Tensor, F, Optimizer, tidy, manualSeed, setNumThreads } from '../../src/torch/index.js';
import { fromManifest } from '../../src/data/sources/index.js';
import { imageDataLoaders } from '../../src/data/dataloaders.js';
import type { HostBatch } from '../../src/data/loader.js';
import { ResNet } from '../../src/models/resnet.js';

const results = fileURLToPath(new URL('../results/', import.meta.url));
const manifest = fileURLToPath(new URL('../../../shared/data/brain-stroke-ct/manifest.csv', import.meta.url));
if (!existsSync(manifest)) {
  console.error(`bench:loader skipped: ${manifest} is absent (real data lives in ../shared/data beside the repository)`);
  process.exit(0);
}

setNumThreads(2);
const dataset = await fromManifest(manifest);
const options = { size: 128, batchSize: 32, seed: 42 };

function trainer() {
  manualSeed(0);
  const model = new ResNet('resnet18', { numClasses: dataset.classes.length }).train();
  const optimizer = Optimizer.adamW([{ params: model.parameters() }], { lr: 1e-3 });
  return (batch: HostBatch) =>
    tidy(() => {
      const x = Tensor.fromHost({ dtype: 'float32', shape: batch.shape, data: batch.images });
      const y = Tensor.of(batch.labels, [batch.labels.length], 'int64');
      optimizer.zeroGrad();
      F.crossEntropy(model.forward(x), y).backward();
      optimizer.step();
    });
}

// Pre-made: the epoch's batches decoded and augmented first (not timed), then trained on, once before
// and once after the loader-fed epochs: the mean of the two keeps a slow spell of this shared machine
// from biasing the ratios.
const premade: HostBatch[] = [];
for await (const batch of imageDataLoaders(dataset, options).train.epoch(0)) premade.push(batch);
const images = premade.reduce((n, b) => n + b.labels.length, 0);
const premadeEpoch = () => {
  const step = trainer();
  const started = performance.now();
  for (const batch of premade) step(batch);
  return (performance.now() - started) / 1000;
};
const premadeBefore = premadeEpoch();

// Loader-fed: fresh loaders, so every file is decoded during the first epoch; the second epoch is what
// every later epoch of a run costs (decode cache warm, transforms still per item).
const step = trainer();
const loaders = imageDataLoaders(dataset, options);
const timedEpoch = async (epoch: number) => {
  const start = performance.now();
  for await (const batch of loaders.train.epoch(epoch)) step(batch);
  return (performance.now() - start) / 1000;
};
const loaderSeconds = await timedEpoch(0);
const warmSeconds = await timedEpoch(1);
const premadeAfter = premadeEpoch();
const premadeSeconds = (premadeBefore + premadeAfter) / 2;
const cpu = process.cpuUsage();

const ratio = premadeSeconds / loaderSeconds;
const warmRatio = premadeSeconds / warmSeconds;
mkdirSync(results, { recursive: true });
writeFileSync(
  `${results}loader.json`,
  JSON.stringify({ loader_vs_premade: ratio, loader_vs_premade_warm: warmRatio, images, loader_s: loaderSeconds, warm_s: warmSeconds, premade_s: premadeSeconds, premade_before_s: premadeBefore, premade_after_s: premadeAfter, process_cpu_s: (cpu.user + cpu.system) / 1e6 }, null, 2) + '\n',
);
console.log(`one epoch of ResNet-18 at 128 px, ${images} images of brain-stroke-ct (650x650 JPEG):`);
console.log(`  pre-made batches in memory:      ${premadeSeconds.toFixed(1)} s (${(images / premadeSeconds).toFixed(1)} img/s; ${premadeBefore.toFixed(1)} s before, ${premadeAfter.toFixed(1)} s after)`);
console.log(`  real loader, first epoch (cold): ${loaderSeconds.toFixed(1)} s (${(images / loaderSeconds).toFixed(1)} img/s)`);
console.log(`  real loader, later epoch (warm): ${warmSeconds.toFixed(1)} s (${(images / warmSeconds).toFixed(1)} img/s)`);
console.log(`  loader_vs_premade = ${ratio.toFixed(3)} first epoch (target >= 0.9), ${warmRatio.toFixed(3)} later epochs`);
