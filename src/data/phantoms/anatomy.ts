/**
 * What makes one phantom head differ from another: size, shape, pose in the scanner, layer
 * thicknesses, brain atrophy and tissue densities, drawn from a seeded generator.
 */
import type { Rng } from '../rng.js';

/** Densities in Hounsfield units of the tissues a phantom is built from. */
export interface TissueDensities {
  readonly air: number;
  readonly fat: number;
  readonly scalp: number;
  /** Outer and inner tables of the skull (cortical bone). */
  readonly corticalBone: number;
  /** The cancellous bone between the tables. */
  readonly diploe: number;
  readonly csf: number;
  readonly greyMatter: number;
  readonly whiteMatter: number;
}

/** One head, in mm unless stated; in-plane axes are u (towards the patient's left) and v (posterior). */
export interface HeadAnatomy {
  /** Overall size relative to an average adult head; internal structures scale with it. */
  readonly scale: number;
  /** Outer (scalp) semi-axes of the widest axial section. */
  readonly lateralSemiAxisMm: number;
  readonly apSemiAxisMm: number;
  /** How much wider the back of the head is than the front, as a fraction of the lateral semi-axis. */
  readonly occipitalWidening: number;
  /** Distance from the widest section to the vertex. */
  readonly halfHeightMm: number;
  /** In-plane rotation of the head in the image, radians. */
  readonly rotationRad: number;
  /** Offset of the head centre from the image centre (x, y). */
  readonly offsetMm: readonly [number, number];
  /** Out-of-plane tilt: change of normalised height per unit of normalised v (pitch) and u (roll). */
  readonly pitch: number;
  readonly roll: number;
  /** Scalp over the vertex; the temporalis muscle thickens it at the sides, low down. */
  readonly scalpMm: number;
  /** Skull at the temples; thicker at the front and back. */
  readonly skullMm: number;
  /** Subarachnoid CSF between the inner table and the brain: wider in atrophy. */
  readonly csfRimMm: number;
  /** Size of the ventricles relative to a young adult's: larger in atrophy. */
  readonly ventricleScale: number;
  /** Cortical ribbon thickness between sulci. */
  readonly cortexMm: number;
  /** Gyration: number of gyri around the brain, typical sulcal depth and width, and what places them. */
  readonly gyri: {
    readonly count: number;
    readonly sulcusDepthMm: number;
    /** Half the width of a sulcus: wider in atrophy. */
    readonly sulcusHalfWidthMm: number;
    /** How fast sulci turn as they go deeper, radians of the wave per mm. */
    readonly bendPerMm: number;
    readonly phases: readonly [number, number, number];
    /** Seeds each sulcus's own depth and width. */
    readonly sulcusSeed: number;
  };
  /** Half-width of the interhemispheric fissure. */
  readonly fissureHalfWidthMm: number;
  readonly densities: TissueDensities;
  /** Standard deviation of the image noise, HU. */
  readonly noiseSdHu: number;
}

/** A head drawn from `rng`: adult sizes, modest pose variation, atrophy from none to moderate. */
export function sampleHeadAnatomy(rng: Rng): HeadAnatomy {
  const scale = rng.uniform(0.88, 1.08);
  const atrophy = rng.next();
  return {
    scale,
    lateralSemiAxisMm: scale * rng.uniform(68, 76),
    apSemiAxisMm: scale * rng.uniform(86, 96),
    occipitalWidening: rng.uniform(0.03, 0.1),
    halfHeightMm: scale * rng.uniform(70, 80),
    rotationRad: rng.uniform(-0.2, 0.2),
    offsetMm: [rng.uniform(-8, 8), rng.uniform(-10, 6)],
    pitch: rng.uniform(-0.12, 0.12),
    roll: rng.uniform(-0.04, 0.04),
    scalpMm: rng.uniform(5, 7.5),
    skullMm: rng.uniform(4.5, 6.5),
    csfRimMm: 0.8 + 1.6 * atrophy,
    ventricleScale: 0.75 + 0.7 * atrophy,
    cortexMm: rng.uniform(3, 4.5),
    gyri: {
      count: 26 + rng.int(10),
      sulcusDepthMm: rng.uniform(9, 14),
      sulcusHalfWidthMm: 0.4 + 0.8 * atrophy,
      bendPerMm: rng.uniform(-0.12, 0.12),
      phases: [rng.uniform(0, 2 * Math.PI), rng.uniform(0, 2 * Math.PI), rng.uniform(0, 2 * Math.PI)],
      sulcusSeed: rng.int(2 ** 30),
    },
    fissureHalfWidthMm: 0.6 + 1.2 * atrophy,
    densities: {
      air: -1000,
      fat: rng.uniform(-100, -80),
      scalp: rng.uniform(35, 50),
      corticalBone: rng.uniform(1200, 1500),
      diploe: rng.uniform(600, 850),
      csf: rng.uniform(2, 8),
      greyMatter: rng.uniform(36, 40),
      whiteMatter: rng.uniform(25, 28),
    },
    noiseSdHu: rng.uniform(3, 5.5),
  };
}
