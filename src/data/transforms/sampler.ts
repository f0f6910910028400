/**
 * The one resampler behind every geometric transform: bilinear sampling through an affine map, with
 * supersampling when the map shrinks, so a 650-pixel slice cut down to 128 averages its pixels (as PIL's
 * antialiased resize in fastai) instead of aliasing.
 */
import type { HostImage } from '../types.js';

/** What an output pixel whose source lies outside the image gets (as torch's `grid_sample`). */
export type Padding = 'zeros' | 'border' | 'reflection';

/**
 * Source position of an output position, in continuous pixel coordinates where pixel (i, j) covers
 * [i, i+1) x [j, j+1): sourceX = a*x + b*y + c, sourceY = d*x + e*y + f.
 */
export interface Affine {
  a: number;
  b: number;
  c: number;
  d: number;
  e: number;
  f: number;
}

/** A rectangle of an image in pixels; it may reach outside the image, where padding applies. */
export interface Box {
  left: number;
  top: number;
  width: number;
  height: number;
}

/**
 * Samples `image` at the source of each pixel centre of a `width` x `height` output. Where the map
 * shrinks by s along an output axis, each pixel averages ceil(s) bilinear samples along it. Pixel centres
 * that land exactly on source pixel centres copy them exactly.
 */
export function warpAffine(image: HostImage, width: number, height: number, map: Affine, padding: Padding): HostImage {
  const { a, b, c, d, e, f } = map;
  const stepsX = Math.max(1, Math.ceil(Math.hypot(a, d) - 1e-9));
  const stepsY = Math.max(1, Math.ceil(Math.hypot(b, e) - 1e-9));
  const weight = 1 / (stepsX * stepsY);
  const inPlane = image.width * image.height;
  const outPlane = width * height;
  const data = new Float32Array(outPlane * image.channels);
  const tapsX = new Float64Array(4);
  const tapsY = new Float64Array(4);
  const src = image.data;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const out = y * width + x;
      for (let sy = 0; sy < stepsY; sy++) {
        const oy = y + (sy + 0.5) / stepsY;
        for (let sx = 0; sx < stepsX; sx++) {
          const ox = x + (sx + 0.5) / stepsX;
          // To index space, where source pixel i's centre is at i.
          axisTaps(a * ox + b * oy + c - 0.5, image.width, padding, tapsX);
          axisTaps(d * ox + e * oy + f - 0.5, image.height, padding, tapsY);
          const w00 = tapsY[2] * tapsX[2] * weight,
            w01 = tapsY[2] * tapsX[3] * weight;
          const w10 = tapsY[3] * tapsX[2] * weight,
            w11 = tapsY[3] * tapsX[3] * weight;
          const row0 = tapsY[0] * image.width,
            row1 = tapsY[1] * image.width;
          const i00 = row0 + tapsX[0],
            i01 = row0 + tapsX[1],
            i10 = row1 + tapsX[0],
            i11 = row1 + tapsX[1];
          for (let ch = 0, plane = 0; ch < image.channels; ch++, plane += inPlane) {
            data[ch * outPlane + out] += w00 * src[plane + i00] + w01 * src[plane + i01] + w10 * src[plane + i10] + w11 * src[plane + i11];
          }
        }
      }
    }
  }
  return { width, height, channels: image.channels, data };
}

/**
 * `box` of `image` resampled to `width` x `height` (a crop when the sizes match, a resize when the box is
 * the image). The same samples and weights as {@link warpAffine}, but an axis-aligned map lets them be
 * applied one axis at a time: a row pass, then a column pass, several times faster.
 */
