/**
 * Every slice of a dataset embedded by a frozen pretrained body, prepared exactly as validation and
 * prediction prepare images (resize, centre crop, CT windows), for study-level learning.
 */
import { manualSeed } from '../torch/index.js';
import { DataLoader } from '../data/loader.js';
import { predictionLoader } from '../data/dataloaders.js';
import { Compose } from '../data/transforms/transform.js';
import { RSNA_ICH_WINDOWS, type VoiWindow } from '../data/window.js';
import type { Dataset } from '../data/types.js';
import { createClassifier, type Pretrained } from '../models/create.js';
import type { ResNetArch } from '../models/resnet.js';
import type { VisionClassifier } from '../models/classifier.js';
import { embedSlices, type SliceEmbedding } from '../models/study-classifier.js';
import { embedItems, type Embeddings } from '../learn/embeddings.js';

export interface StudyInput extends Partial<SliceEmbedding> {
  arch?: ResNetArch;
  pretrained?: Pretrained;
  /** Square input size of the body (default 256). */
  size?: number;
  windows?: readonly VoiWindow[];
}

/** The defaults of {@link StudyInput}: ImageNet ResNet-50 at 256 px, last stage pooled. */
export function studyInput(o: StudyInput): Required<StudyInput> {
  return { arch: 'resnet50', pretrained: 'imagenet', size: 256, windows: [...RSNA_ICH_WINDOWS], stages: [4], mirrorAverage: false, ...o };
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

/** Embeds every sample of `dataset`, in sample order. */
export async function embedDataset(dataset: Dataset, input: StudyInput, progress?: (done: number, total: number) => void): Promise<Embeddings> {
  const o = studyInput(input);
  const prepare = predictionLoader({ size: o.size, windows: o.windows });
  const classIndex = new Map(dataset.classes.map((c, i) => [c, i]));
  const items = dataset.samples.map((s) => ({ label: classIndex.get(s.label)!, load: () => prepare(s.path) }));
  const loader = new DataLoader(items, new Compose([]), { batchSize: 32, shuffle: false, seed: 0 });
  const model = (await embeddingBody(o, dataset.classes.length)).eval();
  try {
    return await embedItems((x) => embedSlices(model.normalize, model.body, x, o), loader, progress);
  } finally {
    model.dispose();
  }
}
