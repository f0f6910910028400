/**
 * A model's forward pass compiled for inference by libtorch's TorchScript, as PyTorch users compile one with
 * torch.jit.trace, torch.jit.freeze and torch.jit.optimize_for_inference: traced into a graph that holds the
 * weights as constants, then dropout removed, each batch norm folded into the convolution before it, and the
 * convolutions run by oneDNN on its blocked layout with prepacked weights. Faster than the same eager pass
 * (bench:engine; docs/engine.md).
 */
import { native, type GraphHandle } from '../native.js';
import { inferenceMode, noGrad, withAutocast } from '../runtime.js';
import { tidy } from '../scope.js';
import type { DType } from '../host.js';
import { Tensor } from '../tensor.js';
import type { Module } from './module.js';

/**
 * Outputs this far apart, relative to their size, mean the graph computes something else than the forward pass.
 * Under bfloat16 autocast the graph's folded convolutions hold their weights in bfloat16 (8 significant bits),
 * which moves outputs by about one of its steps (0.6 % on a ResNet-50): the bound is a few of them.
 */
const TOLERANCE = { float32: 1e-3, reduced: 3e-2 };

export interface InferenceGraphOptions {
  /** Compute under autocast in this reduced precision ('bfloat16'), as the eager pass would inside withAutocast. */
  autocast?: DType;
}

/** Each model's graphs by the name of what they compute, so that everything predicting with a model shares them. */
const byModel = new WeakMap<Module, Map<string, InferenceGraph>>();

/** Frees the graphs compiled for `model` (Module.dispose calls it: they hold copies of its weights). */
export function disposeGraphsOf(model: Module): void {
  for (const graph of byModel.get(model)?.values() ?? []) graph.dispose();
  byModel.delete(model);
}

export class InferenceGraph {
  readonly #graphs = new Map<string, GraphHandle>();
  /** The versions of the model's weights and statistics when the graphs were compiled. */
  #compiledAt = '';
  /** Why the forward pass cannot be compiled, once a trace failed: it then runs eagerly. */
  #untraceable?: string;

  /**
   * `forward` computes one tensor from a batch through `model` (in evaluation mode). Nothing is compiled until
   * the first `run`.
   */
  constructor(
    readonly model: Module,
    readonly forward: (x: Tensor) => Tensor,
    readonly options: InferenceGraphOptions = {},
  ) {}

  /**
   * The graph of `model` named `name` (e.g. 'forward'), made with `forward` the first time it is asked for: one
   * per model, name and precision, so that every predictor of a model shares the graphs compiled for it.
   */
  static of(model: Module, name: string, forward: (x: Tensor) => Tensor, options: InferenceGraphOptions = {}): InferenceGraph {
    const graphs = byModel.get(model) ?? new Map<string, InferenceGraph>();
    byModel.set(model, graphs);
    const key = `${name} ${options.autocast ?? 'float32'}`;
    const graph = graphs.get(key) ?? new InferenceGraph(model, forward, options);
    graphs.set(key, graph);
    return graph;
  }

