import type { HostImage } from '../types.js';
import { cropAndResize } from './sampler.js';
import type { Transform } from './transform.js';

/**
 * Resizes so the short side is `size`, keeping the aspect ratio (the long side is rounded): bilinear,
 * averaging when it shrinks.
 */
export class Resize implements Transform {
  constructor(readonly size: number) {
    if (!(size >= 1 && Number.isInteger(size))) throw new RangeError(`Resize size must be a positive integer, got ${size}`);
  }

  apply(image: HostImage): HostImage {
    const scale = this.size / Math.min(image.width, image.height);
    const width = Math.max(1, Math.round(image.width * scale));
    const height = Math.max(1, Math.round(image.height * scale));
    return cropAndResize(image, { left: 0, top: 0, width: image.width, height: image.height }, width, height, 'border');
  }
}

/**
 * The size fastai's `RandomResizedCrop(size)` resizes validation images to before its centre crop:
 * `size` plus `size * valXtra` rounded up to a multiple of 8 (128 -> 152). fastai squashes the whole
 * image to that square; `Resize` keeps the aspect ratio, which is the same for square CT slices.
 */
export function fastaiValidationSize(size: number, valXtra = 0.14): number {
  return size + Math.ceil((size * valXtra) / 8) * 8;
}
