/**
 * The study-level classifier: a frozen (ImageNet) ResNet body embeds each slice, a study head turns a
 * study's slice embeddings into a study prediction and per-slice scores: attention-MIL pooling, or a
 * linear classifier of each slice averaged over the study. Slice embeddings are the feature maps after
 * chosen stages, globally average-pooled, or average- and max-pooled (fastai's concat pooling), per stage.
 */
import { F, Tensor, nn, tidy } from '../torch/index.js';
import { ResNet, TORCHVISION, type ResNetArch, type ResNetVariant } from './resnet.js';
import { Normalize, type InputNormalization } from './normalize.js';
import { AttentionMil, type AttentionMilSpec, type BagOutput } from './attention-mil.js';
import { LinearMeanHead, type LinearMeanHeadSpec } from './linear-mean-head.js';

/** Global pooling of each embedded stage: its average, or its average and its maximum side by side. */
export type SlicePooling = 'avg' | 'avg-max';

/** How slices are embedded. */
export interface SliceEmbedding {
  /** ResNet stages (1-4) whose pooled outputs are concatenated (e.g. [4]). */
  stages: number[];
  /** Default 'avg-max'. */
  pooling?: SlicePooling;
  /**
   * Grey ranges [low, high] of the prepared slice (0..1), each stretched to the full range and embedded
   * beside the slice itself (default none). On brain-windowed slices a narrow range is a "stroke window",
   * as radiologists narrow the window to see the slight hypodensity of early ischaemia (Lev et al.,
   * Radiology 1999).
   */
  stretchedViews?: readonly (readonly [number, number])[];
}

/** A head that turns a study's slice features [S, F] into study and slice logits. */
export type StudyHead = AttentionMil | LinearMeanHead;

/** Exactly one head: `mil` (attention-MIL) or `linear` (linear per slice, averaged). */
export interface StudyClassifierSpec extends SliceEmbedding {
  arch: ResNetArch;
  variant?: ResNetVariant;
  normalization?: InputNormalization;
  mil?: Omit<AttentionMilSpec, 'inFeatures'>;
  linear?: Omit<LinearMeanHeadSpec, 'inFeatures'>;
}

/** Classes a study classifier spec predicts. */
export function studyClasses(spec: Pick<StudyClassifierSpec, 'mil' | 'linear'>): number {
  return (spec.mil ?? spec.linear)!.numClasses;
}

/** Width of the embedding `stages` give for `body`: per stage, its channels (twice with 'avg-max'), once per view (the slice and its stretched views). */
export function embeddingWidth(body: ResNet, stages: readonly number[], pooling: SlicePooling = 'avg-max', stretchedViews = 0): number {
  const widths = body.stages.map((_, s) => (s === body.stages.length - 1 ? body.featureChannels : body.featureChannels >> (body.stages.length - 1 - s)));
  return (1 + stretchedViews) * stages.reduce((sum, s) => sum + (pooling === 'avg' ? 1 : 2) * widths[s - 1], 0);
}

/** `x` (in 0..1) with grey levels low..high stretched to 0..1, clipped outside. */
export function stretchContrast(x: Tensor, [low, high]: readonly [number, number]): Tensor {
  if (!(low >= 0 && high <= 1 && low < high)) throw new RangeError(`a stretched view needs 0 <= low < high <= 1, got [${low}, ${high}]`);
  return x
    .sub(low)
    .div(high - low)
    .clamp(0, 1);
}

/** Refuses pooled `stages` that are not among the stages run after the first `after` ones. */
export function checkPooledStages(body: ResNet, stages: readonly number[], after: number): void {
  if (!stages.length || stages.some((s) => !Number.isInteger(s) || s <= after || s > body.stages.length)) {
    throw new RangeError(`embedding stages must be among ${after + 1}..${body.stages.length}, got [${stages.join(', ')}]`);
  }
}

/** The feature map after the stem and the first `count` stages of `body` (count 0: the stem's), of RGB slices in [0, 1]. */
export function stageMaps(normalize: Normalize, body: ResNet, x: Tensor, count: number): Tensor {
  return tidy(() => nn.forwardInOrder(body.stem(normalize.forward(x)), body.stages.slice(0, count)));
}

