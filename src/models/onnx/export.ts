/**
 * findstroke's classifiers as ONNX graphs, written module by module as their forward passes compute them in
 * evaluation mode: each batch norm folded into the convolution before it (nn.foldedConvolution, as libtorch folds
 * them for the predictors) or, in the fastai head, into the Linear after it; dropout left out. The graph takes RGB
 * slices in 0..1 [batch, 3, size, size], a batch dimension named at run time, and normalises them itself.
 */
import { Tensor, inferenceMode, nn, tidy } from '../../torch/index.js';
import { VisionClassifier } from '../classifier.js';
import { LinearMeanHead } from '../linear-mean-head.js';
import { Normalize } from '../normalize.js';
import { BasicBlock, Bottleneck, ResNet } from '../resnet.js';
import { StudySliceScorer, type StudyClassifier } from '../study-classifier.js';
import { OnnxGraph, type OnnxValue } from './graph.js';

/** The graph's input: RGB slices in 0..1, [batch, 3, size, size]. */
export const ONNX_INPUT = 'image';
/** The graph's outputs, [batch, classes] each: every slice's logits and their softmax. */
export const ONNX_OUTPUTS = { logits: 'logits', probabilities: 'probabilities' } as const;

/** A model's graph with its input and outputs, ready for OnnxGraph.encode. */
export interface OnnxClassifier {
  graph: OnnxGraph;
  inputs: OnnxValue[];
  outputs: OnnxValue[];
  /** The normalisation the graph applies to its input (none for a bare ImageNet-style ResNet, which takes normalised input). */
  normalize?: Normalize;
}

/**
 * The ONNX graph of a slice classifier (VisionClassifier), of a linear study model read as its slice scorer
 * (StudySliceScorer: each slice's own logits, before the study's pooling) or of an ImageNet-style ResNet, on
 * `size`-pixel input. Throws for any other model, naming what it is.
 */
export function classifierGraph(model: nn.Module, size: number): OnnxClassifier {
  const writer = new GraphWriter(model);
  const logits = inferenceMode(() => tidy(() => writer.logits(ONNX_INPUT)));
  writer.graph.node('Softmax', [logits.name], { axis: 1 }, ONNX_OUTPUTS.probabilities);
  const outputs = Object.values(ONNX_OUTPUTS).map((name) => ({ name, shape: ['batch', logits.classes] }));
  return { graph: writer.graph, inputs: [{ name: ONNX_INPUT, shape: ['batch', 3, size, size] }], outputs, normalize: writer.normalization };
}

class GraphWriter {
  readonly graph = new OnnxGraph();
  /** Each module's dotted name in the model, to name its weights. */
  readonly #names: Map<nn.Module, string>;
  /** The initializers written per module (a study's body runs once per view; its weights are written once). */
  readonly #written = new Map<nn.Module, string[]>();
  /** The normalisation the graph applies to its input, once written. */
  normalization: Normalize | undefined;

  constructor(readonly model: nn.Module) {
    this.#names = new Map(model.namedModules().map(([name, module]) => [module, name]));
  }

