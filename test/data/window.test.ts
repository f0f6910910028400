import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PADDING_HU } from '../../src/data/dicom/index.js';
import { HEAD_CT_WINDOWS, RSNA_ICH_WINDOWS, applyWindow, applyWindowUint8, fileWindows, stackWindows, voiLinear } from '../../src/data/window.js';

const { brain, subdural, stroke, bone } = HEAD_CT_WINDOWS;

describe('LINEAR VOI function (PS3.3 C.11.2.1.2.1)', () => {
  test('presets', () => {
    assert.deepEqual(HEAD_CT_WINDOWS, {
      brain: { center: 40, width: 80 },
      subdural: { center: 80, width: 200 },
      stroke: { center: 40, width: 40 },
      bone: { center: 600, width: 2800 },
    });
    assert.deepEqual(RSNA_ICH_WINDOWS, [brain, subdural, bone]);
  });

  test('brain 40/80: 0 at and below c-0.5-(w-1)/2 = 0, 1 above c-0.5+(w-1)/2 = 79', () => {
    assert.equal(voiLinear(-1000, brain), 0);
    assert.equal(voiLinear(0, brain), 0);
    assert.equal(voiLinear(0.5, brain), (0.5 - 39.5) / 79 + 0.5);
    assert.equal(voiLinear(39.5, brain), 0.5);
    assert.equal(voiLinear(40, brain), (40 - 39.5) / 79 + 0.5);
    assert.equal(voiLinear(79, brain), 1);
    assert.equal(voiLinear(79.01, brain), 1);
    assert.equal(voiLinear(3000, brain), 1);
  });

  test('stroke 40/40 and bone 600/2800 edges', () => {
    assert.equal(voiLinear(20, stroke), 0);
    assert.equal(voiLinear(59, stroke), 1);
    assert.equal(voiLinear(39.5, stroke), 0.5);
    assert.equal(voiLinear(-800, bone), 0);
    assert.equal(voiLinear(1999, bone), 1);
    assert.equal(voiLinear(599.5, bone), 0.5);
    assert.equal(voiLinear(-20, subdural), 0);
    assert.equal(voiLinear(179, subdural), 1);
  });

  test('width 1 is a threshold at c - 0.5; narrower windows are refused', () => {
    const threshold = { center: 10, width: 1 };
    assert.equal(voiLinear(9.5, threshold), 0);
    assert.equal(voiLinear(9.51, threshold), 1);
    assert.throws(() => voiLinear(0, { center: 10, width: 0.5 }), RangeError);
    assert.throws(() => applyWindow(new Float32Array(1), { center: Number.NaN, width: 80 }), RangeError);
  });
});

describe('windowing images', () => {
  const hu = Float32Array.of(PADDING_HU, -1000, 0, 39.5, 79, 2000);

  test('to 0..1 floats; padding is black', () => {
    assert.deepEqual(Array.from(applyWindow(hu, brain)), [0, 0, 0, 0.5, 1, 1]);
  });

  test('to 0..255 bytes, rounded', () => {
    assert.deepEqual(Array.from(applyWindowUint8(hu, brain)), [0, 0, 0, 128, 255, 255]);
  });

  test('brain/subdural/bone stacked channel-first', () => {
    const stacked = stackWindows(hu);
    assert.equal(stacked.length, 3 * hu.length);
    assert.deepEqual(stacked.subarray(0, hu.length), applyWindow(hu, brain));
    assert.deepEqual(stacked.subarray(hu.length, 2 * hu.length), applyWindow(hu, subdural));
    assert.deepEqual(stacked.subarray(2 * hu.length), applyWindow(hu, bone));
    assert.deepEqual(stackWindows(hu, [stroke]), applyWindow(hu, stroke));
  });

  test("the file's own windows pair Window Center and Width in order", () => {
    assert.deepEqual(fileWindows({ windowCenters: [35, 700], windowWidths: [80, 3200] }), [
      { center: 35, width: 80 },
      { center: 700, width: 3200 },
    ]);
    assert.deepEqual(fileWindows({ windowCenters: [40, 40, 40], windowWidths: [100, 200] }).length, 2);
    assert.deepEqual(fileWindows({ windowCenters: [], windowWidths: [] }), []);
  });
});
