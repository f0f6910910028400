/** Where a phantom's slices and pixels lie: a contiguous axial series from the basal ganglia to the vertex. */
import type { Rng } from '../rng.js';
import type { HeadAnatomy } from './anatomy.js';

/** Heights (0 widest section, 1 vertex) of the bottom and top edges of the scanned range. */
const SCANNED_HEIGHTS: readonly [number, number] = [-0.45, 0.85];

/** The pixel grid and slice positions of one series, in mm of patient coordinates. */
export interface SeriesGeometry {
  /** Pixels per row and rows per image. */
  readonly size: number;
  /** Square pixels: field of view / size. */
  readonly pixelSpacingMm: number;
  /** Distance between neighbouring slice centres, also their thickness (contiguous slices). */
  readonly sliceSpacingMm: number;
  /** z of each slice centre, foot to head. */
  readonly slicePositionsMm: readonly number[];
}

/** `slices` contiguous slices of `size` x `size` pixels over a reconstruction field of view of 220-250 mm. */
export function sampleSeriesGeometry(rng: Rng, head: HeadAnatomy, size: number, slices: number): SeriesGeometry {
  const [bottom, top] = SCANNED_HEIGHTS.map((height) => height * head.halfHeightMm);
  const sliceSpacingMm = (top - bottom) / slices;
  return {
    size,
    pixelSpacingMm: rng.uniform(220, 250) / size,
    sliceSpacingMm,
    slicePositionsMm: Array.from({ length: slices }, (_, k) => bottom + (k + 0.5) * sliceSpacingMm),
  };
}

/** Patient x (or y) in mm of the centre of pixel column (or row) `index`: the image is centred on the origin. */
export function pixelCentreMm(geometry: SeriesGeometry, index: number): number {
  return (index - (geometry.size - 1) / 2) * geometry.pixelSpacingMm;
}