  /** The model's logits of `x`, as the output named 'logits', and how many classes they have. */
  logits(x: string): { name: string; classes: number } {
    const { model } = this;
    if (model instanceof VisionClassifier) {
      const features = this.#resnetStages(this.#normalize(x, model.normalize), model.body, model.body.stages.length).pop()!;
      return { name: this.#head(features, model.head.layers), classes: model.spec.numClasses };
    }
    if (model instanceof StudySliceScorer) return this.#studySlices(x, model.study);
    if (model instanceof ResNet && model.fc) {
      const pooled = this.graph.node('Flatten', [this.graph.node('GlobalAveragePool', [this.#resnetStages(x, model, 4).pop()!])], { axis: 1 });
      return { name: this.#linear(pooled, model.fc, undefined, ONNX_OUTPUTS.logits), classes: model.fc.weight.shape[0] };
    }
    throw new Error(`a ${model.constructor.name} has no ONNX export (slice classifiers, linear study models and ResNets have)`);
  }

  /** A linear study model's slice logits: each view's pooled stage features, side by side, standardised and through its linear classifier. */
  #studySlices(x: string, study: StudyClassifier): { name: string; classes: number } {
    const head = study.head;
    if (!(head instanceof LinearMeanHead))
      throw new Error('an attention-MIL study model has no ONNX export yet (its slices are pooled by learnt attention); linear study models have');
    const { stages, pooling, stretchedViews } = study.spec;
    const views = [x, ...stretchedViews.map(([low, high]) => this.#stretchContrast(x, low, high))];
    const embeddings = views.map((view) => {
      const maps = this.#resnetStages(this.#normalize(view, study.normalize), study.body, Math.max(...stages));
      return this.#concat(
        stages.flatMap((stage) => {
          const pools = pooling === 'avg-max' ? ['GlobalAveragePool', 'GlobalMaxPool'] : ['GlobalAveragePool'];
          return pools.map((pool) => this.graph.node('Flatten', [this.graph.node(pool, [maps[stage - 1]])], { axis: 1 }));
        }),
      );
    });
    const [mean, std] = this.#constants(head, () => [
      ['feature_mean', head.featureMean],
      ['feature_std', head.featureStd],
    ]);
    const standardized = this.graph.node('Div', [this.graph.node('Sub', [this.#concat(embeddings), mean]), std]);
    return { name: this.#linear(standardized, head.classify, undefined, ONNX_OUTPUTS.logits), classes: head.spec.numClasses };
  }

  /** stretchContrast: grey levels low..high of `x` stretched to 0..1, clipped outside. */
  #stretchContrast(x: string, low: number, high: number): string {
    const scalar = (name: string, value: number) => this.graph.initializer(name, [], Float32Array.of(value));
    const stretched = this.graph.node('Div', [this.graph.node('Sub', [x, scalar('stretch_low', low)]), scalar('stretch_span', high - low)]);
    return this.graph.node('Clip', [stretched, scalar('zero', 0), scalar('one', 1)]);
  }

  #normalize(x: string, normalize: Normalize): string {
    this.normalization = normalize;
    const [mean, std] = this.#constants(normalize, () => [
      ['mean', normalize.mean],
      ['std', normalize.std],
    ]);
    const ordered = normalize.bgr ? this.graph.node('Gather', [x, this.graph.initializer('rgb_to_bgr', [3], BigInt64Array.of(2n, 1n, 0n))], { axis: 1 }) : x;
    return this.graph.node('Div', [this.graph.node('Sub', [ordered, mean]), std]);
  }

  /** The output of each of the first `count` stages of `body` (after its stem). */
  #resnetStages(x: string, body: ResNet, count: number): string[] {
    const stem = this.graph.node('Relu', [this.#convolution(x, body.conv1, body.bn1)]);
    let out = this.graph.node('MaxPool', [stem], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] });
    return body.stages.slice(0, count).map((stage) => {
      for (const block of stage.layers) out = this.#block(out, block);
      return out;
    });
  }

  #block(x: string, block: nn.Module): string {
    if (!(block instanceof BasicBlock || block instanceof Bottleneck))
      throw new Error(`a ResNet stage holds a ${block.constructor.name}, which has no ONNX export`);
    const convolutions: [nn.Conv2d, nn.BatchNorm][] = [
      [block.conv1, block.bn1],
      [block.conv2, block.bn2],
      ...(block instanceof Bottleneck ? [[block.conv3, block.bn3] as [nn.Conv2d, nn.BatchNorm]] : []),
    ];
    let out = x;
    convolutions.forEach(([conv, bn], i) => {
      out = this.#convolution(out, conv, bn);
      if (i < convolutions.length - 1) out = this.graph.node('Relu', [out]);
    });
    const [projection, projectionBn] = (block.downsample?.layers ?? []) as [nn.Conv2d?, nn.BatchNorm?];
    const shortcut = projection && projectionBn ? this.#convolution(x, projection, projectionBn) : x;
    return this.graph.node('Relu', [this.graph.node('Add', [out, shortcut])]);
  }

  /** `conv` with `bn` folded into it (nn.foldedConvolution, as the predictors fold it). */
  #convolution(x: string, conv: nn.Conv2d, bn: nn.BatchNorm): string {
    const [weight, bias] = this.#constants(conv, () => {
      const folded = nn.foldedConvolution(conv, bn);
      return [
        ['weight', folded.weight],
        ['bias', folded.bias],
      ];
    });
    const { stride, padding, dilation, groups } = conv.options;
    const kernel = conv.weight.shape.slice(2);
    return this.graph.node('Conv', [x, weight, bias], {
      kernel_shape: kernel,
      strides: [stride, stride],
      pads: [padding, padding, padding, padding],
      dilations: [dilation, dilation],
      group: groups,
    });
  }

