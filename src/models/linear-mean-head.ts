/**
 * The simplest study head: one linear classifier scores each slice's (standardised) embedding, and the
 * study's probabilities are the mean of its slices'. On frozen ImageNet features this is a linear probe;
 * with few patients it overfits less than a trained pooling (see docs/recipes.md).
 */
import { Tensor, nn } from '../torch/index.js';
import { fitStandardization } from './standardize.js';
import type { BagOutput } from './attention-mil.js';

export interface LinearMeanHeadSpec {
  /** Length of each slice's feature vector. */
  inFeatures: number;
  numClasses: number;
}

export class LinearMeanHead extends nn.Module {
  readonly spec: LinearMeanHeadSpec;
  /** Standardisation of the input features (training-set mean and standard deviation), saved with the model. */
  readonly featureMean: Tensor;
  readonly featureStd: Tensor;
  readonly classify: nn.Linear;

  constructor(spec: LinearMeanHeadSpec) {
    super();
    if (!Number.isInteger(spec.numClasses) || spec.numClasses < 2) throw new Error(`a classifier needs at least 2 classes, got ${spec.numClasses}`);
    this.spec = { ...spec };
    this.featureMean = this.registerBuffer('feature_mean', Tensor.zeros([spec.inFeatures]));
    this.featureStd = this.registerBuffer('feature_std', Tensor.ones([spec.inFeatures]));
    this.classify = this.registerModule('classify', new nn.Linear(spec.inFeatures, spec.numClasses));
  }

  /** Sets the input standardisation from training features [N, inFeatures] (a zero spread becomes 1). */
  standardizeWith(features: Tensor): void {
    fitStandardization(this.featureMean, this.featureStd, features);
  }

  /** Logits [N, C] of slice features [N, inFeatures]. */
  slices(instances: Tensor): Tensor {
    return this.classify.forward(instances.sub(this.featureMean).div(this.featureStd));
  }

  /**
   * One bag [S, inFeatures]: each slice's logits, equal attention, and as the study's logits the log of
   * the mean slice probabilities (so that their softmax is that mean).
   */
  bag(instances: Tensor): BagOutput {
    const slices = this.slices(instances);
    const count = instances.shape[0];
    return { study: slices.softmax(1).mean([0], true).log(), slices, attention: Tensor.full([count], 1 / count) };
  }

  forward(instances: Tensor): Tensor {
    return this.bag(instances).study;
  }
}
