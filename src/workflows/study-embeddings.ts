/**
 * Every slice of a dataset through the frozen part of a pretrained body, prepared exactly as validation
 * and prediction prepare images (resize, centre crop, CT windows), for study-level learning: pooled slice
 * embeddings when the whole body stays frozen, or the feature maps that the fine-tuned last stages start from.
 */
import { manualSeed, type Tensor } from '../torch/index.js';
import { DataLoader } from '../data/loader.js';
import { predictionLoader, renderingWindows } from '../data/dataloaders.js';
import { Compose } from '../data/transforms/transform.js';
import type { VoiWindow } from '../data/window.js';
import type { Dataset } from '../data/types.js';
import { createClassifier, type Pretrained } from '../models/create.js';
import type { ResNetArch } from '../models/resnet.js';
import type { VisionClassifier } from '../models/classifier.js';
import { SliceEncoder, checkPooledStages, embedSlices, stageMaps, type SliceEmbedding } from '../models/study-classifier.js';
import { embedItems } from '../learn/embeddings.js';

export interface StudyInput extends Partial<SliceEmbedding> {
  arch?: ResNetArch;
  pretrained?: Pretrained;
  /** Square input size of the body (default 256). */
  size?: number;
  /** CT windows of a DICOM slice (default: {@link renderingWindows} of the dataset, see {@link inputWindows}). */
  windows?: readonly VoiWindow[];
  /** Blank everything outside the head when decoding (default false). */
  maskOutsideHead?: boolean;
  /**
   * How many of the body's last stages are fine-tuned with the study head (default 0: the body stays
   * frozen and each slice is embedded once). Above 0, what is computed once per slice is the feature map
   * of the last frozen stage: about 1 MB per slice for ResNet-50 at 256 px with one stage trained.
   */
  trainStages?: number;
}

/** {@link StudyInput} with its defaults; the windows, which depend on the dataset, only when given. */
export type ResolvedStudyInput = Required<Omit<StudyInput, 'windows'>> & Pick<StudyInput, 'windows'>;

/** The defaults of {@link StudyInput}: ImageNet ResNet-50 at 256 px, last stage pooled, body frozen. */
export function studyInput(o: StudyInput): ResolvedStudyInput {
  return {
    arch: 'resnet50',
    pretrained: 'imagenet',
    size: 256,
    stages: [4],
    pooling: 'avg-max',
    stretchedViews: [],
    maskOutsideHead: false,
    trainStages: 0,
    ...o,
  };
}

/** The CT windows that render `dataset`'s DICOM slices for `input`: its own, or the dataset's {@link renderingWindows}. */
export function inputWindows(input: StudyInput, dataset: Dataset): VoiWindow[] {
  return [...(input.windows ?? renderingWindows(dataset.samples))];
}

/**
 * The pretrained classifier whose normalisation and body embed the slices (its fastai head is unused).
 * A randomly initialised body ('none') is drawn from a fixed seed, so that the body that embedded the
 * training slices and the one exported with the study head are the same.
 */
export function embeddingBody(input: StudyInput, classes: number): Promise<VisionClassifier> {
  const { arch, pretrained } = studyInput(input);
  manualSeed(0);
  return createClassifier({ arch, numClasses: classes, pretrained });
}

/** Stages of `model`'s body that stay frozen under `input` (the rest train with the study head). */
export function frozenStages(model: VisionClassifier, input: StudyInput): number {
  const { trainStages } = studyInput(input);
  const count = model.body.stages.length;
  if (!(Number.isInteger(trainStages) && trainStages >= 0 && trainStages <= count))
    throw new RangeError(`trainStages must be an integer from 0 to ${count}, got ${trainStages}`);
  return count - trainStages;
}

/**
 * The trainable slice encoder over `model`'s body for `input`: its last `trainStages` stages and the
 * pooling; undefined when the body stays frozen (the instances already are the embeddings).
 */
export function sliceEncoder(model: VisionClassifier, input: StudyInput): SliceEncoder | undefined {
  const o = studyInput(input);
  return o.trainStages ? new SliceEncoder(model.body, frozenStages(model, o), o.stages, o.pooling) : undefined;
}

/**
 * Every sample of `dataset`, in sample order, through the frozen part of the body: pooled embeddings
 * [N, width], or with `trainStages` the last frozen stage's maps [N, C, H, W]. A native tensor; dispose
 * of it when done.
 */
export async function embedDataset(dataset: Dataset, input: StudyInput, progress?: (done: number, total: number) => void): Promise<Tensor> {
  const o = studyInput(input);
  const prepare = predictionLoader({ ...o, windows: inputWindows(o, dataset) });
  const classIndex = new Map(dataset.classes.map((c, i) => [c, i]));
  const items = dataset.samples.map((s) => ({ label: classIndex.get(s.label)!, load: () => prepare(s.path) }));
  const loader = new DataLoader(items, new Compose([]), { batchSize: 32, shuffle: false, seed: 0 });
  const model = (await embeddingBody(o, dataset.classes.length)).eval();
  try {
    const frozen = frozenStages(model, o);
    if (frozen === model.body.stages.length) return await embedItems((x) => embedSlices(model.normalize, model.body, x, o), loader, progress);
    if (o.stretchedViews.length) throw new Error('stretchedViews need a frozen body (trainStages 0): fine-tuned stages see each slice as it is');
    checkPooledStages(model.body, o.stages, frozen);
    return await embedItems((x) => stageMaps(model.normalize, model.body, x, frozen), loader, progress);
  } finally {
    model.dispose();
  }
}