  /** fastai's head: pooling, flattening and Linear layers, a batch norm before a Linear folded into it, dropout left out (evaluation). */
  #head(x: string, layers: readonly nn.Module[]): string {
    let out = x;
    let batchNorm: nn.BatchNorm | undefined;
    layers.forEach((layer, i) => {
      if (layer instanceof nn.Dropout) return;
      if (batchNorm && !(layer instanceof nn.Linear)) throw new Error(`a batch norm before a ${layer.constructor.name} in the head, which has no ONNX export`);
      if (layer instanceof nn.BatchNorm) batchNorm = layer;
      else if (layer instanceof nn.Linear) {
        out = this.#linear(out, layer, batchNorm, i === layers.length - 1 ? ONNX_OUTPUTS.logits : undefined);
        batchNorm = undefined;
      } else if (layer instanceof nn.AdaptiveConcatPool2d && layer.size === 1)
        out = this.#concat([this.graph.node('GlobalMaxPool', [out]), this.graph.node('GlobalAveragePool', [out])]);
      else if (layer instanceof nn.Flatten) out = this.graph.node('Flatten', [out], { axis: 1 });
      else if (layer instanceof nn.ReLU) out = this.graph.node('Relu', [out]);
      else throw new Error(`the head's ${layer.constructor.name} has no ONNX export`);
    });
    if (out !== ONNX_OUTPUTS.logits) throw new Error(`the head ends in a ${layers.at(-1)?.constructor.name}; its ONNX export needs it to end in a Linear`);
    return out;
  }

  /**
   * `linear` (Gemm, weight transposed) of `x`; with `batchNorm` (evaluation mode: x * s + t) folded in:
   * W (x s + t) + b = (W s) x + (W t + b).
   */
  #linear(x: string, linear: nn.Linear, batchNorm: nn.BatchNorm | undefined, output?: string): string {
    const constants = this.#constants(linear, () => {
      if (!batchNorm) return [['weight', linear.weight], ...(linear.bias ? [['bias', linear.bias] as [string, Tensor]] : [])];
      const scale = batchNorm.weight.div(batchNorm.runningVar.add(batchNorm.eps).sqrt());
      const shift = batchNorm.bias.sub(batchNorm.runningMean.mul(scale));
      const bias = linear.weight.matmul(shift.reshape([-1, 1])).flatten();
      return [
        ['weight', linear.weight.mul(scale.reshape([1, -1]))],
        ['bias', linear.bias ? bias.add(linear.bias) : bias],
      ];
    });
    return this.graph.node('Gemm', [x, ...constants], { transB: 1 }, output);
  }

  #concat(parts: string[]): string {
    return parts.length === 1 ? parts[0] : this.graph.node('Concat', parts, { axis: 1 });
  }

  /** The initializers of `module`'s constants, named after it, written the first time it is met. */
  #constants(module: nn.Module, tensors: () => [string, Tensor][]): string[] {
    let names = this.#written.get(module);
    if (!names) {
      const prefix = this.#names.get(module);
      names = tensors().map(([name, t]) => this.graph.initializer(prefix ? `${prefix}.${name}` : name, t.shape, t.floats()));
      this.#written.set(module, names);
    }
    return names;
  }
}
