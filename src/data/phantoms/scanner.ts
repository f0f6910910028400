/**
 * What the scanner adds to a rendered slice: the blur of the reconstruction kernel, which also gives
 * edges their partial-volume grey levels, and quantum noise.
 */
import type { Rng } from '../rng.js';

/** Binomial [1, 2, 1] / 4 along rows then columns: a gentle reconstruction blur. */
export function reconstructionBlur(image: Float32Array, size: number): Float32Array {
  return blurColumns(blurRows(image, size), size);
}

/** Adds Gaussian noise of standard deviation `sdHu` per pixel, independent between pixels. */
export function addScannerNoise(image: Float32Array, sdHu: number, rng: Rng): Float32Array {
  return image.map((value) => value + sdHu * gaussian(rng));
}

function blurRows(image: Float32Array, size: number): Float32Array {
  const out = new Float32Array(image.length);
  for (let row = 0; row < size; row++) {
    const start = row * size;
    for (let column = 0; column < size; column++) {
      const left = image[start + Math.max(0, column - 1)];
      const right = image[start + Math.min(size - 1, column + 1)];
      out[start + column] = (left + 2 * image[start + column] + right) / 4;
    }
  }
  return out;
}

function blurColumns(image: Float32Array, size: number): Float32Array {
  const out = new Float32Array(image.length);
  for (let row = 0; row < size; row++) {
    const above = Math.max(0, row - 1) * size;
    const below = Math.min(size - 1, row + 1) * size;
    for (let column = 0; column < size; column++) {
      out[row * size + column] = (image[above + column] + 2 * image[row * size + column] + image[below + column]) / 4;
    }
  }
  return out;
}

/** A standard normal deviate (Box-Muller). */
function gaussian(rng: Rng): number {
  return Math.sqrt(-2 * Math.log(1 - rng.next())) * Math.cos(2 * Math.PI * rng.next());
}
