/** Transforms that change the number of channels. */
import type { HostImage } from '../types.js';
import { RSNA_ICH_WINDOWS, stackWindows, type VoiWindow } from '../window.js';
import type { Transform } from './transform.js';

/**
 * One HU channel to one 0..1 channel per VOI window (by default brain, subdural and bone: the RSNA
 * haemorrhage winners' input), so an ImageNet network sees three views of the same slice.
 */
export class StackWindows implements Transform {
  constructor(readonly windows: readonly VoiWindow[] = RSNA_ICH_WINDOWS) {
    if (windows.length === 0) throw new RangeError('StackWindows needs at least one window');
  }

  apply(image: HostImage): HostImage {
    if (image.channels !== 1) throw new RangeError(`StackWindows takes one channel of HU, got ${image.channels} channels`);
    return { width: image.width, height: image.height, channels: this.windows.length, data: stackWindows(image.data, this.windows) };
  }
}

/**
 * One grey channel repeated as R, G, B for networks pretrained on colour photos. Three-channel images
 * pass unchanged, so one pipeline serves folders that mix grey and RGB files.
 */
export class GreyToRgb implements Transform {
  apply(image: HostImage): HostImage {
    if (image.channels === 3) return image;
    if (image.channels !== 1) throw new RangeError(`GreyToRgb takes 1 or 3 channels, got ${image.channels}`);
    const data = new Float32Array(image.data.length * 3);
    for (let c = 0; c < 3; c++) data.set(image.data, c * image.data.length);
    return { ...image, channels: 3, data };
  }
}
