import type { Rng } from '../rng.js';
import type { HostImage } from '../types.js';
import type { Transform } from './transform.js';

/**
 * Mirrors the image with probability `p` (fastai's `FlipItem`, p 0.5). Horizontal by default: a head CT
 * flipped left-right is still a plausible head, one flipped upside down is not.
 */
export class RandomFlip implements Transform {
  readonly random = true;

  constructor(
    readonly axis: 'horizontal' | 'vertical' = 'horizontal',
    readonly p = 0.5,
  ) {}

  apply(image: HostImage, rng: Rng): HostImage {
    if (!rng.chance(this.p)) return image;
    const { width, height, channels } = image;
    const data = new Float32Array(image.data.length);
    for (let plane = 0; plane < channels * height; plane++) {
      // A row of one channel: reversed (horizontal), or moved to the mirrored row (vertical).
      const row = plane % height;
      const source = image.data.subarray(plane * width, (plane + 1) * width);
      if (this.axis === 'horizontal') data.set(source.slice().reverse(), plane * width);
      else data.set(source, (plane - row + height - 1 - row) * width);
    }
    return { width, height, channels, data };
  }
}
