/** Rendering one noiseless phantom slice: tissue by tissue, then lesions painted over it. */
import type { HeadAnatomy } from './anatomy.js';
import { locateInHead } from './head-point.js';
import type { Lesion } from './lesion.js';
import { type SeriesGeometry, pixelCentreMm } from './series-geometry.js';
import { tissueAt, tissueHu } from './tissue.js';

/** A slice before smoothing and noise. */
export interface RenderedSlice {
  /** Row-major Hounsfield units, size x size. */
  readonly hu: Float32Array;
  /** 1 where a finding (haemorrhage or infarct, not oedema) fills the pixel completely. */
  readonly findingMask: Uint8Array;
}

/** The slice at `zMm`: each pixel sampled at its centre (partial volume comes from later smoothing). */
export function renderSlice(head: HeadAnatomy, lesions: readonly Lesion[], geometry: SeriesGeometry, zMm: number): RenderedSlice {
  const { size } = geometry;
  const hu = new Float32Array(size * size);
  const findingMask = new Uint8Array(size * size);
  for (let row = 0; row < size; row++) {
    const y = pixelCentreMm(geometry, row);
    for (let column = 0; column < size; column++) {
      const point = locateInHead(head, pixelCentreMm(geometry, column), y, zMm);
      const tissue = tissueAt(head, point);
      let value = tissueHu(head, tissue);
      if (tissue !== 'air') {
        for (const lesion of lesions) {
          const coverage = lesion.coverage(point, tissue);
          value += (lesion.hu - value) * coverage;
          if (lesion.isFinding && coverage >= 1) findingMask[row * size + column] = 1;
        }
      }
      hu[row * size + column] = value;
    }
  }
  return { hu, findingMask };
}
