/** Pictures for people: model inputs as PNG, Grad-CAM heat maps over them, and captioned image grids. */
import sharp from 'sharp';
import type { HostImage } from '../data/types.js';
import { esc } from './svg.js';

/** Which grey image a heat map is drawn on: a CT input's first (brain) window, or a photo's luminance. */
export type OverlayBase = 'first-channel' | 'luminance';

function greyOf(image: HostImage, base: OverlayBase): Float32Array {
  const n = image.width * image.height;
  if (base === 'first-channel' || image.channels === 1) return image.data.subarray(0, n);
  const grey = new Float32Array(n);
  for (let i = 0; i < n; i++) grey[i] = 0.299 * image.data[i] + 0.587 * image.data[n + i] + 0.114 * image.data[2 * n + i];
  return grey;
}

const byte = (v: number) => Math.max(0, Math.min(255, Math.round(v * 255)));

/** The classic 'jet' colour map: blue (0) through green to red (1). */
function jet(v: number): [number, number, number] {
  const r = Math.min(Math.max(1.5 - Math.abs(4 * v - 3), 0), 1);
  const g = Math.min(Math.max(1.5 - Math.abs(4 * v - 2), 0), 1);
  const b = Math.min(Math.max(1.5 - Math.abs(4 * v - 1), 0), 1);
  return [r, g, b];
}

/** A CHW image in 0..1 as a PNG (RGB, or grey for one channel). */
export async function imagePng(image: HostImage): Promise<Buffer> {
  const n = image.width * image.height;
  const channels = image.channels === 1 ? 1 : 3;
  const raw = Buffer.alloc(n * channels);
  for (let i = 0; i < n; i++) for (let c = 0; c < channels; c++) raw[i * channels + c] = byte(image.data[c * n + i]);
  return sharp(raw, { raw: { width: image.width, height: image.height, channels } })
    .png()
    .toBuffer();
}

/** The heat map (0..1, same size as the image) blended over the grey image with opacity growing with heat. */
export async function heatmapOverlayPng(image: HostImage, heatmap: Float32Array, base: OverlayBase, opacity = 0.5): Promise<Buffer> {
  const grey = greyOf(image, base);
  const raw = Buffer.alloc(grey.length * 3);
  for (let i = 0; i < grey.length; i++) {
    const colour = jet(heatmap[i]);
    const alpha = opacity * Math.sqrt(heatmap[i]);
    for (let c = 0; c < 3; c++) raw[i * 3 + c] = byte(grey[i] * (1 - alpha) + colour[c] * alpha);
  }
  return sharp(raw, { raw: { width: image.width, height: image.height, channels: 3 } })
    .png()
    .toBuffer();
}

export interface Tile {
  /** The picture; none leaves the cell empty (e.g. to keep one row per patient). */
  png?: Buffer;
  /** Caption lines printed under the tile. */
  caption: string[];
}

/** Tiles in a grid, each with its caption lines, as one PNG. */
export async function tileGridPng(tiles: Tile[], { columns = 4, tileSize = 160, title = '' } = {}): Promise<Buffer> {
  const lineHeight = 14;
  const captionLines = Math.max(0, ...tiles.map((t) => t.caption.length));
  const cellHeight = tileSize + captionLines * lineHeight + 12;
  const cellWidth = tileSize + 12;
  const rows = Math.max(1, Math.ceil(tiles.length / columns));
  const top = title ? 28 : 4;
  const width = cellWidth * Math.min(columns, Math.max(1, tiles.length)) + 8;
  const height = top + rows * cellHeight;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="${width}" height="${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="white"/>`,
  ];
  if (title) parts.push(`<text x="${width / 2}" y="18" text-anchor="middle" font-size="13" font-weight="bold">${esc(title)}</text>`);
  tiles.forEach((tile, i) => {
    const x = 8 + (i % columns) * cellWidth;
    const y = top + Math.floor(i / columns) * cellHeight;
    if (tile.png)
      parts.push(`<image x="${x}" y="${y}" width="${tileSize}" height="${tileSize}" xlink:href="data:image/png;base64,${tile.png.toString('base64')}"/>`);
    tile.caption.forEach((line, k) => parts.push(`<text x="${x}" y="${y + tileSize + 13 + k * lineHeight}">${esc(line)}</text>`));
  });
  parts.push('</svg>');
  return sharp(Buffer.from(parts.join('')))
    .png()
    .toBuffer();
}
