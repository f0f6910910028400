import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Rng } from '../../../src/data/rng.js';
import {
  CenterCrop,
  Compose,
  RandomBrightnessContrast,
  RandomFlip,
  RandomResizedCrop,
  RandomRotate,
  Resize,
  cropAndResize,
  fastaiValidationSize,
  rotate,
  warpAffine,
  type Padding,
} from '../../../src/data/transforms/index.js';
import type { HostImage } from '../../../src/data/types.js';

/** A `width` x `height` image whose pixel (x, y) of channel c is c * 1000 + y * 100 + x: every pixel tells where it came from. */
function coded(width: number, height: number, channels = 1): HostImage {
  const data = new Float32Array(width * height * channels);
  for (let c = 0; c < channels; c++)
    for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data[(c * height + y) * width + x] = c * 1000 + y * 100 + x;
  return { width, height, channels, data };
}

/** A smooth 0..1 image, as transforms see after decoding. */
function smooth(width: number, height: number, channels = 3): HostImage {
  const data = new Float32Array(width * height * channels).map((_, i) => 0.5 + 0.4 * Math.sin(i * 0.37));
  return { width, height, channels, data };
}

const at = (image: HostImage, x: number, y: number, c = 0) => image.data[(c * image.height + y) * image.width + x];

describe('CenterCrop', () => {
  test('copies the central pixels exactly, top-left at floor((W - size) / 2)', () => {
    const cropped = new CenterCrop(3).apply(coded(6, 5, 2));
    assert.deepEqual([cropped.width, cropped.height, cropped.channels], [3, 3, 2]);
    assert.deepEqual([...cropped.data], [101, 102, 103, 201, 202, 203, 301, 302, 303, 1101, 1102, 1103, 1201, 1202, 1203, 1301, 1302, 1303]);
  });

  test('pads an image smaller than the crop with zeros', () => {
    const padded = new CenterCrop(4).apply(coded(2, 2));
    assert.deepEqual([...padded.data], [0, 0, 0, 0, 0, 0, 1, 0, 0, 100, 101, 0, 0, 0, 0, 0]);
  });
});

describe('Resize and the fastai validation size', () => {
  test('fastai: size plus size * 0.14 rounded up to a multiple of 8', () => {
    assert.equal(fastaiValidationSize(128), 152);
    assert.equal(fastaiValidationSize(224), 256);
  });

  test('short side to the size, aspect kept', () => {
    const resized = new Resize(16).apply(smooth(40, 20));
    assert.deepEqual([resized.width, resized.height, resized.channels], [32, 16, 3]);
  });

  test('shrinking averages: a 1-pixel checkerboard halved is flat grey', () => {
    const board = { width: 4, height: 4, channels: 1, data: Float32Array.from({ length: 16 }, (_, i) => ((i >> 2) + i) % 2) };
    assert.deepEqual([...new Resize(2).apply(board).data], [0.5, 0.5, 0.5, 0.5]);
  });

  test('validation pipeline on a square slice: 152 then the central 128', () => {
    const valid = new Compose([new Resize(fastaiValidationSize(128)), new CenterCrop(128)]);
    const out = valid.apply(smooth(650, 650), new Rng(0));
    assert.deepEqual([out.width, out.height], [128, 128]);
  });
});

describe('RandomResizedCrop', () => {
  test('boxes stay inside the image; area share in [minScale, 1], ratio in [3/4, 4/3], over many draws', () => {
    const crop = new RandomResizedCrop(128, { minScale: 0.35 });
    const rng = new Rng(5);
    let smallest = 1;
    let largest = 0;
    for (let i = 0; i < 2000; i++) {
      const box = crop.cropBox(300, 200, rng);
      assert.ok(box.left >= 0 && box.top >= 0 && box.left + box.width <= 300 && box.top + box.height <= 200, JSON.stringify(box));
      const share = (box.width * box.height) / (300 * 200);
      const ratio = box.width / box.height;
      assert.ok(share > 0.35 - 0.01 && share <= 1 + 0.01, `share ${share}`);
      assert.ok(ratio > 3 / 4 - 0.01 && ratio < 4 / 3 + 0.01, `ratio ${ratio}`);
      smallest = Math.min(smallest, share);
      largest = Math.max(largest, share);
    }
    // On a 3:2 image the largest crop a 4:3 ratio allows covers 200 x 266 pixels, 0.89 of the area.
    assert.ok(smallest < 0.37 && largest > 0.85, `draws cover the range: ${smallest}..${largest}`);
  });

  test('falls back to a centre crop of the widest allowed ratio when no draw fits, as fastai', () => {
    const box = new RandomResizedCrop(8, { minScale: 0.9 }).cropBox(100, 10, new Rng(0));
    assert.deepEqual(box, { left: 43, top: 0, width: 13, height: 10 });
  });

  test('gives size x size and the same pixels for the same seed', () => {
    const crop = new RandomResizedCrop(32);
    const image = smooth(80, 60);
    const a = crop.apply(image, new Rng(11));
    assert.deepEqual([a.width, a.height, a.channels], [32, 32, 3]);
    assert.deepEqual(crop.apply(image, new Rng(11)).data, a.data);
    assert.notDeepEqual(crop.apply(image, new Rng(12)).data, a.data);
  });

  test('a crop of scale 1 and ratio 1 from a square image at its own size is the image', () => {
    const image = coded(10, 10);
    const same = new RandomResizedCrop(10, { minScale: 1, ratio: [1, 1] }).apply(image, new Rng(0));
    assert.deepEqual(same.data, image.data);
    assert.deepEqual(cropAndResize(image, { left: 0, top: 0, width: 10, height: 10 }, 10, 10, 'zeros').data, image.data);
  });
});

