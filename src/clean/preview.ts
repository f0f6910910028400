/** An image file as a browser can show it: PNG and JPEG as they are, DICOM CT in the brain window, others as PNG. */
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import sharp from 'sharp';
import { readImage } from '../data/decode.js';
import { isDicomPath } from '../data/files.js';
import { HEAD_CT_WINDOWS, applyWindowUint8 } from '../data/window.js';

export interface PreviewImage {
  contentType: 'image/png' | 'image/jpeg';
  bytes: Buffer;
}

/**
 * The bytes to show for the image file at `path`.
 * @throws the decoder's error naming the file when it cannot be read.
 */
export async function previewImage(path: string): Promise<PreviewImage> {
  const extension = extname(path).toLowerCase();
  if (extension === '.png') return { contentType: 'image/png', bytes: await readFile(path) };
  if (extension === '.jpg' || extension === '.jpeg') return { contentType: 'image/jpeg', bytes: await readFile(path) };
  if (!isDicomPath(path)) return { contentType: 'image/png', bytes: await sharp(path).png().toBuffer() };
  const { width, height, data } = await readImage(path);
  // The window a radiologist reads head CT in, as the phantom PNGs are made.
  const grey = applyWindowUint8(data, HEAD_CT_WINDOWS.brain);
  return {
    contentType: 'image/png',
    bytes: await sharp(grey, { raw: { width, height, channels: 1 } })
      .toColourspace('b-w')
      .png()
      .toBuffer(),
  };
}