  /**
   * `forward(x)` under inference mode, computed by the graph compiled for inputs like `x`. A graph is compiled at
   * the first input of its shape (without its batch size where the graph gives every batch size the eager pass's
   * result) and again after any weight or statistic of the model changed. A forward pass that cannot be traced
   * (it reads tensor values, so its graph would compute with the traced input's) or whose graph computes
   * something else than it runs eagerly: see `untraceable`. With `autocast`, the forward pass is traced under
   * autocast: the graph computes in that precision, with the weights it holds already cast.
   */
  run(x: Tensor): Tensor {
    if (this.model.namedModules().some(([, m]) => m.training))
      throw new Error('InferenceGraph: the model must be in evaluation mode (call model.eval() first): a graph holds batch norm statistics fixed');
    if (this.#untraceable) return inferenceMode(() => this.#eager(x));
    this.#dropIfChanged();
    const kind = `${x.dtype} ${x.device} ${x.shape.slice(1).join('x')}`;
    const graph = this.#graphs.get(kind) ?? this.#graphs.get(`${kind} batch ${x.shape[0]}`);
    if (graph) return inferenceMode(() => new Tensor(native.jitRun(graph, x.handle)));
    const compiled = this.#compile(x, kind);
    if (compiled) return compiled;
    try {
      return inferenceMode(() => this.#eager(x));
    } catch (e) {
      // The forward pass fails eagerly too (a bad input): its own error, and the next input is traced again.
      this.#untraceable = undefined;
      throw e;
    }
  }

  /** Why the forward pass runs eagerly, or undefined while it is compiled. */
  get untraceable(): string | undefined {
    return this.#untraceable;
  }

  /** The compiled graphs in TorchScript's notation, one per input kind: which operations they run. */
  graphs(): string[] {
    return [...this.#graphs.values()].map((g) => native.jitGraphText(g));
  }

  /** Frees the compiled graphs (their copies of the weights); the next `run` compiles again. */
  dispose(): void {
    for (const graph of this.#graphs.values()) native.jitDispose(graph);
    this.#graphs.clear();
  }

  /** The forward pass as it runs uncompiled: under autocast where the graph computes in reduced precision. */
  #eager(x: Tensor): Tensor {
    const { autocast } = this.options;
    return autocast ? withAutocast(() => this.forward(x), autocast) : this.forward(x);
  }

  #dropIfChanged(): void {
    const tensors = [...this.model.parameters(), ...this.model.namedBuffers().map(([, b]) => b)];
    const version = tensors.map((t) => t.version).join();
    if (version === this.#compiledAt) return;
    this.dispose();
    this.#compiledAt = version;
  }

  /** Compiles the graph for inputs like `x` and returns its output for `x`, or undefined where the forward pass cannot be compiled. */
  #compile(x: Tensor, kind: string): Tensor | undefined {
    // The tracer bakes tensors outside the input into the graph as constants, which it refuses for ones requiring grad.
    const requiring = this.model.parameters().filter((p) => p.requiresGrad);
    for (const p of requiring) p.requiresGrad = false;
    try {
      const { graph, eager } = tidy(() => {
        let eager: Tensor | undefined;
        const graph = noGrad(() => native.jitTrace(x.handle, () => (eager = this.#eager(x)).handle));
        return { graph, eager: eager! };
      });
      const output = inferenceMode(() => new Tensor(native.jitRun(graph, x.handle)));
      const difference = tidy(() => relativeDifference(eager, output));
      eager.dispose();
      if (difference > this.#tolerance) {
        native.jitDispose(graph);
        output.dispose();
        this.#untraceable = 'its compiled graph computes something else than the forward pass';
        return undefined;
      }
      this.#graphs.set(this.#anyBatch(graph, x, output) ? kind : `${kind} batch ${x.shape[0]}`, graph);
      return output;
    } catch (e) {
      this.#untraceable = (e as Error).message;
      return undefined;
    } finally {
      for (const p of requiring) p.requiresGrad = true;
    }
  }

  get #tolerance(): number {
    return this.options.autocast ? TOLERANCE.reduced : TOLERANCE.float32;
  }

  /** Whether `graph` gives a batch one image larger the same result for the images of `x`: no batch size was traced into it. */
  #anyBatch(graph: GraphHandle, x: Tensor, compiled: Tensor): boolean {
    return tidy(() => {
      try {
        const wider = inferenceMode(() => new Tensor(native.jitRun(graph, Tensor.cat([x, x.slice(0, 0, 1)]).handle)));
        return wider.shape[0] === x.shape[0] + 1 && relativeDifference(compiled, wider.slice(0, 0, x.shape[0])) <= this.#tolerance;
      } catch {
        return false;
      }
    });
  }
}

/** The largest difference between `a` and `b`, relative to the largest magnitude in `a`. */
function relativeDifference(a: Tensor, b: Tensor): number {
  if (a.shape.join() !== b.shape.join()) return Infinity;
  const scale = a.abs().max().item();
  return a.sub(b).abs().max().item() / (scale || 1);
}
