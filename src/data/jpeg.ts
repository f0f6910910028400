/**
 * JPEG decoding through findstroke's libjpeg-turbo addon (`native/jpeg`), for the loader's cache: libjpeg
 * shrinks by M/8 while it decodes, on libuv's thread pool. It costs about a quarter of sharp's pipeline for
 * the same 650 px slice at a 256 px short side (measured: 1.1-1.3 vs 4.4 ms of CPU per file), which is what
 * lets a first, cache-filling epoch keep pace with training on two cores.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { packagePath } from '../util/package-paths.js';
import type { ByteImage } from './types.js';

interface NativeJpeg {
  decodeJpeg(path: string, shortSide: number): Promise<ByteImage | null>;
}

const addonPath = packagePath('native', 'build', 'Release', 'findstroke_jpeg.node');

function load(): NativeJpeg {
  if (!existsSync(addonPath)) throw new Error(`findstroke's JPEG addon is not built (looked for ${addonPath}). Run \`bash scripts/setup.sh\`.`);
  return createRequire(import.meta.url)(addonPath) as NativeJpeg;
}

const addon = load();

/**
 * Decodes the JPEG at `path` shrunk so that its short side is `shortSide` (aspect kept; never enlarged):
 * libjpeg scales by the smallest M/8 (M = 1..8) that keeps the short side at least `shortSide` (a 650 px
 * slice for 256: 325 px), then a triangle filter widened by the shrink factor (the antialiased "linear"
 * of PIL and libvips) resamples to the exact size. Channel-first 8-bit samples: one channel for greyscale
 * JPEGs and for colour ones whose chroma is neutral everywhere (R = G = B), else RGB.
 * Resolves to null when the file is not a JPEG; rejects when libjpeg cannot decode it or it is truncated.
 */
export function decodeJpegShrunk(path: string, shortSide: number): Promise<ByteImage | null> {
  return addon.decodeJpeg(path, shortSide);
}
