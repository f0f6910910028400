/** Tiny image files written by the tests themselves, in a temporary folder each test removes. */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import sharp from 'sharp';
import { syntheticDicom, words } from '../dicom/helpers/synthetic-ct.js';
import { TS } from '../dicom/helpers/write-dicom.js';

/** A fresh temporary folder and a function that removes it. */
export async function tempFolder(): Promise<{ root: string; remove: () => Promise<void> }> {
  const root = await mkdtemp(join(tmpdir(), 'findstroke-test-'));
  return { root, remove: () => rm(root, { recursive: true, force: true }) };
}

export interface TinyImage {
  width: number;
  height: number;
  /** 1 (grey), 2 (grey + alpha), 3 (RGB) or 4 (RGBA). */
  channels: 1 | 2 | 3 | 4;
  /** 16-bit samples (PNG only). */
  sixteenBit?: boolean;
  /** Sample value of channel c at (x, y); default a gradient. */
  value?: (x: number, y: number, c: number) => number;
}

/** The interleaved samples of `image`. */
export function samplesOf({ width, height, channels, sixteenBit, value }: TinyImage): Uint8Array | Uint16Array {
  const samples = sixteenBit ? new Uint16Array(width * height * channels) : new Uint8Array(width * height * channels);
  const shade = value ?? ((x, y, c) => (x * 16 + y * 4 + c * 40) % 256);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) for (let c = 0; c < channels; c++) samples[(y * width + x) * channels + c] = shade(x, y, c);
  return samples;
}

/** Writes `image` to `path` in the format its extension names (png, jpg, webp, tif), creating folders. */
export async function writeImage(path: string, image: TinyImage): Promise<string> {
  await mkdir(dirname(path), { recursive: true });
  const grey = image.channels <= 2;
  const colourspace = image.sixteenBit ? (grey ? 'grey16' : 'rgb16') : grey ? 'b-w' : 'srgb';
  const raw = sharp(samplesOf(image), { raw: { width: image.width, height: image.height, channels: image.channels } }).toColourspace(colourspace);
  const extension = path.slice(path.lastIndexOf('.') + 1).toLowerCase();
  const encoded =
    extension === 'png'
      ? raw.png()
      : extension === 'webp'
        ? raw.webp({ lossless: true })
        : extension === 'tif'
          ? raw.tiff({ compression: 'lzw' })
          : raw.jpeg({ quality: 95 });
  await encoded.toFile(path);
  return path;
}

/** A tiny CT (or other modality) DICOM file of `rows` x `columns` with HU = stored - 1024. */
export async function writeDicom(
  path: string,
  {
    rows = 4,
    columns = 4,
    modality = 'CT',
    seriesInstanceUid,
    instanceNumber,
  }: { rows?: number; columns?: number; modality?: string; seriesInstanceUid?: string; instanceNumber?: number } = {},
): Promise<string> {
  await mkdir(dirname(path), { recursive: true });
  const stored = Array.from({ length: rows * columns }, (_, i) => 1000 + 10 * i);
  const bytes = syntheticDicom({
    rows,
    columns,
    modality,
    pixelData: words(stored),
    transferSyntax: TS.explicitLittle,
    pixelRepresentation: 0,
    rescaleSlope: '1',
    rescaleIntercept: '-1024',
    seriesInstanceUid,
    instanceNumber,
    sopInstanceUid: `1.2.826.0.1.3680043.10.99.3.${instanceNumber ?? 1}`,
  });
  await writeFile(path, bytes);
  return path;
}
