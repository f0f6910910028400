/** Phantom slices as the PNGs of image datasets: 8-bit greyscale in the brain window. */
import sharp from 'sharp';
import { HEAD_CT_WINDOWS, applyWindowUint8 } from '../window.js';

/** A square slice of Hounsfield units as a greyscale PNG in the brain window (40/80). */
export async function brainWindowPng(hu: Float32Array, size: number): Promise<Uint8Array> {
  const grey = applyWindowUint8(hu, HEAD_CT_WINDOWS.brain);
  const png = await sharp(grey, { raw: { width: size, height: size, channels: 1 } })
    .toColourspace('b-w')
    .png()
    .toBuffer();
  return new Uint8Array(png.buffer, png.byteOffset, png.byteLength);
}
