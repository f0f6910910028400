/**
 * Transforms, MONAI-style: one small class per operation, named for what it does, composed in order.
 * Random transforms draw only from the `Rng` they are given, so that the same seed, epoch and item
 * index give the same result wherever and whenever the item is loaded.
 */
import type { HostImage } from '../types.js';
import type { Rng } from '../rng.js';

export interface Transform {
  apply(image: HostImage, rng: Rng): HostImage;
  /** True when the result depends on the Rng (augmentation); deterministic transforms leave it unset. */
  readonly random?: boolean;
}

/** Applies transforms one after another. */
export class Compose implements Transform {
  readonly random: boolean;

  constructor(readonly transforms: readonly Transform[]) {
    this.random = transforms.some((t) => t.random);
  }

  apply(image: HostImage, rng: Rng): HostImage {
    return this.transforms.reduce((img, t) => t.apply(img, rng), image);
  }
}
