/** Where a slice shows its finding most surely: the pixel deepest inside the finding's mask. */

/** A disc of pixels all at the finding's density, noise aside. */
export interface FindingCore {
  readonly column: number;
  readonly row: number;
  /** Every pixel within this distance of (column, row) lies wholly inside the finding, blur included. */
  readonly radiusPx: number;
}

/** Pixels the reconstruction blur mixes into each pixel, either side. */
const BLUR_REACH_PX = 1;
/** Chamfer distance steps (Borgefors 3-4), in thirds of a pixel. */
const STRAIGHT = 3;
const DIAGONAL = 4;

/**
 * The centre and safe radius of the largest disc inside `mask` (size x size, 1 = finding), from a
 * chamfer distance transform; undefined when no disc of radius 1 fits, e.g. at the lesion's tips.
 */
export function findingCore(mask: Uint8Array, size: number): FindingCore | undefined {
  const distance = new Int32Array(mask.length);
  const at = (row: number, column: number) => (row < 0 || column < 0 || row >= size || column >= size ? 0 : distance[row * size + column]);
  for (let row = 0; row < size; row++) {
    for (let column = 0; column < size; column++) {
      if (!mask[row * size + column]) continue;
      distance[row * size + column] = Math.min(
        at(row, column - 1) + STRAIGHT,
        at(row - 1, column) + STRAIGHT,
        at(row - 1, column - 1) + DIAGONAL,
        at(row - 1, column + 1) + DIAGONAL,
      );
    }
  }
  let best = 0;
  let bestIndex = -1;
  for (let row = size - 1; row >= 0; row--) {
    for (let column = size - 1; column >= 0; column--) {
      const index = row * size + column;
      if (!mask[index]) continue;
      distance[index] = Math.min(
        distance[index],
        at(row, column + 1) + STRAIGHT,
        at(row + 1, column) + STRAIGHT,
        at(row + 1, column + 1) + DIAGONAL,
        at(row + 1, column - 1) + DIAGONAL,
      );
      if (distance[index] > best) {
        best = distance[index];
        bestIndex = index;
      }
    }
  }
  // The distance counts to the first pixel outside; the blur reaches one pixel further in.
  const radiusPx = best / STRAIGHT - 1 - BLUR_REACH_PX;
  if (bestIndex < 0 || radiusPx < 1) return undefined;
  return { column: bestIndex % size, row: Math.floor(bestIndex / size), radiusPx };
}
