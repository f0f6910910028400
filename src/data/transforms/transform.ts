/**
 * Transforms, MONAI-style: one small class per operation, named for what it does, composed in order.
 * Random transforms draw only from the `Rng` they are given, so that the same seed, epoch and item
 * index give the same result wherever and whenever the item is loaded.
 */
import type { HostImage } from '../types.js';
import type { Rng } from '../rng.js';

export interface Transform {
  apply(image: HostImage, rng: Rng): HostImage;
}

/** Applies transforms one after another. */
export class Compose implements Transform {
  constructor(readonly transforms: readonly Transform[]) {}

  apply(image: HostImage, rng: Rng): HostImage {
    return this.transforms.reduce((img, t) => t.apply(img, rng), image);
  }
}