describe('cropAndResize', () => {
  test('applies, one axis at a time, the samples and weights of the general affine warp', () => {
    const image = smooth(37, 29, 2);
    const cases: [number, number, number, number, number, number, Padding][] = [
      [3, 2, 30, 25, 16, 12, 'border'], // shrinking by about 2 along each axis
      [0, 0, 37, 29, 12, 9, 'border'], // a whole-image resize by about 3
      [5, 4, 6, 5, 20, 17, 'border'], // enlarging
      [-4, -3, 20, 18, 11, 10, 'zeros'], // reaching outside the image
      [-4, 20, 25, 18, 11, 10, 'reflection'],
    ];
    for (const [left, top, w, h, width, height, padding] of cases) {
      const fast = cropAndResize(image, { left, top, width: w, height: h }, width, height, padding);
      const general = warpAffine(image, width, height, { a: w / width, b: 0, c: left, d: 0, e: h / height, f: top }, padding);
      assert.equal(fast.data.length, general.data.length);
      fast.data.forEach((v, i) =>
        assert.ok(Math.abs(v - general.data[i]) < 1e-5, `${padding} box ${left},${top},${w}x${h}: pixel ${i} ${v} vs ${general.data[i]}`),
      );
    }
  });
});

describe('RandomFlip', () => {
  test('horizontal mirrors each row; vertical mirrors the rows; p = 0 leaves the image', () => {
    const image = coded(3, 2, 2);
    assert.deepEqual([...new RandomFlip('horizontal', 1).apply(image, new Rng(0)).data], [2, 1, 0, 102, 101, 100, 1002, 1001, 1000, 1102, 1101, 1100]);
    assert.deepEqual([...new RandomFlip('vertical', 1).apply(image, new Rng(0)).data], [100, 101, 102, 0, 1, 2, 1100, 1101, 1102, 1000, 1001, 1002]);
    assert.equal(new RandomFlip('horizontal', 0).apply(image, new Rng(0)), image);
  });

  test('flips about half the time', () => {
    const image = coded(3, 1);
    const rng = new Rng(3);
    let flipped = 0;
    for (let i = 0; i < 1000; i++) if (new RandomFlip().apply(image, rng) !== image) flipped++;
    assert.ok(flipped > 450 && flipped < 550, String(flipped));
  });
});

describe('RandomRotate', () => {
  test('rotation by 0 is the identity, whatever the padding', () => {
    const image = coded(7, 5, 2);
    for (const padding of ['zeros', 'border', 'reflection'] as const) assert.deepEqual(rotate(image, 0, padding).data, image.data);
    assert.deepEqual(new RandomRotate(0, { p: 1 }).apply(image, new Rng(0)).data, image.data);
  });

  test('90 degrees moves pixel (W-1-y, x) to (x, y)', () => {
    const image = coded(4, 4);
    const turned = rotate(image, 90, 'zeros');
    for (let y = 0; y < 4; y++) for (let x = 0; x < 4; x++) assert.ok(Math.abs(at(turned, x, y) - at(image, 3 - y, x)) < 1e-3);
  });

  test('small angles keep the size and the value range; reflection fills the corners', () => {
    const image = smooth(20, 20, 1);
    const rng = new Rng(1);
    for (let i = 0; i < 20; i++) {
      const out = new RandomRotate(10, { p: 1 }).apply(image, rng);
      assert.deepEqual([out.width, out.height], [20, 20]);
      assert.ok(out.data.every((v) => v >= 0.1 - 1e-6 && v <= 0.9 + 1e-6));
    }
  });
});

test('random transforms say so, so a pipeline of them is never mistaken for a cacheable one', () => {
  for (const t of [new RandomResizedCrop(8), new RandomFlip(), new RandomRotate(10), new RandomBrightnessContrast()])
    assert.equal(t.random, true, t.constructor.name);
  for (const t of [new Resize(8), new CenterCrop(8)]) assert.equal((t as { random?: boolean }).random, undefined, t.constructor.name);
  assert.equal(new Compose([new Resize(8), new RandomFlip()]).random, true);
});

test('a training pipeline is deterministic given the seed, epoch and item', () => {
  const train = new Compose([new RandomResizedCrop(24, { minScale: 0.35 }), new RandomFlip(), new RandomRotate(10), new RandomBrightnessContrast()]);
  const image = smooth(40, 40);
  const a = train.apply(image, Rng.forItem(42, 0, 7));
  assert.deepEqual(train.apply(image, Rng.forItem(42, 0, 7)).data, a.data);
  assert.notDeepEqual(train.apply(image, Rng.forItem(42, 1, 7)).data, a.data);
});
