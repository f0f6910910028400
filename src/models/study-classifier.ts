/**
 * The study-level classifier: a frozen (ImageNet) ResNet body embeds each slice, an attention-MIL head
 * turns a study's slice embeddings into a study prediction and per-slice scores. Slice embeddings are the
 * feature maps after chosen stages, global average- and max-pooled (fastai's concat pooling, per stage).
 */
import { F, Tensor, nn } from '../torch/index.js';
import { ResNet, TORCHVISION, type ResNetArch, type ResNetVariant } from './resnet.js';
import { Normalize, type InputNormalization } from './normalize.js';
import { AttentionMil, type AttentionMilSpec, type BagOutput } from './attention-mil.js';

/** How slices are embedded. */
export interface SliceEmbedding {
  /** ResNet stages (1-4) whose pooled outputs are concatenated (e.g. [4]). */
  stages: number[];
  /** Average each slice's embedding with its left-right mirror's. */
  mirrorAverage: boolean;
}

export interface StudyClassifierSpec extends SliceEmbedding {
  arch: ResNetArch;
  variant?: ResNetVariant;
  normalization?: InputNormalization;
  mil: Omit<AttentionMilSpec, 'inFeatures'>;
}

/** Width of the embedding `stages` give for `body`: per stage, its channels twice (average and max). */
export function embeddingWidth(body: ResNet, stages: readonly number[]): number {
  const widths = body.stages.map((_, s) => (s === body.stages.length - 1 ? body.featureChannels : body.featureChannels >> (body.stages.length - 1 - s)));
  return stages.reduce((sum, s) => sum + 2 * widths[s - 1], 0);
}

/** Refuses pooled `stages` that are not among the stages run after the first `after` ones. */
export function checkPooledStages(body: ResNet, stages: readonly number[], after: number): void {
  if (!stages.length || stages.some((s) => !Number.isInteger(s) || s <= after || s > body.stages.length)) {
    throw new RangeError(`embedding stages must be among ${after + 1}..${body.stages.length}, got [${stages.join(', ')}]`);
  }
}

/** The feature map after the stem and the first `count` stages of `body` (count 0: the stem's), of RGB slices in [0, 1]. */
export function stageMaps(normalize: Normalize, body: ResNet, x: Tensor, count: number): Tensor {
  let out = body.stem(normalize.forward(x));
  for (let s = 0; s < count; s++) out = body.stages[s].forward(out);
  return out;
}

/**
 * The part of slice embedding that runs after the first `after` stages: the remaining stages up to the
 * last one pooled, and the pooling. A module, so that study-level training can fine-tune those stages on
 * cached maps of the frozen ones (its parameters are the body's own, shared with it).
 */
export class SliceEncoder extends nn.Module {
  constructor(readonly body: ResNet, readonly after: number, readonly stages: readonly number[]) {
    super();
    checkPooledStages(body, stages, after);
    for (let s = after; s < Math.max(...stages); s++) this.registerModule(`layer${s + 1}`, body.stages[s]);
  }

  /** Embeddings [N, width] of stage-`after` maps [N, C, H, W]. */
  forward(maps: Tensor): Tensor {
    let out = maps;
    const parts: Tensor[] = [];
    for (let s = this.after + 1; s <= Math.max(...this.stages); s++) {
      out = this.body.stages[s - 1].forward(out);
      if (this.stages.includes(s)) parts.push(F.adaptiveAvgPool2d(out, 1).flatten(1), F.adaptiveMaxPool2d(out, 1).flatten(1));
    }
    return Tensor.cat(parts, 1);
  }
}

/** Embeddings [N, width] of RGB slices [N, 3, H, W] in [0, 1]. */
export function embedSlices(normalize: Normalize, body: ResNet, x: Tensor, { stages, mirrorAverage }: SliceEmbedding): Tensor {
  const encoder = new SliceEncoder(body, 0, stages);
  const embed = (input: Tensor) => encoder.forward(stageMaps(normalize, body, input, 0));
  return mirrorAverage ? embed(x).add(embed(x.flip([3]))).mul(0.5) : embed(x);
}

export class StudyClassifier extends nn.Module {
  readonly spec: Required<Omit<StudyClassifierSpec, 'mil'>> & { mil: AttentionMilSpec };
  readonly normalize: Normalize;
  readonly body: ResNet;
  readonly mil: AttentionMil;

  /** A study classifier around an existing (e.g. pretrained) body and a trained head, or fresh ones. */
  constructor(spec: StudyClassifierSpec, parts: { normalize?: Normalize; body?: ResNet; mil?: AttentionMil } = {}) {
    super();
    const variant = spec.variant ?? TORCHVISION;
    this.normalize = this.registerModule('normalize', parts.normalize ?? new Normalize(spec.normalization ?? 'imagenet'));
    this.body = this.registerModule('body', parts.body ?? new ResNet(spec.arch, { numClasses: 0, variant }));
    const inFeatures = embeddingWidth(this.body, spec.stages);
    this.spec = { variant, normalization: spec.normalization ?? 'imagenet', ...spec, mil: { ...spec.mil, inFeatures } };
    if (parts.mil && parts.mil.spec.inFeatures !== inFeatures) throw new Error(`the study head takes ${parts.mil.spec.inFeatures} features, the body's stages [${spec.stages.join(', ')}] give ${inFeatures}`);
    this.mil = this.registerModule('mil', parts.mil ?? new AttentionMil(this.spec.mil));
  }

  /** Slice embeddings [S, width] of a study's slices [S, 3, H, W] in [0, 1]. */
  embed(slices: Tensor): Tensor {
    return embedSlices(this.normalize, this.body, slices, this.spec);
  }

  /** Study logits, slice logits and attention for a study's slices [S, 3, H, W]. */
  study(slices: Tensor): BagOutput {
    return this.mil.bag(this.embed(slices));
  }

  /** Study logits [1, C] of a study's slices [S, 3, H, W]. */
  forward(slices: Tensor): Tensor {
    return this.study(slices).study;
  }
}

/**
 * A study model seen as a slice classifier: each slice's own logits [N, C] from the study head (which
 * scores every slice alone before pooling), e.g. for Grad-CAM of one slice of a study.
 */
export class StudySliceScorer extends nn.Module {
  constructor(readonly study: StudyClassifier) {
    super();
    this.registerModule('study', study);
  }

  forward(slices: Tensor): Tensor {
    return this.study.study(slices).slices;
  }
}
