/**
 * `npm run bench:loader`: one epoch of ResNet-18 training at 128 px on ../shared/data/brain-stroke-ct
 * fed by the real loader (cold decode cache: every 650x650 JPEG decoded during the epoch, overlapping
 * the training steps), then a second, warm-cache epoch, against the same batches made beforehand and
 * held in memory; LOADER_ROUNDS (default 2) rounds, means reported. Writes bench/results/loader.json with
 * {"loader_vs_premade": first-epoch throughput ratio (target >= 0.9), "loader_vs_premade_warm": the later
 * epochs' ratio}.
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

// Pre-made: the epoch's batches decoded and augmented first (not timed), then trained on.
const premade: HostBatch[] = [];
for await (const batch of imageDataLoaders(dataset, options).train.epoch(0)) premade.push(batch);
const images = premade.reduce((n, b) => n + b.labels.length, 0);
const premadeEpoch = () => {
  const step = trainer();
  const started = performance.now();
  for (const batch of premade) step(batch);
  return (performance.now() - started) / 1000;
};

// Loader-fed: fresh loaders, so every file is decoded during the first epoch; the second epoch is what
// every later epoch of a run costs (decode cache warm, transforms still per item).
const loaderEpochs = async () => {
  const step = trainer();
  const loaders = imageDataLoaders(dataset, options);
  const timedEpoch = async (epoch: number) => {
    const start = performance.now();
    for await (const batch of loaders.train.epoch(epoch)) step(batch);
    return (performance.now() - start) / 1000;
  };
  return { cold: await timedEpoch(0), warm: await timedEpoch(1) };
};

// Rounds of pre-made then loader-fed epochs, closed by one more pre-made epoch: a slow spell of this
// shared machine (single epochs of the same batches differ by up to 10%) then weighs on both sides.
const rounds = Number(process.env.LOADER_ROUNDS ?? 2);
if (!(Number.isInteger(rounds) && rounds >= 1)) throw new RangeError(`LOADER_ROUNDS must be a positive integer, got ${process.env.LOADER_ROUNDS}`);
const premadeRuns: number[] = [];
const coldRuns: number[] = [];
const warmRuns: number[] = [];
for (let round = 0; round < rounds; round++) {
  premadeRuns.push(premadeEpoch());
  const { cold, warm } = await loaderEpochs();
  coldRuns.push(cold);
  warmRuns.push(warm);
}
premadeRuns.push(premadeEpoch());
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const [premadeSeconds, loaderSeconds, warmSeconds] = [mean(premadeRuns), mean(coldRuns), mean(warmRuns)];
const cpu = process.cpuUsage();

const ratio = premadeSeconds / loaderSeconds;
const warmRatio = premadeSeconds / warmSeconds;
mkdirSync(results, { recursive: true });
writeFileSync(
  `${results}loader.json`,
  JSON.stringify(
    {
      loader_vs_premade: ratio,
      loader_vs_premade_warm: warmRatio,
      images,
      loader_s: loaderSeconds,
      warm_s: warmSeconds,
      premade_s: premadeSeconds,
      rounds,
      premade_runs_s: premadeRuns,
      loader_runs_s: coldRuns,
      warm_runs_s: warmRuns,
      process_cpu_s: (cpu.user + cpu.system) / 1e6,
    },
    null,
    2,
  ) + '\n',
);
const list = (xs: number[]) => xs.map((x) => x.toFixed(1)).join(', ');
console.log(`one epoch of ResNet-18 at 128 px, ${images} images of brain-stroke-ct (650x650 JPEG), means of ${rounds} rounds:`);
console.log(`  pre-made batches in memory:      ${premadeSeconds.toFixed(1)} s (${(images / premadeSeconds).toFixed(1)} img/s; ${list(premadeRuns)} s)`);
console.log(`  real loader, first epoch (cold): ${loaderSeconds.toFixed(1)} s (${(images / loaderSeconds).toFixed(1)} img/s; ${list(coldRuns)} s)`);
console.log(`  real loader, later epoch (warm): ${warmSeconds.toFixed(1)} s (${(images / warmSeconds).toFixed(1)} img/s; ${list(warmRuns)} s)`);
console.log(`  loader_vs_premade = ${ratio.toFixed(3)} first epoch (target >= 0.9), ${warmRatio.toFixed(3)} later epochs`);
