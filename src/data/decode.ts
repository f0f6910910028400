/**
 * Image files to host images: photos (PNG, JPEG, WebP, TIFF) through sharp, DICOM CT through the DICOM
 * reader as Hounsfield units; plus the header-only facts (size, channels) that summaries need.
 */
import sharp, { type OutputInfo, type Sharp } from 'sharp';
import { readDicom, readDicomHeader, requireCT } from './dicom/index.js';
import { DataFileError, reasonOf } from './errors.js';
import { isDicomPath } from './files.js';
import { decodeJpegShrunk } from './jpeg.js';
import type { ByteImage, HostImage } from './types.js';

/** What a file's header says, without decoding pixels. */
export interface ImageInfo {
  /** 'dicom', or sharp's format name: 'jpeg', 'png', 'webp', 'tiff'. */
  format: string;
  width: number;
  height: number;
  /** Channels {@link readImage} gives: 1 (grey, CT) or 3 (colour). */
  channels: number;
}

/** 'truncated' rather than sharp's default 'warning': refuse cut-off files, keep images with harmless warnings. */
const SHARP_OPTIONS = { failOn: 'truncated' } as const;

/**
 * Header facts of `path`: sharp's metadata, or the DICOM header.
 * @throws {@link DataFileError} (or `DicomError`) naming the file and the reason.
 */
export async function readImageInfo(path: string): Promise<ImageInfo> {
  if (isDicomPath(path)) {
    const header = await readDicomHeader(path);
    return { format: 'dicom', width: header.columns, height: header.rows, channels: header.samplesPerPixel };
  }
  const { format, width, height, grey } = await photoLayout(sharp(path, SHARP_OPTIONS), path);
  return { format, width, height, channels: grey ? 1 : 3 };
}

/**
 * Decodes `path` in full, channel-first float32. Photos: 0..1, grey kept as 1 channel, colour (alpha
 * dropped) as 3 RGB channels, 16-bit PNG/TIFF at full depth (divided by 65535). DICOM: CT only, one
 * channel of Hounsfield units, not scaled (window it with `ScaleIntensityRange` or `StackWindows`).
 * @throws {@link DataFileError} (or `DicomError`) naming the file and the reason, e.g. an MR series.
 */
export async function readImage(path: string): Promise<HostImage> {
  if (isDicomPath(path)) {
    const image = requireCT(await readDicom(path));
    return { width: image.columns, height: image.rows, channels: 1, data: image.hu() };
  }
  const input = sharp(path, SHARP_OPTIONS);
  const { grey, depth } = await photoLayout(input, path);
  const sixteenBit = depth === 'ushort';
  if (!sixteenBit && depth !== 'uchar') throw new DataFileError(path, `samples of type ${depth} are not supported (8- or 16-bit only)`);
  const colourspace = sixteenBit ? (grey ? 'grey16' : 'rgb16') : grey ? 'b-w' : 'srgb';
  const { data, info } = await decoded(
    input
      .removeAlpha()
      .toColourspace(colourspace)
      .raw({ depth: sixteenBit ? 'ushort' : 'uchar' }),
    path,
  );
  const samples = sixteenBit ? new Uint16Array(data.buffer, data.byteOffset, data.byteLength / 2) : data;
  const planes = toChannelFirst(samples, info.channels, new Float32Array(samples.length), 1 / (sixteenBit ? 65535 : 255));
  return { width: info.width, height: info.height, channels: info.channels, data: planes };
}

/**
 * The loader cache's fast path: decodes `path` already shrunk so that its short side is `shortSide`
 * (aspect kept; smaller images are not enlarged), as 8-bit channel-first pixels. JPEGs go through
 * libjpeg-turbo, which shrinks while decoding ({@link decodeJpegShrunk}: a quarter of sharp's cost for a
 * 650 px slice); other formats, and JPEGs libjpeg refuses (CMYK, 12-bit), through sharp. A file whose
 * channels are all equal (a grey CT slice saved as RGB, or a grey file) comes back as one grey channel: a
 * third of the memory and of every later transform's work (`GreyToRgb` restores exactly the same pixels).
 * sharp opens the file once, without a separate header read: every layout (grey, alpha, 16-bit) is
 * converted to 8-bit sRGB while decoding, and grey is recognised in the decoded pixels.
 * @throws {@link DataFileError} naming the file: for DICOM, which holds Hounsfield units, use {@link readImage}.
 */
export async function readImageResized(path: string, shortSide: number): Promise<ByteImage> {
  if (isDicomPath(path)) throw new DataFileError(path, 'DICOM holds Hounsfield units, not 8-bit pixels; read it with readImage');
  if (!(Number.isInteger(shortSide) && shortSide >= 1)) throw new RangeError(`shortSide must be a positive integer, got ${shortSide}`);
  // A file libjpeg refuses gets sharp's verdict: decoded another way, or the error reported for it.
  const jpeg = await decodeJpegShrunk(path, shortSide).catch(() => null);
  if (jpeg) return jpeg;
  const resized = sharp(path, SHARP_OPTIONS)
    .removeAlpha()
    .toColourspace('srgb')
    // A triangle filter, as PIL's bilinear resize that fastai uses.
    .resize({ width: shortSide, height: shortSide, fit: 'outside', withoutEnlargement: true, kernel: 'linear' })
    .raw();
  const { data, info } = await decoded(resized, path);
  const samples = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const grey = greyPlane(samples, info.channels);
  const planes = grey ?? toChannelFirst(samples, info.channels, new Uint8Array(samples.length), 1);
  return { width: info.width, height: info.height, channels: grey ? 1 : info.channels, data: planes };
}

/** The one plane of interleaved `samples` whose `channels` are equal at every pixel; undefined when some differ. */
function greyPlane(samples: Uint8Array, channels: number): Uint8Array | undefined {
  const plane = new Uint8Array(samples.length / channels);
  for (let i = 0, s = 0; i < plane.length; i++, s += channels) {
    const value = samples[s];
    for (let c = 1; c < channels; c++) if (samples[s + c] !== value) return undefined;
    plane[i] = value;
  }
  return plane;
}

async function photoLayout(input: Sharp, path: string): Promise<{ format: string; width: number; height: number; grey: boolean; depth: string }> {
  const metadata = await input.metadata().catch((error: unknown) => {
    throw new DataFileError(path, `cannot read image: ${reasonOf(error)}`);
  });
  const { format, width, height, channels, hasAlpha, depth } = metadata;
  if (!width || !height || !channels) throw new DataFileError(path, `${format} image has no size`);
  return { format, width, height, grey: channels - (hasAlpha ? 1 : 0) === 1, depth: depth ?? 'uchar' };
}

async function decoded(pipeline: Sharp, path: string): Promise<{ data: Buffer; info: OutputInfo }> {
  try {
    return await pipeline.toBuffer({ resolveWithObject: true });
  } catch (error) {
    throw new DataFileError(path, `cannot decode image: ${reasonOf(error)}`);
  }
}

/** Interleaved (HWC) samples into channel planes (CHW), each multiplied by `scale`. */
function toChannelFirst<Planes extends Float32Array | Uint8Array>(samples: ArrayLike<number>, channels: number, planes: Planes, scale: number): Planes {
  const pixels = samples.length / channels;
  for (let c = 0; c < channels; c++) {
    const plane = c * pixels;
    for (let i = 0; i < pixels; i++) planes[plane + i] = samples[i * channels + c] * scale;
  }
  return planes;
}
