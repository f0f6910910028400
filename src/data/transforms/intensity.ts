/** Intensity transforms: HU windowing as MONAI names it, and fastai's lighting augmentation. */
import type { Rng } from '../rng.js';
import type { HostImage } from '../types.js';
import type { Transform } from './transform.js';

export interface ScaleIntensityRangeOptions {
  /** Input value mapped to `bMin`, e.g. the HU at the bottom of a window. */
  aMin: number;
  /** Input value mapped to `bMax`. */
  aMax: number;
  bMin?: number;
  bMax?: number;
  /** Clamp the output to [bMin, bMax]: on for windowing, so bone and air saturate (MONAI's default is off). */
  clip?: boolean;
}

/**
 * MONAI's `ScaleIntensityRange`: (x - aMin) / (aMax - aMin) * (bMax - bMin) + bMin on every channel.
 * A brain window of 40/80 is `{ aMin: 0, aMax: 80, clip: true }`.
 */
export class ScaleIntensityRange implements Transform {
  readonly aMin: number;
  readonly aMax: number;
  readonly bMin: number;
  readonly bMax: number;
  readonly clip: boolean;

  constructor({ aMin, aMax, bMin = 0, bMax = 1, clip = false }: ScaleIntensityRangeOptions) {
    if (!(aMax !== aMin && Number.isFinite(aMin) && Number.isFinite(aMax)))
      throw new RangeError(`ScaleIntensityRange needs distinct finite aMin and aMax, got ${aMin}, ${aMax}`);
    this.aMin = aMin;
    this.aMax = aMax;
    this.bMin = bMin;
    this.bMax = bMax;
    this.clip = clip;
  }

  apply(image: HostImage): HostImage {
    const scale = (this.bMax - this.bMin) / (this.aMax - this.aMin);
    const low = Math.min(this.bMin, this.bMax);
    const high = Math.max(this.bMin, this.bMax);
    const data = image.data.map((value) => {
      const scaled = (value - this.aMin) * scale + this.bMin;
      return this.clip ? Math.min(Math.max(scaled, low), high) : scaled;
    });
    return { ...image, data };
  }
}

export interface RandomBrightnessContrastOptions {
  /** fastai's `max_lighting`: how far brightness and contrast may move (default 0.2). */
  maxLighting?: number;
  /** Probability of each of the two changes, drawn independently (fastai's `p_lighting`, 0.75). */
  p?: number;
}

/**
 * fastai's `Brightness` then `Contrast`, in logit space so values stay in 0..1:
 * sigmoid((logit(x) + logit(b)) * c), with b uniform in 0.5 +- maxLighting/2 and log c uniform in
 * +-log(1 - maxLighting). For 0..1 images (photos, windowed CT), not HU.
 */
export class RandomBrightnessContrast implements Transform {
  readonly random = true;
  readonly maxLighting: number;
  readonly p: number;

  constructor({ maxLighting = 0.2, p = 0.75 }: RandomBrightnessContrastOptions = {}) {
    if (!(maxLighting >= 0 && maxLighting < 1)) throw new RangeError(`RandomBrightnessContrast maxLighting must be in [0, 1), got ${maxLighting}`);
    this.maxLighting = maxLighting;
    this.p = p;
  }

  apply(image: HostImage, rng: Rng): HostImage {
    const spread = -Math.log(1 - this.maxLighting);
    const brightness = rng.chance(this.p) ? rng.uniform(0.5 * (1 - this.maxLighting), 0.5 * (1 + this.maxLighting)) : 0.5;
    const contrast = rng.chance(this.p) ? Math.exp(rng.uniform(-spread, spread)) : 1;
    if (brightness === 0.5 && contrast === 1) return image;
    const shift = logit(brightness);
    return { ...image, data: image.data.map((value) => 1 / (1 + Math.exp(-(logit(value) + shift) * contrast))) };
  }
}

/** fastai's logit: inputs clamped to [1e-7, 1 - 1e-7] so 0 and 1 stay finite. */
function logit(x: number): number {
  const clamped = Math.min(Math.max(x, 1e-7), 1 - 1e-7);
  return Math.log(clamped / (1 - clamped));
}
