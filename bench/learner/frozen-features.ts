/**
 * `npm run bench:frozen`: the gain of the frozen-body feature cache. With the body frozen (its batch norm
 * too) and no augmentation, the body's output per image is the same in every epoch, so the learner
 * computes it once per fit and trains the head on it. Runs the same frozen fit (ImageNet ResNet-50,
 * 128 px) with and without the cache on synthetic phantoms and checks the losses agree.
 * Writes bench/results/frozen-features.json.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { manualSeed, setNumThreads } from '../../src/torch/index.js';
import { writePhantomDataset } from '../../src/data/phantoms/index.js';
import { datasetFromPath } from '../../src/data/sources/index.js';
import { imageDataLoaders } from '../../src/data/dataloaders.js';
import { createClassifier } from '../../src/models/create.js';
import { VisionLearner } from '../../src/learn/vision-learner.js';

const results = fileURLToPath(new URL('../results/', import.meta.url));
const EPOCHS = 3;
setNumThreads(2);
const data = join(mkdtempSync(join(tmpdir(), 'findstroke-frozen-')), 'phantoms');
await writePhantomDataset(data, { patients: 24, slices: 10, seed: 0, format: 'png', size: 256 });
const dataset = await datasetFromPath(data);

async function run(cache: boolean) {
  manualSeed(0);
  const dls = imageDataLoaders(dataset, { seed: 0, augment: false });
  const learner = new VisionLearner(await createClassifier({ arch: 'resnet50', numClasses: 3, pretrained: 'imagenet' }), dls, { trainBatchNorm: false });
  learner.useFeatureCache = cache;
  learner.freeze();
  const started = performance.now();
  const history = await learner.fitOneCycle(EPOCHS, [2e-3], { pctStart: 0.99 });
  const seconds = (performance.now() - started) / 1000;
  learner.model.dispose();
  return { seconds, usedCache: learner.usedFeatureCache, validLoss: history.map((h) => h.validLoss), trainImages: dls.split.train.length };
}

const full = await run(false);
const cached = await run(true);
const maxLossDifference = Math.max(...cached.validLoss.map((v, i) => Math.abs(v - full.validLoss[i])));
const report = {
  epochs: EPOCHS,
  train_images: full.trainImages,
  full_forward_s: full.seconds,
  feature_cache_s: cached.seconds,
  speedup: full.seconds / cached.seconds,
  max_valid_loss_difference: maxLossDifference,
};
mkdirSync(results, { recursive: true });
writeFileSync(join(results, 'frozen-features.json'), JSON.stringify(report, null, 2) + '\n');
console.log(`frozen ResNet-50 body, ${EPOCHS} epochs on ${full.trainImages} phantom images at 128 px, no augmentation:`);
console.log(`  full forward every epoch: ${full.seconds.toFixed(1)} s`);
console.log(`  body features cached:     ${cached.seconds.toFixed(1)} s (${report.speedup.toFixed(2)}x faster; used: ${cached.usedCache})`);
console.log(`  largest validation-loss difference: ${maxLossDifference.toExponential(2)}`);
