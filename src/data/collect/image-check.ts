/**
 * Deciding whether downloaded bytes are a usable image: the claimed content type, the format's magic bytes,
 * then a full decode by sharp, which refuses truncated and corrupt files (fastai's `verify_images`).
 */
import sharp from 'sharp';
import { CollectError } from './errors.js';

/** File extensions of the raster formats collected; anything else (SVG, HTML, ...) is refused. */
export type ImageExtension = 'jpg' | 'png' | 'gif' | 'webp' | 'tif' | 'avif';

/** Types servers give images besides `image/*`. */
const GENERIC_BINARY_TYPES = new Set(['application/octet-stream', 'binary/octet-stream']);

/**
 * Checks that `bytes` downloaded from `url` are a complete image and returns the extension of its real format.
 * The bytes decide the format, since servers often name the wrong image subtype.
 * Throws a {@link CollectError} naming the URL and the reason.
 */
export async function verifyImage(bytes: Uint8Array, contentType: string | undefined, url: string): Promise<ImageExtension> {
  const mediaType = contentType?.split(';')[0].trim().toLowerCase();
  if (mediaType && !mediaType.startsWith('image/') && !GENERIC_BINARY_TYPES.has(mediaType)) {
    throw new CollectError(url, `content-type ${mediaType} is not an image`);
  }
  const extension = sniffImageFormat(bytes);
  if (!extension) {
    throw new CollectError(
      url,
      `${mediaType ? `content-type ${mediaType}, but the` : 'the'} bytes are not a JPEG, PNG, GIF, WebP, TIFF or AVIF image (they start ${JSON.stringify(printableStart(bytes))})`,
    );
  }
  const cut = missingEnd(bytes, extension);
  if (cut) throw new CollectError(url, `cannot decode the ${extension} image: ${cut}`);
  try {
    // 'truncated' rather than sharp's default 'warning': refuse cut-off files, keep images with harmless warnings.
    await sharp(bytes, { failOn: 'truncated' }).raw().toBuffer();
  } catch (error) {
    throw new CollectError(url, `cannot decode the ${extension} image: ${(error as Error).message.split('\n')[0]}`);
  }
  return extension;
}

/**
 * A cut-off JPEG or PNG, told by its missing end marker (JPEG EOI, PNG IEND chunk). Checked before
 * decoding because libvips' own message for it is not reliable when several decodes run at once.
 */
function missingEnd(bytes: Uint8Array, extension: ImageExtension): string | undefined {
  const tail = Buffer.from(bytes.subarray(Math.max(0, bytes.length - 1024)));
  if (extension === 'jpg' && !tail.includes(Buffer.from([0xff, 0xd9]))) return 'premature end of JPEG image (no end-of-image marker)';
  if (extension === 'png' && !tail.includes(Buffer.from('IEND', 'latin1'))) return 'premature end of PNG image (no IEND chunk)';
  return undefined;
}

/** The format whose signature `bytes` start with, if any. */
function sniffImageFormat(bytes: Uint8Array): ImageExtension | undefined {
  const ascii = (start: number, end: number): string => Buffer.from(bytes.subarray(start, end)).toString('latin1');
  if (bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpg';
  if (ascii(0, 8) === '\x89PNG\r\n\x1a\n') return 'png';
  if (ascii(0, 6) === 'GIF87a' || ascii(0, 6) === 'GIF89a') return 'gif';
  if (ascii(0, 4) === 'RIFF' && ascii(8, 12) === 'WEBP') return 'webp';
  if (ascii(0, 4) === 'II*\0' || ascii(0, 4) === 'MM\0*') return 'tif';
  if (ascii(4, 8) === 'ftyp' && ['avif', 'avis'].includes(ascii(8, 12))) return 'avif';
  return undefined;
}

/** The first bytes as text a person can read in a report: what an HTML error page or the like begins with. */
function printableStart(bytes: Uint8Array): string {
  return Buffer.from(bytes.subarray(0, 24))
    .toString('latin1')
    .replace(/[^\x20-\x7e]/g, '.');
}
