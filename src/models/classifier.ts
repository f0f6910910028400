/**
 * `VisionClassifier`: normalisation, a pretrained (or random) ResNet body and a fastai head, with the
 * body/head split that fine-tuning freezes and the layer groups that get discriminative learning rates.
 */
import { Tensor, nn } from '../torch/index.js';
import { ResNet, TORCHVISION, type ResNetArch, type ResNetVariant } from './resnet.js';
import { createHead, type HeadOptions } from './head.js';
import { Normalize, type InputNormalization } from './normalize.js';

export interface ClassifierSpec {
  arch: ResNetArch;
  numClasses: number;
  variant?: ResNetVariant;
  normalization?: InputNormalization;
  head?: HeadOptions;
}

export class VisionClassifier extends nn.Module {
  readonly spec: Required<Omit<ClassifierSpec, 'head'>> & { head: HeadOptions };
  readonly normalize: Normalize;
  readonly body: ResNet;
  readonly head: nn.Sequential;

  constructor(spec: ClassifierSpec) {
    super();
    if (!Number.isInteger(spec.numClasses) || spec.numClasses < 2) throw new Error(`a classifier needs at least 2 classes, got ${spec.numClasses}`);
    this.spec = { variant: TORCHVISION, normalization: 'imagenet', head: {}, ...spec };
    this.normalize = this.registerModule('normalize', new Normalize(this.spec.normalization));
    this.body = this.registerModule('body', new ResNet(spec.arch, { numClasses: 0, variant: this.spec.variant }));
    this.head = this.registerModule('head', createHead(this.body.featureChannels, spec.numClasses, this.spec.head));
  }

  /** Body features of RGB input in [0, 1]: [N, C, H/32, W/32]. */
  features(x: Tensor): Tensor {
    return this.body.features(this.normalize.forward(x));
  }

  /** Logits [N, numClasses] of RGB input in [0, 1]. */
  forward(x: Tensor): Tensor {
    return this.head.forward(this.features(x));
  }

  /** Parameter groups, lowest layers first: [stem..layer2], [layer3..layer4], [head]. */
  layerGroups(): Tensor[][] {
    const groups = this.body.layerGroups().map((modules) => modules.flatMap((m) => m.parameters()));
    return [...groups, this.head.parameters()];
  }

  /**
   * Freezes the body, keeping the head trainable. With `trainBatchNorm` (fastai's default) the body's
   * batch-norm weights stay trainable, which lets a pretrained body adapt its statistics to CT.
   */
  freeze({ trainBatchNorm = true } = {}): this {
    return this.freezeTo(this.body.layerGroups().length, { trainBatchNorm });
  }

  /**
   * fastai's `freeze_to(group)`: the layer groups below `group` are frozen, the others trainable. Without
   * `trainBatchNorm`, a frozen group's batch-norm weights are fixed too, so that nothing needs a gradient
   * through it (its running statistics still follow the data in training mode).
   */
  freezeTo(group: number, { trainBatchNorm = true } = {}): this {
    const bodyGroups = this.body.layerGroups();
    if (!(Number.isInteger(group) && group >= 0 && group <= bodyGroups.length))
      throw new RangeError(`freezeTo: group must be 0..${bodyGroups.length} (the head always trains), got ${group}`);
    this.setRequiresGrad(true);
    for (const module of bodyGroups.slice(0, group).flat()) {
      module.setRequiresGrad(false);
      if (trainBatchNorm) for (const [, m] of module.namedModules()) if (m instanceof nn.BatchNorm) m.setRequiresGrad(true);
    }
    return this;
  }

  unfreeze(): this {
    return this.setRequiresGrad(true);
  }

  /** True while any body parameter other than batch norm is frozen. */
  get bodyFrozen(): boolean {
    return this.body.namedModules().some(([, m]) => !(m instanceof nn.BatchNorm) && m.parameters().some((p) => !p.requiresGrad));
  }
}
