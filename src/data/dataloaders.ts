/**
 * From a labelled dataset to training and validation loaders, as fastai's ImageDataLoaders: a seeded
 * split (by patient whenever patient ids are known, so that no patient's slices sit on both sides), the
 * reference augmentation (RandomResizedCrop for training; resize and centre crop for validation), and a
 * decode-once cache at twice the training size.
 */
import { DataLoader, type LoaderItem, type Shard } from './loader.js';
import { DecodeCache } from './decode-cache.js';
import { isDicomPath } from './files.js';
import { groupSplit, randomSplit, type GroupSplit } from './split.js';
import { Compose, type Transform } from './transforms/transform.js';
import { RandomResizedCrop } from './transforms/crop.js';
import { fastaiValidationSize } from './transforms/resize.js';
import { RandomFlip } from './transforms/flip.js';
import { RandomRotate } from './transforms/rotate.js';
import { RandomBrightnessContrast } from './transforms/intensity.js';
import { GreyToRgb } from './transforms/channels.js';
import { afterCache, cacheDecoder, preprocessingOf, preprocessor, type PreparedInput } from './preprocessing.js';
import { HEAD_CT_WINDOWS, RSNA_ICH_WINDOWS, type VoiWindow } from './window.js';
import { Rng } from './rng.js';
import type { Dataset, HostImage } from './types.js';

export interface ImageDataOptions {
  /** Square training size (default 128, the reference recipe). */
  size?: number;
  batchSize?: number;
  validPct?: number;
  seed?: number;
  /**
   * 'patient' keeps each patient on one side; 'random' splits slices at random (inflated figures when
   * slices of a patient are correlated); 'auto' (default) is 'patient' whenever every sample has one.
   */
  splitBy?: 'auto' | 'patient' | 'random';
  /** Balance classes among validation patients (default true). */
  stratify?: boolean;
  /** Augment training images (default true); without it training images are prepared as validation ones. */
  augment?: boolean;
  /** RandomResizedCrop's smallest area share (default 0.35, the reference notebook's). */
  minScale?: number;
  /** Extra augmentation beyond the reference recipe. */
  flip?: boolean;
  rotateDegrees?: number;
  brightnessContrast?: number;
  /** Draw training items so that every class is seen equally often (oversampling rare classes). */
  oversample?: boolean;
  /** CT windows that become the channels of a DICOM input (default: {@link renderingWindows} of the dataset). */
  windows?: readonly VoiWindow[];
  /** Blank everything outside the head (table, hands, text) when decoding ({@link MaskOutsideHead}). */
  maskOutsideHead?: boolean;
  /** Batches decoded ahead of training. */
  prefetch?: number;
  /** Use this split (sample indices, e.g. a cross-validation fold) instead of drawing one. */
  split?: { train: number[]; valid: number[]; validGroups?: string[] };
  /**
   * This process's share of a data-parallel run: both loaders draw it (see {@link Shard}), and `batchSize`
   * stays the global batch, split evenly between the processes.
   */
  shard?: Shard;
}

export interface SplitInfo {
  by: 'patient' | 'random';
  validPct: number;
  seed: number;
  /** Sample indices (into the dataset) of each side. */
  train: number[];
  valid: number[];
  /** Patients in validation, when split by patient. */
  validPatients?: string[];
}

export interface ImageDataLoaders {
  train: DataLoader;
  valid: DataLoader;
  classes: string[];
  split: SplitInfo;
  dataset: Dataset;
  /** What became of the inputs, so that prediction can do the same. */
  input: { size: number; resize: number; windows: VoiWindow[]; maskOutsideHead?: boolean };
}

/**
 * The windows that render a DICOM slice for a model trained on `samples`: brain, subdural and bone as
 * three channels when every training image is DICOM; otherwise the brain window alone (one grey channel,
 * repeated as R, G, B). PNG and JPEG head-CT datasets are brain-window renderings, so a DICOM slice
 * given to a model trained on them (the service's input, or a mixed dataset's DICOM) must reach it as
 * those images did, not in two windows it never saw.
 */
