/**
 * Grad-CAM (Selvaraju et al. 2017) and Grad-CAM++ (Chattopadhay et al. 2018): where in the image a
 * convolutional layer's evidence for a class lies. The layer's activations A and the gradients dY/dA
 * of the class score are captured with a forward hook; Grad-CAM weights each channel by its mean
 * gradient, Grad-CAM++ by positive gradients weighted per pixel, and both keep the positive part. A
 * model that runs the layer more than once per input (a study model that also embeds a contrast-stretched
 * view of each slice) gets the sum of every pass's map before the positive part: the evidence of all
 * its views, which must be pixel-aligned with the input.
 */
import { Tensor, F, tidy, keep, dispose, nn } from '../torch/index.js';

export type CamMethod = 'gradcam' | 'gradcam++';

export interface CamResult {
  /** Heat map in 0..1 at the input's resolution, row-major (height x width). */
  heatmap: Float32Array;
  width: number;
  height: number;
  /** The class explained and its probability. */
  classIndex: number;
  probability: number;
}

/** Convolutional layers of a model by dotted name, for choosing the layer to explain. */
export function convLayers(model: nn.Module): string[] {
  return model
    .namedModules()
    .filter(([, m]) => m instanceof nn.Conv2d)
    .map(([name]) => name);
}

function moduleNamed(model: nn.Module, name: string): nn.Module {
  const found = model.namedModules().find(([n]) => n === name);
  if (!found) throw new Error(`no layer '${name}' in the model (convolutional layers: ${convLayers(model).slice(-3).join(', ')}, ...)`);
  return found[1];
}

/**
 * The class-activation map of `input` ([1, C, H, W] in the model's input space) for `classIndex`
 * (default: the predicted class), at layer `layer` (default: the last convolution).
 */
export function gradCam(
  model: nn.Module,
  input: Tensor,
  { layer, classIndex, method = 'gradcam' }: { layer?: string; classIndex?: number; method?: CamMethod } = {},
): CamResult {
  const target = moduleNamed(model, layer ?? convLayers(model).at(-1)!);
  const passes: Tensor[] = [];
  // Kept past the layer's container, which frees its intermediate outputs as it goes.
  const remove = target.registerForwardHook((out) => {
    passes.push(keep(out.retainGrad()));
  });
  const wasTraining = model.training;
  model.eval();
  try {
    return tidy(() => {
      const x = input.detach();
      x.requiresGrad = true; // so that the layer's output is in the graph even if the model is frozen
      const logits = model.forward(x);
      const p = logits.softmax(1).floats();
      const index = classIndex ?? p.indexOf(Math.max(...p));
      // The class score before softmax, as in the paper.
      logits.select(1, index).sum().backward();
      if (!passes.length || passes.some((a) => !a.grad)) throw new Error('Grad-CAM: the chosen layer did not take part in the forward pass');
      const maps = passes.map((a) => (method === 'gradcam' ? a.grad!.mean([2, 3], true) : plusPlusWeights(a, a.grad!)).mul(a).sum(1, true));
      const cam = maps.reduce((sum, map) => sum.add(map)).relu();
      const [height, width] = input.shape.slice(2);
      const up = F.interpolate(cam, [height, width], 'bilinear', false).reshape([height * width]);
      const max = up.max().item();
      const heatmap = max > 0 ? up.div(max).floats() : new Float32Array(height * width);
      return { heatmap, width, height, classIndex: index, probability: p[index] };
    });
  } finally {
    remove();
    dispose(passes);
    model.train(wasTraining);
  }
}

/** Grad-CAM++ channel weights: sum over pixels of alpha * relu(dY/dA), alpha = g^2 / (2g^2 + sum(A) g^3). */
function plusPlusWeights(a: Tensor, g: Tensor): Tensor {
  const g2 = g.pow(2);
  const g3 = g.pow(3);
  const sumA = a.sum([2, 3], true);
  const denominator = g2.mul(2).add(sumA.mul(g3));
  const safe = Tensor.where(denominator.eq(0), Tensor.ones([1]), denominator);
  const alpha = g2.div(safe);
  return alpha.mul(g.relu()).sum([2, 3], true);
}