export function cropAndResize(image: HostImage, box: Box, width: number, height: number, padding: Padding): HostImage {
  const columns = axisFilter(box.width / width, box.left, width, image.width, padding);
  const rows = axisFilter(box.height / height, box.top, height, image.height, padding);
  const first = rows.first;
  const sourceRows = rows.last - first + 1;
  const inPlane = image.width * image.height;
  const outPlane = width * height;
  const across = new Float32Array(sourceRows * width);
  const data = new Float32Array(outPlane * image.channels);
  const src = image.data;
  for (let ch = 0; ch < image.channels; ch++) {
    for (let r = 0; r < sourceRows; r++) gatherRow(src, ch * inPlane + (first + r) * image.width, columns, across, r * width);
    const plane = ch * outPlane;
    for (let y = 0; y < height; y++) {
      const out = plane + y * width;
      for (let t = rows.start[y]; t < rows.start[y + 1]; t++) {
        const row = (rows.index[t] - first) * width;
        const w = rows.weight[t];
        for (let x = 0; x < width; x++) data[out + x] += w * across[row + x];
      }
    }
  }
  return { width, height, channels: image.channels, data };
}

/** Output pixel o of one row: the weighted sum of its taps in the source row starting at `from`. */
function gatherRow(src: Float32Array, from: number, filter: AxisFilter, out: Float32Array, to: number): void {
  const { start, index, weight } = filter;
  for (let o = 0; o + 1 < start.length; o++) {
    let sum = 0;
    for (let t = start[o]; t < start[o + 1]; t++) sum += weight[t] * src[from + index[t]];
    out[to + o] = sum;
  }
}

/**
 * One axis of an axis-aligned {@link warpAffine} (source = scale * output + offset) as a sparse filter:
 * output pixel o is the sum over taps t in [start[o], start[o + 1]) of `weight[t]` times source pixel
 * `index[t]` (each source pixel once per output); `first`..`last` is the range of source pixels read.
 */
interface AxisFilter {
  start: Int32Array;
  index: Int32Array;
  weight: Float32Array;
  first: number;
  last: number;
}

function axisFilter(scale: number, offset: number, outputs: number, n: number, padding: Padding): AxisFilter {
  const steps = Math.max(1, Math.ceil(Math.abs(scale) - 1e-9));
  const start = new Int32Array(outputs + 1);
  const index: number[] = [];
  const weight: number[] = [];
  const taps = new Float64Array(4);
  for (let o = 0; o < outputs; o++) {
    for (let s = 0; s < steps; s++) {
      axisTaps(scale * (o + (s + 0.5) / steps) + offset - 0.5, n, padding, taps);
      for (let k = 0; k < 2; k++) {
        if (taps[2 + k] === 0) continue;
        const same = index.indexOf(taps[k], start[o]);
        if (same >= 0) weight[same] += taps[2 + k] / steps;
        else {
          index.push(taps[k]);
          weight.push(taps[2 + k] / steps);
        }
      }
    }
    start[o + 1] = index.length;
  }
  let first = n;
  let last = 0;
  for (const i of index) {
    first = Math.min(first, i);
    last = Math.max(last, i);
  }
  return { start, index: Int32Array.from(index), weight: Float32Array.from(weight), first: index.length ? first : 0, last };
}

/**
 * The two neighbours along one axis of index-space position `u` in a line of `n` pixels, and their
 * weights, as [i0, i1, w0, w1]. Zeros padding gives out-of-range neighbours weight 0 (indices kept valid).
 */
function axisTaps(u: number, n: number, padding: Padding, taps: Float64Array): void {
  if (padding === 'reflection') u = reflect(u, n);
  if (padding !== 'zeros') u = Math.min(Math.max(u, 0), n - 1);
  const i0 = Math.floor(u);
  const w1 = u - i0;
  taps[0] = Math.min(Math.max(i0, 0), n - 1);
  taps[1] = Math.min(Math.max(i0 + 1, 0), n - 1);
  taps[2] = padding === 'zeros' && (i0 < 0 || i0 >= n) ? 0 : 1 - w1;
  taps[3] = padding === 'zeros' && (i0 + 1 < 0 || i0 + 1 >= n) ? 0 : w1;
}

/** `u` mirrored at the image's outer edges (-0.5 and n - 0.5 in index space), as torch's reflection padding. */
function reflect(u: number, n: number): number {
  const span = 2 * n;
  const shifted = (((u + 0.5) % span) + span) % span;
  return (shifted < n ? shifted : span - shifted) - 0.5;
}
