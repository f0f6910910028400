import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Rng } from '../../../src/data/rng.js';
import { GreyToRgb, RandomBrightnessContrast, ScaleIntensityRange, StackWindows } from '../../../src/data/transforms/index.js';
import type { HostImage } from '../../../src/data/types.js';
import { HEAD_CT_WINDOWS } from '../../../src/data/window.js';

const hu = (...values: number[]): HostImage => ({ width: values.length, height: 1, channels: 1, data: Float32Array.from(values) });

describe('ScaleIntensityRange', () => {
  test('HU window with clip: aMin -> 0, aMax -> 1, linear between, saturating outside', () => {
    const window = new ScaleIntensityRange({ aMin: -40, aMax: 120, clip: true });
    assert.deepEqual([...window.apply(hu(-1000, -40, 40, 120, 3000)).data], [0, 0, 0.5, 1, 1]);
  });

  test('without clip it extrapolates, as MONAI; bMin/bMax set the output range', () => {
    assert.deepEqual([...new ScaleIntensityRange({ aMin: 0, aMax: 100 }).apply(hu(-50, 150)).data], [-0.5, 1.5]);
    assert.deepEqual([...new ScaleIntensityRange({ aMin: 0, aMax: 100, bMin: -1, bMax: 1, clip: true }).apply(hu(-50, 50, 150)).data], [-1, 0, 1]);
    assert.throws(() => new ScaleIntensityRange({ aMin: 5, aMax: 5 }), /distinct finite aMin and aMax/);
  });
});

describe('StackWindows', () => {
  test('one HU channel to brain, subdural and bone channels, with the DICOM window boundaries', () => {
    const { brain } = HEAD_CT_WINDOWS;
    // PS3.3 C.11.2.1.2.1: 0 at or below c - 0.5 - (w-1)/2 = 0 HU, 1 above c - 0.5 + (w-1)/2 = 79 HU.
    const out = new StackWindows().apply(hu(-1000, 0, 40, 79, 80, 2000));
    assert.equal(out.channels, 3);
    assert.deepEqual(
      [...out.data.subarray(0, 6)].map((v) => Number(v.toFixed(4))),
      [0, 0, 0.5063, 1, 1, 1],
    );
    assert.deepEqual(
      [...new StackWindows([brain]).apply(hu(40)).data].map((v) => Number(v.toFixed(4))),
      [0.5063],
    );
    assert.throws(() => new StackWindows().apply({ ...hu(1, 2, 3), channels: 3, width: 1 }), /takes one channel of HU, got 3 channels/);
  });
});

describe('GreyToRgb', () => {
  test('repeats one channel three times; three channels pass; others are refused', () => {
    const grey = hu(0.1, 0.2);
    assert.deepEqual([...new GreyToRgb().apply(grey).data].map(Math.fround), [0.1, 0.2, 0.1, 0.2, 0.1, 0.2].map(Math.fround));
    const rgb = { width: 1, height: 1, channels: 3, data: Float32Array.of(1, 2, 3) };
    assert.equal(new GreyToRgb().apply(rgb), rgb);
    assert.throws(() => new GreyToRgb().apply({ width: 1, height: 1, channels: 2, data: Float32Array.of(1, 2) }), /takes 1 or 3 channels, got 2/);
  });
});

describe('RandomBrightnessContrast', () => {
  const image = hu(0, 0.1, 0.3, 0.5, 0.7, 0.9, 1);

  test('keeps values in 0..1 and their order; same seed, same result', () => {
    const lighting = new RandomBrightnessContrast({ p: 1 });
    for (let seed = 0; seed < 50; seed++) {
      const out = lighting.apply(image, new Rng(seed));
      assert.ok(out.data.every((v) => v >= 0 && v <= 1));
      assert.ok(out.data.every((v, i) => i === 0 || v >= out.data[i - 1]));
      assert.deepEqual(lighting.apply(image, new Rng(seed)).data, out.data);
    }
  });

  test('moves mid-grey no further than the fastai ranges allow', () => {
    // Brightness puts 0.5 at logit(b), |logit(b)| <= logit(0.6); contrast scales that by at most 1/0.8: sigmoid(0.507) = 0.624.
    const lighting = new RandomBrightnessContrast({ p: 1 });
    const moved = Array.from({ length: 200 }, (_, seed) => lighting.apply(hu(0.5), new Rng(seed)).data[0] - 0.5);
    assert.ok(moved.every((shift) => Math.abs(shift) < 0.125));
    assert.ok(Math.max(...moved) > 0.08 && Math.min(...moved) < -0.08);
  });

  test('p = 0 returns the image itself', () => {
    assert.equal(new RandomBrightnessContrast({ p: 0 }).apply(image, new Rng(0)), image);
  });
});
