/** Small measurements of square HU images for the phantom tests. */

/** Mean of the pixels within `radius` of (column, row). */
export function discMean(image: Float32Array, size: number, column: number, row: number, radius: number): number {
  let sum = 0;
  let count = 0;
  const reach = Math.ceil(radius);
  for (let dy = -reach; dy <= reach; dy++) {
    for (let dx = -reach; dx <= reach; dx++) {
      const x = column + dx;
      const y = row + dy;
      if (dx * dx + dy * dy > radius * radius || x < 0 || y < 0 || x >= size || y >= size) continue;
      sum += image[y * size + x];
      count++;
    }
  }
  return sum / count;
}

/**
 * Pixels of brain well away from bone and air: nothing above 300 or below -200 HU within `margin`
 * pixels, so partial volume with the skull cannot pass for blood.
 */
export function deepBrainPixels(image: Float32Array, size: number, margin = 4): number[] {
  const pixels: number[] = [];
  for (let row = margin; row < size - margin; row++) {
    for (let column = margin; column < size - margin; column++) {
      let clear = true;
      for (let dy = -margin; dy <= margin && clear; dy++) {
        for (let dx = -margin; dx <= margin && clear; dx++) {
          const value = image[(row + dy) * size + column + dx];
          clear = value < 300 && value > -200;
        }
      }
      if (clear) pixels.push(row * size + column);
    }
  }
  return pixels;
}

/** Pixels above `threshold` HU: the area of the head section. */
export function countAbove(image: Float32Array, threshold: number): number {
  return image.reduce((count, value) => count + (value > threshold ? 1 : 0), 0);
}
