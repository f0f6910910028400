/**
 * Input normalisation as the first layer of a model, so that an exported model takes plain RGB in [0, 1]
 * and carries its own preprocessing: ImageNet mean/std (torchvision weights) or Keras "caffe" style
 * (RGB to BGR, 0-255 scale, minus the BGR means 103.939/116.779/123.68; no division).
 */
import { Tensor, nn } from '../torch/index.js';

export type InputNormalization = 'imagenet' | 'caffe';

const STATS: Record<InputNormalization, { mean: number[]; std: number[]; bgr: boolean }> = {
  imagenet: { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225], bgr: false },
  caffe: { mean: [103.939 / 255, 116.779 / 255, 123.68 / 255], std: [1 / 255, 1 / 255, 1 / 255], bgr: true },
};

export class Normalize extends nn.Module {
  readonly mean: Tensor;
  readonly std: Tensor;
  readonly bgr: boolean;

  constructor(readonly kind: InputNormalization) {
    super();
    const s = STATS[kind];
    if (!s) throw new Error(`unknown input normalisation '${kind}' (imagenet, caffe)`);
    this.bgr = s.bgr;
    this.mean = this.registerBuffer('mean', Tensor.of(s.mean, [1, 3, 1, 1]));
    this.std = this.registerBuffer('std', Tensor.of(s.std, [1, 3, 1, 1]));
  }

  /** x: [N, 3, H, W] RGB in [0, 1]. */
  forward(x: Tensor): Tensor {
    const ordered = this.bgr ? x.flip([1]) : x;
    return ordered.sub(this.mean).div(this.std);
  }
}
