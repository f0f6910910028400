import assert from 'node:assert/strict';
import { test } from 'node:test';
import { join } from 'node:path';
import sharp from 'sharp';
import { MaskOutsideHead, maskOutsideHeadBytes } from '../../../src/data/transforms/index.js';
import { predictionLoader } from '../../../src/data/dataloaders.js';
import type { HostImage } from '../../../src/data/types.js';
import { RSNA_ICH_WINDOWS } from '../../../src/data/window.js';
import { tempFolder } from '../helpers/tiny-images.js';

/**
 * A 24 x 24 slice: a head (skull ring of 1.0 around brain of 0.45, with a dark ventricle of 0.02 inside),
 * a hand beside it (a bright 2 x 2 blob) and a table line along the bottom row.
 */
function slice(channels = 1): HostImage {
  const w = 24;
  const plane = new Float32Array(w * w);
  for (let y = 0; y < w; y++) {
    for (let x = 0; x < w; x++) {
      const r = Math.hypot(x - 10, y - 10);
      plane[y * w + x] = r <= 6 ? (r > 5 ? 1 : Math.hypot(x - 10, y - 9) < 1.5 ? 0.02 : 0.45) : 0;
    }
  }
  for (const [x, y] of [
    [20, 4],
    [21, 4],
    [20, 5],
    [21, 5],
  ])
    plane[y * w + x] = 0.9;
  for (let x = 2; x < 22; x++) plane[23 * w + x] = 0.7;
  const data = new Float32Array(w * w * channels);
  for (let c = 0; c < channels; c++) data.set(plane, c * w * w);
  return { width: w, height: w, channels, data };
}
const at = (image: { width: number; data: ArrayLike<number> }, x: number, y: number, c = 0) => image.data[c * image.width * image.width + y * image.width + x];

test('MaskOutsideHead blanks the hand and the table on every channel and keeps the whole head, what it encloses included', () => {
  const masked = new MaskOutsideHead().apply(slice(3));
  for (let c = 0; c < 3; c++) {
    assert.deepEqual([at(masked, 20, 4, c), at(masked, 21, 5, c), at(masked, 10, 23, c)], [0, 0, 0], `channel ${c}: hand and table gone`);
    assert.deepEqual(
      [at(masked, 10, 4, c), at(masked, 13, 12, c), at(masked, 10, 9, c)].map((v) => Number(v.toFixed(2))),
      [1, 0.45, 0.02],
      `channel ${c}: skull, brain and ventricle kept`,
    );
  }
  const unchanged = slice(1);
  const before = Float32Array.from(unchanged.data);
  new MaskOutsideHead().apply(unchanged);
  assert.deepEqual(unchanged.data, before, 'the input is not modified');
  const empty: HostImage = { width: 4, height: 4, channels: 1, data: new Float32Array(16).fill(0.01) };
  assert.deepEqual(new MaskOutsideHead().apply(empty).data, empty.data, 'nothing above the threshold: left as it is');
});

test('the 8-bit version masks the same pixels, and the prediction loader applies it only when the input says so', async () => {
  const float = slice(1);
  const bytes = { ...float, data: Uint8Array.from(float.data, (v) => Math.round(v * 255)) };
  const masked = maskOutsideHeadBytes(bytes);
  const reference = new MaskOutsideHead().apply(float);
  assert.deepEqual(
    Array.from(masked.data, (v) => v === 0),
    Array.from(reference.data, (v) => v === 0),
  );

  const { root, remove } = await tempFolder();
  try {
    const path = join(root, 'slice.png');
    await sharp(Buffer.from(bytes.data), { raw: { width: 24, height: 24, channels: 1 } })
      .png()
      .toFile(path);
    const kept = await predictionLoader({ size: 24, windows: RSNA_ICH_WINDOWS })(path);
    const blanked = await predictionLoader({ size: 24, windows: RSNA_ICH_WINDOWS, maskOutsideHead: true })(path);
    // Prepared as validation prepares it (resized to 32 px, centre-cropped): the hand is in the top right corner.
    const handBrightness = (image: HostImage) => Math.max(...Array.from({ length: 6 * 6 }, (_, k) => at(image, 18 + (k % 6), (k / 6) | 0)));
    assert.ok(handBrightness(kept) > 0.3, `the hand is there without the mask (${handBrightness(kept)})`);
    assert.equal(handBrightness(blanked), 0);
  } finally {
    await remove();
  }
});
