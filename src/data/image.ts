/** Decoding of ordinary image files (PNG, JPEG, WebP, TIFF) through sharp into 8-bit RGB pixels. */
import sharp from 'sharp';

export interface RgbImage {
  width: number;
  height: number;
  /** Row-major RGB, 3 bytes per pixel. */
  data: Uint8Array;
}

/** Decodes `path` to 8-bit RGB (grey is replicated, alpha dropped). Errors name the file. */
export async function readRgb(path: string): Promise<RgbImage> {
  try {
    const { data, info } = await sharp(path).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`decoded to ${info.channels} channels, expected 3`);
    return { width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
  } catch (error) {
    throw new Error(`${path}: cannot decode image: ${(error as Error).message}`);
  }
}
