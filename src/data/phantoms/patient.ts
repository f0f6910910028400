/** One synthetic head-CT patient: a contiguous axial series in Hounsfield units, with or without a stroke. */
import { Rng } from '../rng.js';
import { sampleHeadAnatomy } from './anatomy.js';
import { type PhantomClass, phantomClass } from './classes.js';
import { type FindingCore, findingCore } from './finding-core.js';
import type { LesionKind, Side } from './lesion.js';
import { sampleLesions } from './lesions.js';
import { renderSlice } from './render.js';
import { requireInteger } from './require-integer.js';
import { addScannerNoise, reconstructionBlur } from './scanner.js';
import { type SeriesGeometry, sampleSeriesGeometry } from './series-geometry.js';

/** What {@link generatePhantomPatient} makes. */
export interface PhantomPatientOptions {
  /** Dataset seed: with `patientIndex` it fixes everything about the patient. */
  readonly seed: number;
  /** Index of the patient in its dataset, from 0. */
  readonly patientIndex: number;
  readonly label: PhantomClass;
  /** Number of contiguous axial slices, foot to head. */
  readonly slices: number;
  /** Pixels per side of each square slice; 256 by default. */
  readonly size?: number;
}

/** A synthetic patient. */
export interface PhantomPatient extends SeriesGeometry {
  /** `p` and the index, at least 3 digits: `p007`. */
  readonly patientId: string;
  readonly patientIndex: number;
  readonly seed: number;
  readonly label: PhantomClass;
  /** Row-major Hounsfield units, size x size each, foot to head (index 0 is the lowest slice). */
  readonly slices: readonly Float32Array[];
  /** The lesions, e.g. an infarct on the left; empty for a normal brain. */
  readonly lesions: readonly { readonly kind: LesionKind; readonly side: Side }[];
  /**
   * Per slice, the pixel where the finding is surest and how far around it the finding is pure;
   * undefined where the slice misses the finding or shows only its edge (as real stroke series do).
   */
  readonly findingCores: readonly (FindingCore | undefined)[];
  /** Standard deviation of the image noise. */
  readonly noiseSdHu: number;
}

/** Default image size, pixels per side. */
export const DEFAULT_PHANTOM_SIZE = 256;
/** Smallest image on which the anatomy is still recognisable. */
const MIN_SIZE = 16;
const MAX_SIZE = 2048;
const MAX_SLICES = 10_000;
/** Stream of the seed's generators ({@link Rng.forItem}'s epoch) that patients are drawn from. */
const PATIENT_STREAM = 1;

/**
 * A synthetic head-CT patient of class `label`: skull, scalp, brain with grey/white matter
 * differentiation, gyri and sulci, ventricles and basal ganglia, varying in size, pose and atrophy,
 * with scanner blur and noise; a hyperdense haemorrhage or a hypodense infarct for the stroke classes.
 * The same options always give the same patient.
 * @throws Error naming the option when an option is out of range.
 */
export function generatePhantomPatient(options: PhantomPatientOptions): PhantomPatient {
  const { seed, patientIndex, slices } = options;
  const size = options.size ?? DEFAULT_PHANTOM_SIZE;
  const label = phantomClass(options.label, 'label');
  checkSeriesOptions({ seed, slices, size });
  requireInteger('patientIndex', patientIndex, 0, Number.MAX_SAFE_INTEGER);
  const rng = Rng.forItem(seed, PATIENT_STREAM, patientIndex);
  const head = sampleHeadAnatomy(rng);
  const geometry = sampleSeriesGeometry(rng, head, size, slices);
  const lesions = sampleLesions(rng, head, label, geometry.slicePositionsMm);
  const rendered = geometry.slicePositionsMm.map((zMm) => renderSlice(head, lesions, geometry, zMm));
  return {
    patientId: `p${String(patientIndex).padStart(3, '0')}`,
    patientIndex,
    seed,
    label,
    ...geometry,
    slices: rendered.map(({ hu }) => addScannerNoise(reconstructionBlur(hu, size), head.noiseSdHu, rng)),
    lesions: lesions.filter((lesion) => lesion.isFinding).map(({ kind, side }) => ({ kind, side })),
    findingCores: rendered.map(({ findingMask }) => findingCore(findingMask, size)),
    noiseSdHu: head.noiseSdHu,
  };
}

/**
 * Checks the options every patient of a dataset shares, so a dataset writer can refuse them before
 * writing anything.
 * @throws Error naming the option.
 */
export function checkSeriesOptions({ seed, slices, size }: { seed: number; slices: number; size: number }): void {
  requireInteger('seed', seed, 0, 2 ** 32 - 1);
  requireInteger('slices', slices, 1, MAX_SLICES);
  requireInteger('size', size, MIN_SIZE, MAX_SIZE);
}
