/**
 * Embeddings for the linear study recipe's screens (`linear_screen.py`): every slice of
 * ../shared/data/brain-stroke-ct in manifest order through the frozen ImageNet ResNet-50 at 256 px,
 * prepared as `--recipe study-linear` prepares it. Writes, under bench/results/screens/, float32 rows:
 * - plain+asymmetry.bin [N, 2048 + 2048 + 1024]: the last stage average-pooled (the recipe's own
 *   embedding), then per channel the mean absolute difference between the stage-4 and the stage-3
 *   feature maps and their left-right mirrors (a hemispheric comparison in feature space);
 * - narrow.bin [N, 2048]: the last stage average-pooled of the slice contrast-stretched to a narrower
 *   window (grey 70-180 of these brain-windowed JPEGs to the full range).
 * About 4 minutes per pass on 2 cores; two passes.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { Tensor, setNumThreads } from '../../../src/torch/index.js';
import { fromManifest } from '../../../src/data/sources/index.js';
import { DataLoader } from '../../../src/data/loader.js';
import { predictionLoader } from '../../../src/data/dataloaders.js';
import { Compose } from '../../../src/data/transforms/transform.js';
import type { HostImage } from '../../../src/data/types.js';
import { embedItems } from '../../../src/learn/embeddings.js';
import { stageMaps } from '../../../src/models/study-classifier.js';
import { embeddingBody, inputWindows, studyInput } from '../../../src/workflows/study-embeddings.js';

const manifest = fileURLToPath(new URL('../../../../shared/data/brain-stroke-ct/manifest.csv', import.meta.url));
const out = fileURLToPath(new URL('../../results/screens/', import.meta.url));
if (!existsSync(manifest)) {
  console.log(`skipped: ${manifest} is absent (the screens need ../shared/data/brain-stroke-ct)`);
  process.exit(0);
}
setNumThreads(2);
mkdirSync(out, { recursive: true });
const dataset = await fromManifest(manifest);
const input = studyInput({ size: 256 });
const prepare = predictionLoader({ ...input, windows: inputWindows(input, dataset) });
const model = (await embeddingBody(input, dataset.classes.length)).eval();

/** Grey levels lo..hi (of 255) stretched to 0..1, as a radiologist narrows the window. */
const narrowed = (image: HostImage, lo = 70, hi = 180): HostImage => ({
  ...image,
  data: image.data.map((v) => Math.min(1, Math.max(0, (v * 255 - lo) / (hi - lo)))),
});

async function embed(name: string, view: (image: HostImage) => HostImage, features: (x: Tensor) => Tensor): Promise<void> {
  const items = dataset.samples.map((s) => ({ label: 0, load: async () => view(await prepare(s.path)) }));
  const loader = new DataLoader(items, new Compose([]), { batchSize: 32, shuffle: false, seed: 0 });
  const started = performance.now();
  const rows = await embedItems(features, loader);
  writeFileSync(join(out, `${name}.bin`), Buffer.from(rows.floats().buffer));
  console.log(`${name}.bin: [${rows.shape.join(', ')}] in ${((performance.now() - started) / 1000).toFixed(0)} s`);
  rows.dispose();
}

const mirrorDifference = (maps: Tensor) =>
  maps
    .sub(maps.flip([3]))
    .abs()
    .mean([2, 3]);
await embed(
  'plain+asymmetry',
  (image) => image,
  (x) => {
    const stage3 = stageMaps(model.normalize, model.body, x, 3);
    const stage4 = model.body.stages[3].forward(stage3);
    return Tensor.cat([stage4.mean([2, 3]), mirrorDifference(stage4), mirrorDifference(stage3)], 1);
  },
);
await embed('narrow', narrowed, (x) => stageMaps(model.normalize, model.body, x, 4).mean([2, 3]));
model.dispose();
