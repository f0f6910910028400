/**
 * Study-level (multiple-instance) classification: a study's slices are one bag, and the study label
 * supervises a pooled prediction, as labels in head CT are per patient while a lesion shows on only some
 * of the slices. Gated attention pooling (Ilse, Tomczak & Welling, "Attention-based Deep Multiple
 * Instance Learning", ICML 2018): every slice gets a weight, the study embedding is the weighted mean,
 * and the same classifier scores each slice on its own, so slice scores stay available for the viewer.
 */
import { Tensor, nn } from '../torch/index.js';
import { fitStandardization } from './standardize.js';

export interface AttentionMilSpec {
  /** Length of each slice's feature vector. */
  inFeatures: number;
  numClasses: number;
  /** Width of the slice embedding (default 128). */
  hidden?: number;
  /** Width of the attention network (default 64). */
  attention?: number;
  /** Dropout on the slice embeddings while training (default 0.25). */
  dropout?: number;
}

/** What one bag gives: study logits [1, C], each slice's logits [S, C] and attention weights [S] (summing to 1). */
export interface BagOutput {
  study: Tensor;
  slices: Tensor;
  attention: Tensor;
}

export class AttentionMil extends nn.Module {
  readonly spec: Required<AttentionMilSpec>;
  /** Standardisation of the input features (training-set mean and standard deviation), saved with the model. */
  readonly featureMean: Tensor;
  readonly featureStd: Tensor;
  readonly embed: nn.Linear;
  readonly dropout: nn.Dropout;
  readonly attentionV: nn.Linear;
  readonly attentionU: nn.Linear;
  readonly attentionW: nn.Linear;
  readonly classify: nn.Linear;

  constructor(spec: AttentionMilSpec) {
    super();
    if (!Number.isInteger(spec.numClasses) || spec.numClasses < 2) throw new Error(`a classifier needs at least 2 classes, got ${spec.numClasses}`);
    this.spec = { ...spec, hidden: spec.hidden ?? 128, attention: spec.attention ?? 64, dropout: spec.dropout ?? 0.25 };
    const { inFeatures, hidden, attention, numClasses } = this.spec;
    this.featureMean = this.registerBuffer('feature_mean', Tensor.zeros([inFeatures]));
    this.featureStd = this.registerBuffer('feature_std', Tensor.ones([inFeatures]));
    this.embed = this.registerModule('embed', new nn.Linear(inFeatures, hidden));
    this.dropout = this.registerModule('dropout', new nn.Dropout(this.spec.dropout));
    this.attentionV = this.registerModule('attention_v', new nn.Linear(hidden, attention));
    this.attentionU = this.registerModule('attention_u', new nn.Linear(hidden, attention));
    this.attentionW = this.registerModule('attention_w', new nn.Linear(attention, 1));
    this.classify = this.registerModule('classify', new nn.Linear(hidden, numClasses));
  }

  /** Sets the input standardisation from training features [N, inFeatures] (a zero spread becomes 1). */
  standardizeWith(features: Tensor): void {
    fitStandardization(this.featureMean, this.featureStd, features);
  }

  /** One bag of slice features [S, inFeatures]. */
  bag(instances: Tensor): BagOutput {
    const h = this.dropout.forward(this.embed.forward(instances.sub(this.featureMean).div(this.featureStd)).relu());
    const gate = this.attentionV.forward(h).tanh().mul(this.attentionU.forward(h).sigmoid());
    const attention = this.attentionW.forward(gate).flatten().softmax(0);
    const study = attention.unsqueeze(0).matmul(h);
    return { study: this.classify.forward(study), slices: this.classify.forward(h), attention };
  }

  /** Study logits [1, C] of one bag [S, inFeatures]. */
  forward(instances: Tensor): Tensor {
    return this.bag(instances).study;
  }
}
