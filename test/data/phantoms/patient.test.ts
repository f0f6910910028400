import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type PhantomClass, type PhantomPatient, generatePhantomPatient } from '../../../src/data/phantoms/index.js';
import { countAbove, deepBrainPixels, discMean } from './helpers/image-stats.js';

/** Big enough for lesions to have a clean core, small enough to be fast. */
const SIZE = 128;
const SLICES = 6;
const SEEDS = [1, 2, 3];

const cache = new Map<string, PhantomPatient>();
function patient(seed: number, label: PhantomClass, patientIndex = 0): PhantomPatient {
  const key = `${seed}/${label}/${patientIndex}`;
  if (!cache.has(key)) cache.set(key, generatePhantomPatient({ seed, patientIndex, label, slices: SLICES, size: SIZE }));
  return cache.get(key)!;
}

/** Pixels of the brain, away from the skull, whose 3x3 mean is at least `hu`. */
function hyperdenseBrainPixels(image: Float32Array, hu: number): number {
  return deepBrainPixels(image, SIZE).filter((i) => discMean(image, SIZE, i % SIZE, Math.floor(i / SIZE), 1.5) >= hu).length;
}

describe('generatePhantomPatient', () => {
  test('the same options give the same patient; another seed or index another one', () => {
    const options = { seed: 5, patientIndex: 2, label: 'haemorrhagicStroke', slices: 2, size: 32 } as const;
    const first = generatePhantomPatient(options);
    assert.deepEqual(generatePhantomPatient(options), first);
    assert.notDeepEqual(generatePhantomPatient({ ...options, seed: 6 }).slices, first.slices);
    assert.notDeepEqual(generatePhantomPatient({ ...options, patientIndex: 3 }).slices, first.slices);
    assert.equal(first.patientId, 'p002');
    assert.equal(first.slices.length, 2);
    assert.ok(first.slices.every((slice) => slice.length === 32 * 32));
  });

  test('air, scalp and skull: -1000 HU in the corner, bone above 700 HU across the midline', () => {
    for (const seed of SEEDS) {
      const { slices } = patient(seed, 'normalBrain');
      const middle = slices[SLICES >> 1];
      assert.ok(Math.abs(discMean(middle, SIZE, 1, 1, 1.5) + 1000) < 10, `seed ${seed}: corner ${discMean(middle, SIZE, 1, 1, 1.5)}`);
      const column = Array.from({ length: SIZE }, (_, row) => middle[row * SIZE + (SIZE >> 1)]);
      assert.ok(Math.max(...column.slice(0, SIZE >> 1)) > 700, `seed ${seed}: frontal bone`);
      assert.ok(Math.max(...column.slice(SIZE >> 1)) > 700, `seed ${seed}: occipital bone`);
    }
  });

  test('brain between the skull: grey and white matter and CSF, 0-45 HU, nothing like blood', () => {
    for (const seed of SEEDS) {
      const middle = patient(seed, 'normalBrain').slices[SLICES >> 1];
      const brain = deepBrainPixels(middle, SIZE).map((i) => discMean(middle, SIZE, i % SIZE, Math.floor(i / SIZE), 1.5));
      assert.ok(brain.length > SIZE * SIZE * 0.1, `seed ${seed}: ${brain.length} brain pixels`);
      const sorted = brain.sort((a, b) => a - b);
      const [low, median, high] = [0.02, 0.5, 0.98].map((q) => sorted[Math.floor(q * (sorted.length - 1))]);
      assert.ok(low > -5 && low < 22, `seed ${seed}: 2nd percentile ${low} (CSF, white matter)`);
      assert.ok(median > 24 && median < 40, `seed ${seed}: median ${median}`);
      assert.ok(high > 33 && high < 45, `seed ${seed}: 98th percentile ${high} (grey matter)`);
    }
  });

  test('haemorrhage: a core of 50-90 HU on some slices, and hyperdense brain a normal brain lacks', () => {
    for (const seed of SEEDS) {
      const bleed = patient(seed, 'haemorrhagicStroke');
      assert.ok(bleed.lesions.some((lesion) => lesion.kind === 'intraparenchymalHaemorrhage'));
      const cored = bleed.findingCores.flatMap((core, k) => (core ? [{ core, k }] : []));
      assert.ok(cored.length > 0, `seed ${seed}: no slice shows the haemorrhage`);
      for (const { core, k } of cored) {
        const mean = discMean(bleed.slices[k], SIZE, core.column, core.row, core.radiusPx);
        assert.ok(mean >= 50 && mean <= 90, `seed ${seed} slice ${k}: haemorrhage core ${mean} HU`);
      }
      const worst = cored.reduce((a, b) => (a.core.radiusPx > b.core.radiusPx ? a : b));
      assert.ok(hyperdenseBrainPixels(bleed.slices[worst.k], 55) >= 5, `seed ${seed}: hyperdense pixels`);
      for (const slice of patient(seed, 'normalBrain').slices) assert.equal(hyperdenseBrainPixels(slice, 55), 0, `seed ${seed}: normal brain`);
    }
  });

  test('ischaemia: a core of 10-25 HU, with no hyperdensity', () => {
    for (const seed of SEEDS) {
      const stroke = patient(seed, 'ischaemicStroke');
      assert.deepEqual(
        stroke.lesions.map((lesion) => lesion.kind),
        ['ischaemicInfarct'],
      );
      const cored = stroke.findingCores.flatMap((core, k) => (core ? [{ core, k }] : []));
      assert.ok(cored.length > 0, `seed ${seed}: no slice shows the infarct`);
      for (const { core, k } of cored) {
        const mean = discMean(stroke.slices[k], SIZE, core.column, core.row, core.radiusPx);
        assert.ok(mean >= 10 && mean <= 25, `seed ${seed} slice ${k}: infarct core ${mean} HU`);
        assert.equal(hyperdenseBrainPixels(stroke.slices[k], 55), 0);
      }
    }
  });

  test('lesions span consecutive slices, and not all of them', () => {
    for (const label of ['ischaemicStroke', 'haemorrhagicStroke'] as const) {
      const { findingCores } = generatePhantomPatient({ seed: 9, patientIndex: 1, label, slices: 16, size: SIZE });
      const shown = findingCores.flatMap((core, k) => (core ? [k] : []));
      assert.ok(shown.length >= 3 && shown.length < 16, `${label}: slices ${shown}`);
      assert.equal(shown.at(-1)! - shown[0], shown.length - 1, `${label}: slices ${shown} are not consecutive`);
    }
  });

  test('normal brains have no lesion and no finding', () => {
    const normal = patient(1, 'normalBrain');
    assert.deepEqual(normal.lesions, []);
    assert.ok(normal.findingCores.every((core) => core === undefined));
  });

  test('a contiguous axial series: positions one spacing apart, head smaller at top and bottom, changing gradually', () => {
    const series = generatePhantomPatient({ seed: 4, patientIndex: 0, label: 'normalBrain', slices: 12, size: 48 });
    const steps = series.slicePositionsMm.slice(1).map((z, k) => z - series.slicePositionsMm[k]);
    assert.ok(steps.every((step) => Math.abs(step - series.sliceSpacingMm) < 1e-9));
    const areas = series.slices.map((slice) => countAbove(slice, -500));
    const largest = Math.max(...areas);
    assert.ok(areas[0] < largest && areas[11] < 0.7 * largest, `areas ${areas}`);
    assert.ok(
      areas.slice(1).every((area, k) => Math.abs(area - areas[k]) < 0.2 * largest),
      `areas ${areas}`,
    );
  });

  test('bad options are errors naming the option', () => {
    const good = { seed: 1, patientIndex: 0, label: 'normalBrain', slices: 1, size: 16 } as const;
    assert.throws(() => generatePhantomPatient({ ...good, slices: 0 }), /slices must be an integer from 1 to 10000, got 0/);
    assert.throws(() => generatePhantomPatient({ ...good, size: 8 }), /size must be an integer from 16 to 2048, got 8/);
    assert.throws(() => generatePhantomPatient({ ...good, seed: -1 }), /seed must be an integer/);
    assert.throws(() => generatePhantomPatient({ ...good, patientIndex: 0.5 }), /patientIndex must be an integer/);
    assert.throws(
      () => generatePhantomPatient({ ...good, label: 'tumour' as PhantomClass }),
      /label: unknown class "tumour"; phantoms come in normalBrain, ischaemicStroke, haemorrhagicStroke/,
    );
  });
});
