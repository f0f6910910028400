import type { Rng } from '../rng.js';
import type { HostImage } from '../types.js';
import { warpAffine, type Padding } from './sampler.js';
import type { Transform } from './transform.js';

export interface RandomRotateOptions {
  /** Probability of rotating at all (fastai's `Rotate`: 0.5). */
  p?: number;
  /** Fill for the corners the rotation uncovers; fastai's default, reflection, works for HU and 0..1 alike. */
  padding?: Padding;
}

/** Rotates about the image centre by an angle uniform in [-maxDegrees, maxDegrees] (fastai's `Rotate`, max 10), bilinear. */
export class RandomRotate implements Transform {
  readonly random = true;
  readonly p: number;
  readonly padding: Padding;

  constructor(
    readonly maxDegrees: number,
    { p = 0.5, padding = 'reflection' }: RandomRotateOptions = {},
  ) {
    if (!(maxDegrees >= 0)) throw new RangeError(`RandomRotate maxDegrees must be at least 0, got ${maxDegrees}`);
    this.p = p;
    this.padding = padding;
  }

  apply(image: HostImage, rng: Rng): HostImage {
    if (!rng.chance(this.p)) return image;
    return rotate(image, rng.uniform(-this.maxDegrees, this.maxDegrees), this.padding);
  }
}

/** `image` rotated by `degrees` about its centre; 0 degrees copies it exactly. */
export function rotate(image: HostImage, degrees: number, padding: Padding): HostImage {
  const radians = (degrees * Math.PI) / 180;
  const cos = Math.cos(radians);
  const sin = Math.sin(radians);
  const cx = image.width / 2;
  const cy = image.height / 2;
  // Source = R(angle) . (output - centre) + centre.
  const map = { a: cos, b: -sin, c: cx - cos * cx + sin * cy, d: sin, e: cos, f: cy - sin * cx - cos * cy };
  return warpAffine(image, image.width, image.height, map, padding);
}
