/** An image file as a screen shows it (the cleaner's preview, the worklist's viewer). */
import sharp from 'sharp';
import { readImage } from './decode.js';
import { isDicomPath } from './files.js';
import { HEAD_CT_WINDOWS, applyWindowUint8, type VoiWindow } from './window.js';

/**
 * The PNG of the image file at `path`: DICOM CT through `window` as a grey PNG (by default the brain window,
 * in which a radiologist reads head CT and the phantom PNGs are made), any other image as it is.
 * @throws the decoder's error naming the file when it cannot be read (e.g. a DICOM that is not CT).
 */
export async function displayPng(path: string, window: VoiWindow = HEAD_CT_WINDOWS.brain): Promise<Buffer> {
  if (!isDicomPath(path)) return sharp(path).png().toBuffer();
  const { width, height, data } = await readImage(path);
  return sharp(applyWindowUint8(data, window), { raw: { width, height, channels: 1 } })
    .toColourspace('b-w')
    .png()
    .toBuffer();
}
