import { test } from 'node:test';
import assert from 'node:assert/strict';
import { heatmapOnSource } from '../../src/interpret/cam-geometry.js';

test('a heat map on the centre crop lands on the centre of the original image', () => {
  // 4x4 model input, a 100x50 original: resize short side 50 -> 8 (scale 0.16), crop 4 => a 25x25 centre square.
  const cam = new Float32Array(16).fill(1);
  const out = heatmapOnSource(cam, 4, 8, 100, 50);
  const at = (x: number, y: number) => out[y * 100 + x];
  assert.equal(at(50, 25), 1, 'centre');
  assert.equal(at(5, 25), 0, 'left of the crop');
  assert.equal(at(50, 2), 0, 'above the crop');
  assert.equal(at(40, 15), 1, 'inside the 25x25 square (37.5..62.5, 12.5..37.5)');
});

test('the hot corner of the crop stays in the same corner on the original', () => {
  const cam = new Float32Array(16);
  cam[0] = 1; // top-left of the model input
  const out = heatmapOnSource(cam, 4, 4, 40, 40);
  let best = 0;
  out.forEach((v, i) => (best = v > out[best] ? i : best));
  assert.ok(best % 40 < 10 && Math.floor(best / 40) < 10, `hottest pixel at ${best % 40},${Math.floor(best / 40)}`);
});
