/** Crops, fastai-style: a random scaled crop for training, the centre for validation. */
import type { Rng } from '../rng.js';
import type { HostImage } from '../types.js';
import { cropAndResize, type Box, type Padding } from './sampler.js';
import type { Transform } from './transform.js';

export interface RandomResizedCropOptions {
  /** Smallest share of the image's area a crop covers (fastai 0.08; the reference notebook used 0.35). */
  minScale?: number;
  /** Largest share of the area (fastai 1). */
  maxScale?: number;
  /** Range of width/height of the crop before it is resized to a square (fastai [3/4, 4/3]). */
  ratio?: readonly [number, number];
}

/**
 * fastai's `RandomResizedCrop` for training: a crop of random area (a share in [minScale, maxScale] of
 * the image) and aspect ratio (log-uniform in `ratio`), resized to `size` x `size`. After 10 draws
 * that do not fit, a centre crop of the largest allowed ratio, as fastai. For validation use
 * `Resize(fastaiValidationSize(size))` then `CenterCrop(size)`.
 */
export class RandomResizedCrop implements Transform {
  readonly random = true;
  readonly minScale: number;
  readonly maxScale: number;
  readonly ratio: readonly [number, number];

  constructor(
    readonly size: number,
    { minScale = 0.08, maxScale = 1, ratio = [3 / 4, 4 / 3] }: RandomResizedCropOptions = {},
  ) {
    if (!(size >= 1 && Number.isInteger(size))) throw new RangeError(`RandomResizedCrop size must be a positive integer, got ${size}`);
    if (!(minScale > 0 && minScale <= maxScale && maxScale <= 1))
      throw new RangeError(`RandomResizedCrop needs 0 < minScale <= maxScale <= 1, got ${minScale}, ${maxScale}`);
    if (!(ratio[0] > 0 && ratio[0] <= ratio[1]))
      throw new RangeError(`RandomResizedCrop ratio must be [low, high] with 0 < low <= high, got [${ratio.join(', ')}]`);
    this.minScale = minScale;
    this.maxScale = maxScale;
    this.ratio = ratio;
  }

  apply(image: HostImage, rng: Rng): HostImage {
    return cropAndResize(image, this.cropBox(image.width, image.height, rng), this.size, this.size, 'border');
  }

  /** The crop `apply` takes from a `width` x `height` image with these draws of `rng`; always inside the image. */
  cropBox(width: number, height: number, rng: Rng): Box {
    const [low, high] = this.ratio;
    for (let attempt = 0; attempt < 10; attempt++) {
      const area = rng.uniform(this.minScale, this.maxScale) * width * height;
      const ratio = Math.exp(rng.uniform(Math.log(low), Math.log(high)));
      const cropWidth = Math.max(1, Math.round(Math.sqrt(area * ratio)));
      const cropHeight = Math.max(1, Math.round(Math.sqrt(area / ratio)));
      if (cropWidth <= width && cropHeight <= height) {
        return { left: rng.int(width - cropWidth + 1), top: rng.int(height - cropHeight + 1), width: cropWidth, height: cropHeight };
      }
    }
    const aspect = width / height;
    const cropWidth = aspect > high ? Math.floor(height * high) : width;
    const cropHeight = aspect < low ? Math.floor(width / low) : height;
    return { left: Math.floor((width - cropWidth) / 2), top: Math.floor((height - cropHeight) / 2), width: cropWidth, height: cropHeight };
  }
}

/**
 * The central `size` x `size` pixels, copied exactly (fastai's `CropPad`: top-left at floor((W - size) / 2)).
 * An image smaller than `size` is padded, by default with zeros as fastai.
 */
export class CenterCrop implements Transform {
  constructor(
    readonly size: number,
    readonly padding: Padding = 'zeros',
  ) {
    if (!(size >= 1 && Number.isInteger(size))) throw new RangeError(`CenterCrop size must be a positive integer, got ${size}`);
  }

  apply(image: HostImage): HostImage {
    const box = { left: Math.floor((image.width - this.size) / 2), top: Math.floor((image.height - this.size) / 2), width: this.size, height: this.size };
    return cropAndResize(image, box, this.size, this.size, this.padding);
  }
}
