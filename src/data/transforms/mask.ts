/**
 * Blanking what lies outside the head: the scanner table, hands resting beside the head, burned-in
 * text. A network learns such things as shortcuts (on brain-stroke-ct, slices of a patient with hands
 * beside the head were called normal with certainty). The head is the largest 4-connected region
 * brighter than `threshold` on the first channel (the brain window for CT, where air and the table's
 * foam are 0); everything reachable from the image border without crossing that region becomes 0, so
 * what the head encloses (ventricles, sinuses, a hypodense lesion) is kept. MONAI's nearest relatives
 * are `ForegroundMask` and `CropForeground`.
 */
import type { ByteImage, HostImage } from '../types.js';
import type { Transform } from './transform.js';

/** The default threshold, as a fraction of the intensity range: above the noise of air, below any tissue. */
export const HEAD_THRESHOLD = 0.08;

/** 1 for every pixel of a `width` x `height` plane that lies outside its largest region above `threshold`; undefined when nothing is above it. */
export function outsideHead(plane: ArrayLike<number>, width: number, height: number, threshold: number): Uint8Array | undefined {
  const n = width * height;
  const region = new Int32Array(n).fill(-1);
  const stack: number[] = [];
  const neighbours = (p: number) => {
    const x = p % width;
    return [x > 0 ? p - 1 : -1, x < width - 1 ? p + 1 : -1, p >= width ? p - width : -1, p < n - width ? p + width : -1];
  };
  let largest = -1;
  let largestSize = 0;
  for (let start = 0, next = 0; start < n; start++) {
    if (plane[start] <= threshold || region[start] >= 0) continue;
    let size = 0;
    region[start] = next;
    stack.push(start);
    while (stack.length) {
      const p = stack.pop()!;
      size++;
      for (const q of neighbours(p)) if (q >= 0 && region[q] < 0 && plane[q] > threshold) ((region[q] = next), stack.push(q));
    }
    if (size > largestSize) ((largest = next), (largestSize = size));
    next++;
  }
  if (largest < 0) return undefined;
  const outside = new Uint8Array(n);
  const open = (p: number) => region[p] !== largest && !outside[p];
  for (let p = 0; p < n; p++) {
    const x = p % width;
    const border = x === 0 || x === width - 1 || p < width || p >= n - width;
    if (border && open(p)) ((outside[p] = 1), stack.push(p));
  }
  while (stack.length) for (const q of neighbours(stack.pop()!)) if (q >= 0 && open(q)) ((outside[q] = 1), stack.push(q));
  return outside;
}

function blankOutside<T extends Float32Array | Uint8Array>(
  image: { width: number; height: number; channels: number; data: T },
  threshold: number,
  scale: number,
): T {
  const n = image.width * image.height;
  const outside = outsideHead(image.data.subarray(0, n), image.width, image.height, threshold * scale);
  const data = image.data.slice() as T;
  if (outside) for (let c = 0; c < image.channels; c++) for (let p = 0; p < n; p++) if (outside[p]) data[c * n + p] = 0;
  return data;
}

/** {@link outsideHead} as a transform on images in [0, 1]. */
export class MaskOutsideHead implements Transform {
  constructor(readonly threshold = HEAD_THRESHOLD) {}

  apply(image: HostImage): HostImage {
    return { ...image, data: blankOutside(image, this.threshold, 1) };
  }
}

/** The same on an 8-bit image (the loaders' decode cache keeps those). */
export function maskOutsideHeadBytes(image: ByteImage, threshold = HEAD_THRESHOLD): ByteImage {
  return { ...image, data: blankOutside(image, threshold, 255) };
}