export function renderingWindows(samples: readonly { path: string }[]): VoiWindow[] {
  return samples.length > 0 && samples.every((s) => isDicomPath(s.path)) ? [...RSNA_ICH_WINDOWS] : [HEAD_CT_WINDOWS.brain];
}

export function imageDataLoaders(dataset: Dataset, o: ImageDataOptions = {}): ImageDataLoaders {
  const { size = 128, batchSize = 32, validPct = 0.2, seed = 42, stratify = true, minScale = 0.35, prefetch = 2 } = o;
  const windows = [...(o.windows ?? renderingWindows(dataset.samples))];
  if (dataset.samples.length === 0) throw new Error(`${dataset.source}: no images`);
  const { shard } = o;
  if (shard && batchSize % shard.count !== 0) throw new Error(`batch size ${batchSize} does not split evenly between ${shard.count} processes`);
  const processBatchSize = batchSize / (shard?.count ?? 1);
  const allHavePatients = dataset.samples.every((s) => s.patientId !== undefined);
  const by = o.splitBy === 'random' ? 'random' : o.splitBy === 'patient' || allHavePatients ? 'patient' : 'random';
  const split = o.split ?? (by === 'patient' ? groupSplit(dataset.samples, { validPct, seed, stratify }) : randomSplit(dataset.samples, validPct, seed));

  const input = { size, resize: fastaiValidationSize(size), windows, ...(o.maskOutsideHead ? { maskOutsideHead: true } : {}) };
  const preprocessing = preprocessingOf(input);
  const cache = new DecodeCache(cacheDecoder(preprocessing));
  const classIndex = new Map(dataset.classes.map((c, i) => [c, i]));
  const items = (indices: number[]): LoaderItem[] =>
    indices.map((i) => {
      const sample = dataset.samples[i];
      return { label: classIndex.get(sample.label)!, load: (): Promise<HostImage> => cache.get(sample.path) };
    });

  const augment: Transform[] = [new RandomResizedCrop(size, { minScale })];
  if (o.flip) augment.push(new RandomFlip('horizontal'));
  if (o.rotateDegrees) augment.push(new RandomRotate(o.rotateDegrees));
  if (o.brightnessContrast) augment.push(new RandomBrightnessContrast({ maxLighting: o.brightnessContrast }));
  augment.push(new GreyToRgb());

  const trainItems = items(split.train);
  const order = o.oversample ? balancedOrder(trainItems.map((it) => it.label)) : undefined;
  return {
    train: new DataLoader(trainItems, o.augment === false ? afterCache(preprocessing) : new Compose(augment), {
      batchSize: processBatchSize,
      shuffle: true,
      seed,
      dropLast: true,
      prefetch,
      order,
      shard,
    }),
    valid: new DataLoader(items(split.valid), afterCache(preprocessing), { batchSize: processBatchSize, shuffle: false, seed, prefetch, shard }),
    classes: dataset.classes,
    split: {
      by,
      validPct,
      seed,
      train: split.train,
      valid: split.valid,
      validPatients: 'validGroups' in split ? (split as GroupSplit).validGroups : undefined,
    },
    dataset,
    input,
  };
}

/**
 * One file prepared exactly as validation prepares it (same decode, cache resolution, resize and centre
 * crop), so that a prediction sees what the model was validated on.
 */
export function predictionLoader(input: PreparedInput): (path: string) => Promise<HostImage> {
  return preprocessor(preprocessingOf(input));
}

/** An epoch order that draws every class as often as the largest one (rare classes repeated at random). */
function balancedOrder(labels: number[]): (rng: Rng) => number[] {
  const byClass = new Map<number, number[]>();
  labels.forEach((label, i) => (byClass.get(label) ?? byClass.set(label, []).get(label)!).push(i));
  const largest = Math.max(...[...byClass.values()].map((members) => members.length));
  return (rng) =>
    [...byClass.values()].flatMap((members) => Array.from({ length: largest }, (_, k) => (k < members.length ? members[k] : members[rng.int(members.length)])));
}