/**
 * The part of slice embedding that runs after the first `after` stages: the remaining stages up to the
 * last one pooled, and the pooling. A module, so that study-level training can fine-tune those stages on
 * cached maps of the frozen ones (its parameters are the body's own, shared with it).
 */
export class SliceEncoder extends nn.Module {
  constructor(
    readonly body: ResNet,
    readonly after: number,
    readonly stages: readonly number[],
    readonly pooling: SlicePooling = 'avg-max',
  ) {
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
      if (!this.stages.includes(s)) continue;
      parts.push(F.adaptiveAvgPool2d(out, 1).flatten(1));
      if (this.pooling === 'avg-max') parts.push(F.adaptiveMaxPool2d(out, 1).flatten(1));
    }
    return Tensor.cat(parts, 1);
  }
}

/** Embeddings [N, width] of RGB slices [N, 3, H, W] in [0, 1]: the slice's, then each stretched view's. */
export function embedSlices(normalize: Normalize, body: ResNet, x: Tensor, { stages, pooling, stretchedViews = [] }: SliceEmbedding): Tensor {
  const encoder = new SliceEncoder(body, 0, stages, pooling);
  const embed = (view: Tensor) => encoder.forward(stageMaps(normalize, body, view, 0));
  if (!stretchedViews.length) return embed(x);
  return Tensor.cat([x, ...stretchedViews.map((range) => stretchContrast(x, range))].map(embed), 1);
}

export class StudyClassifier extends nn.Module {
  readonly spec: Required<Omit<StudyClassifierSpec, 'mil' | 'linear'>> & { mil?: AttentionMilSpec; linear?: LinearMeanHeadSpec };
  readonly normalize: Normalize;
  readonly body: ResNet;
  readonly head: StudyHead;

  /** A study classifier around an existing (e.g. pretrained) body and a trained head, or fresh ones. */
  constructor(spec: StudyClassifierSpec, parts: { normalize?: Normalize; body?: ResNet; head?: StudyHead } = {}) {
    super();
    if (!spec.mil === !spec.linear) throw new Error('a study classifier has one head: mil (attention) or linear');
    const variant = spec.variant ?? TORCHVISION;
    this.normalize = this.registerModule('normalize', parts.normalize ?? new Normalize(spec.normalization ?? 'imagenet'));
    this.body = this.registerModule('body', parts.body ?? new ResNet(spec.arch, { numClasses: 0, variant }));
    const pooling = spec.pooling ?? 'avg-max';
    const stretchedViews = spec.stretchedViews ?? [];
    const inFeatures = embeddingWidth(this.body, spec.stages, pooling, stretchedViews.length);
    const { mil, linear, ...embedding } = spec;
    this.spec = {
      ...embedding,
      variant,
      normalization: spec.normalization ?? 'imagenet',
      pooling,
      stretchedViews,
      ...(mil ? { mil: { ...mil, inFeatures } } : { linear: { ...linear!, inFeatures } }),
    };
    if (parts.head && parts.head.spec.inFeatures !== inFeatures)
      throw new Error(`the study head takes ${parts.head.spec.inFeatures} features, the body's stages [${spec.stages.join(', ')}] give ${inFeatures}`);
    // Registered under its kind's name, so that a file's weights say which head they are.
    this.head = spec.mil
      ? this.registerModule('mil', parts.head ?? new AttentionMil({ ...spec.mil, inFeatures }))
      : this.registerModule('linear', parts.head ?? new LinearMeanHead({ ...spec.linear!, inFeatures }));
  }

  /** Slice embeddings [S, width] of a study's slices [S, 3, H, W] in [0, 1]. */
  embed(slices: Tensor): Tensor {
    return embedSlices(this.normalize, this.body, slices, this.spec);
  }

  /** Study logits, slice logits and attention for a study's slices [S, 3, H, W]. */
  study(slices: Tensor): BagOutput {
    return this.head.bag(this.embed(slices));
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
