/**
 * The preprocessing a model expects, declared as a list of named steps with their parameters (as fastai's
 * export carries its transforms and a MONAI bundle its config), saved in the model file and replayed by
 * one function, {@link preprocessor}, wherever a file becomes a model's input. Training prepares its
 * validation images with the same steps, so prediction sees what validation saw.
 *
 * Normalisation is not a step: it is the model's first layer (models/normalize.ts), saved with its weights.
 */
import { DecodeCache } from './decode-cache.js';
import { readImage, readImageResized } from './decode.js';
import { isDicomPath } from './files.js';
import { Compose, type Transform } from './transforms/transform.js';
import { CenterCrop } from './transforms/crop.js';
import { Resize, fastaiValidationSize } from './transforms/resize.js';
import { StackWindows, GreyToRgb } from './transforms/channels.js';
import { maskOutsideHeadBytes } from './transforms/mask.js';
import { Rng } from './rng.js';
import type { VoiWindow } from './window.js';
import type { ByteImage, HostImage } from './types.js';

/** One step of a model's preprocessing, from the file to the input tensor (CHW, 0..1). */
export type PreprocessingStep =
  /** The file's pixels: a DICOM slice's Hounsfield units (CT only); a PNG/JPEG is decoded by the step that first needs its pixels. */
  | { name: 'decode' }
  /** A DICOM slice's HU through each CT window, one 0..1 channel per window; a PNG/JPEG, already rendered, passes. */
  | { name: 'windows'; windows: VoiWindow[] }
  /**
   * The 8-bit decode cache training read its images from: the short side shrunk to `shortSide` (a PNG/JPEG
   * while decoding, never enlarged), rounded to 8 bits.
   */
  | { name: 'cache8bit'; shortSide: number }
  /** Everything outside the head (table, hands, text) blanked, on the 8-bit image. */
  | { name: 'maskOutsideHead' }
  /** The short side resized to `shortSide`, keeping the aspect ratio. */
  | { name: 'resize'; shortSide: number }
  /** The centre `size` x `size` square. */
  | { name: 'centreCrop'; size: number }
  /** One grey channel repeated as R, G, B. */
  | { name: 'rgb' };

export type StepName = PreprocessingStep['name'];

/** How a file becomes a model's input, as training describes it: its size, the CT windows of a DICOM file, and whether what lies outside the head is blanked. */
export interface PreparedInput {
  size: number;
  windows: readonly VoiWindow[];
  maskOutsideHead?: boolean;
}

/**
 * The short side images are cached at: twice the training size, so that even RandomResizedCrop's
 * smallest crops (35% of the area) are shrunk to the training size, never enlarged — enlarged, blurrier
 * training crops than validation images cost AUC on real CT compared with cropping the full image.
 */
export function cacheShortSide(size: number): number {
  return size * 2;
}

/**
 * The preprocessing of a model trained on `input`: decoded, windowed, the 8-bit cache at twice the size
 * (optionally only the head kept), resized as fastai's validation (size * 1.14) and centre-cropped, 3
 * channels. What training declares, and what a model file written before pipelines were saved gets from its loose fields.
 */
export function preprocessingOf(input: PreparedInput): PreprocessingStep[] {
  return [
    { name: 'decode' },
    { name: 'windows', windows: [...input.windows] },
    { name: 'cache8bit', shortSide: cacheShortSide(input.size) },
    ...(input.maskOutsideHead ? [{ name: 'maskOutsideHead' } as const] : []),
    { name: 'resize', shortSide: fastaiValidationSize(input.size) },
    { name: 'centreCrop', size: input.size },
    { name: 'rgb' },
  ];
}

const positiveInteger = (value: unknown) => Number.isInteger(value) && (value as number) >= 1;
const isWindow = (w: unknown) =>
  typeof w === 'object' && w !== null && Number.isFinite((w as VoiWindow).center) && Number.isFinite((w as VoiWindow).width) && (w as VoiWindow).width >= 1;

/**
 * Each step: what its parameters must be, and its stage: steps run stage by stage, from the file to the
 * 8-bit cache ('file', then 'cache'), on the cache's 8-bit image ('bytes'), then on the image in 0..1 ('image').
 */
const STEPS: { [N in StepName]: { stage: (typeof STAGES)[number]; parameters: { [key: string]: (value: unknown) => boolean } } } = {
  decode: { stage: 'file', parameters: {} },
  windows: { stage: 'file', parameters: { windows: (value) => Array.isArray(value) && value.length > 0 && value.every(isWindow) } },
  cache8bit: { stage: 'cache', parameters: { shortSide: positiveInteger } },
  maskOutsideHead: { stage: 'bytes', parameters: {} },
  resize: { stage: 'image', parameters: { shortSide: positiveInteger } },
  centreCrop: { stage: 'image', parameters: { size: positiveInteger } },
  rgb: { stage: 'image', parameters: {} },
};
const STAGES = ['file', 'cache', 'bytes', 'image'] as const;
/** What every pipeline begins with, in this order: the replay caches the 8-bit image of each file, as training did. */
const OPENING: readonly StepName[] = ['decode', 'windows', 'cache8bit'];

