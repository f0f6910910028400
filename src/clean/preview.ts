/** An image file as a browser can show it: PNG and JPEG as they are, DICOM CT in the brain window, others as PNG. */
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { displayPng } from '../data/display-image.js';

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
  return { contentType: 'image/png', bytes: await displayPng(path) };
}