/**
 * `steps` as read from the model file at `path`, checked: every step known, with its parameters, in an
 * order the replay runs (decode, windows, cache8bit, then the 8-bit image's steps, then the image's).
 * @throws Error naming the file and the step.
 */
export function checkedPreprocessing(path: string, steps: unknown): PreprocessingStep[] {
  if (!Array.isArray(steps)) throw new Error(`${path}: the preprocessing is not a list of steps: ${JSON.stringify(steps)}`);
  let stage = 0;
  steps.forEach((step: Record<string, unknown> | null, i) => {
    const name = step?.name;
    const where = `${path}: preprocessing step ${i + 1} '${String(name)}'`;
    const known = typeof name === 'string' && Object.hasOwn(STEPS, name) ? STEPS[name as StepName] : undefined;
    if (!known) throw new Error(`${where} is not a step this findstroke knows (${Object.keys(STEPS).join(', ')}); update findstroke`);
    for (const [key, valid] of Object.entries(known.parameters))
      if (!valid(step![key])) throw new Error(`${where}: invalid ${key} ${JSON.stringify(step![key])}`);
    const at = STAGES.indexOf(known.stage);
    if (at < stage || (i < OPENING.length && name !== OPENING[i]) || (i >= OPENING.length && OPENING.includes(name as StepName)))
      throw new Error(`${where} is out of order: ${OPENING.join(', ')}, then the 8-bit image's steps, then the image's`);
    stage = at;
  });
  if (steps.length < OPENING.length) throw new Error(`${path}: the preprocessing must begin with ${OPENING.join(', ')}: ${JSON.stringify(steps)}`);
  return steps as PreprocessingStep[];
}

/** The file-to-8-bit part of `steps` (decode, windows, cache8bit, maskOutsideHead) as one decoder: what the decode cache holds. */
export function cacheDecoder(steps: readonly PreprocessingStep[]): (path: string) => Promise<ByteImage> {
  const upToImage = steps.filter((step) => STEPS[step.name].stage !== 'image');
  return async (path) => {
    // undefined: a PNG/JPEG not decoded yet, so that the cache step shrinks it while decoding, as training's cache did.
    let pixels: HostImage | ByteImage | undefined;
    for (const step of upToImage) {
      if (step.name === 'decode') pixels = isDicomPath(path) ? await readImage(path) : undefined;
      else if (step.name === 'windows') pixels = pixels && new StackWindows(step.windows).apply(pixels as HostImage);
      else if (step.name === 'cache8bit')
        pixels = pixels ? toBytes(new Resize(step.shortSide).apply(pixels as HostImage)) : await readImageResized(path, step.shortSide);
      else pixels = maskOutsideHeadBytes(pixels as ByteImage);
    }
    return pixels as ByteImage;
  };
}

/** The steps after the 8-bit cache (resize, centre crop, RGB) as one transform of the cached image in 0..1. */
export function afterCache(steps: readonly PreprocessingStep[]): Transform {
  return new Compose(
    steps.flatMap((step): Transform[] => {
      if (step.name === 'resize') return [new Resize(step.shortSide)];
      if (step.name === 'centreCrop') return [new CenterCrop(step.size)];
      if (step.name === 'rgb') return [new GreyToRgb()];
      return [];
    }),
  );
}

/**
 * THE replay of a model's preprocessing: the file at a path as the model's input (CHW, 0..1). Each file's
 * 8-bit cache image is kept, as training's cache keeps it, so that a file prepared again is not decoded again.
 */
export function preprocessor(steps: readonly PreprocessingStep[]): (path: string) => Promise<HostImage> {
  const cache = new DecodeCache(cacheDecoder(steps));
  const transform = afterCache(steps);
  return async (path) => transform.apply(await cache.get(path), new Rng(0));
}

/** The last resize's short side and the centre crop's size: where the model's input lies on the decoded image (for heat maps). */
export function inputGeometry(steps: readonly PreprocessingStep[]): { resize: number; size: number } {
  const resize = steps.filter((step): step is Extract<PreprocessingStep, { name: 'resize' }> => step.name === 'resize').at(-1);
  const crop = steps.filter((step): step is Extract<PreprocessingStep, { name: 'centreCrop' }> => step.name === 'centreCrop').at(-1);
  if (!resize || !crop) throw new Error(`a preprocessing without a resize and a centre crop has no input geometry: ${JSON.stringify(steps)}`);
  return { resize: resize.shortSide, size: crop.size };
}

/** 0..1 intensities as rounded 0..255 bytes, in a plain loop: `Uint8Array.from` with a map function is ten times slower in V8. */
function toBytes(image: HostImage): ByteImage {
  const bytes = new Uint8Array(image.data.length);
  for (let i = 0; i < bytes.length; i++) bytes[i] = Math.round(image.data[i] * 255);
  return { ...image, data: bytes };
}
