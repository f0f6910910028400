/**
 * `Module`: a layer or model with named parameters, buffers and child modules, as PyTorch's nn.Module.
 * Names follow PyTorch's dotted convention ("layer1.0.conv1.weight") so that state dicts match
 * torchvision's and can be imported without renaming.
 */
import { keep, tidy } from '../scope.js';
import { Tensor, type Device, type MemoryFormat } from '../tensor.js';
import type { HostTensor } from '../host.js';
import { noGrad } from '../runtime.js';
import { disposeGraphsOf } from './compile.js';

export interface LoadReport {
  /** Names the model has but the state did not provide. */
  missing: string[];
  /** Names the state provided but the model does not have. */
  unexpected: string[];
}

export abstract class Module {
  /** Training mode (dropout active, batch-norm statistics updated) or evaluation mode. */
  training = true;
  readonly #parameters = new Map<string, Tensor>();
  readonly #buffers = new Map<string, Tensor>();
  readonly #children = new Map<string, Module>();

  abstract forward(x: Tensor): Tensor;

  /** Registers a trainable tensor; the module owns it from now on. */
  protected registerParameter(name: string, tensor: Tensor): Tensor {
    keep(tensor);
    tensor.requiresGrad = true;
    this.#parameters.set(name, tensor);
    return tensor;
  }

  /** Registers state that is saved with the model but not trained (e.g. running statistics). */
  protected registerBuffer(name: string, tensor: Tensor): Tensor {
    keep(tensor);
    this.#buffers.set(name, tensor);
    return tensor;
  }

  protected registerModule<M extends Module>(name: string, module: M): M {
    this.#children.set(name, module);
    return module;
  }

  /** Direct children with their names. */
  namedChildren(): [string, Module][] {
    return [...this.#children];
  }

  /** This module and all its descendants, with dotted names ('' for this one). */
  namedModules(prefix = ''): [string, Module][] {
    const out: [string, Module][] = [[prefix, this]];
    for (const [name, child] of this.#children) out.push(...child.namedModules(prefix ? `${prefix}.${name}` : name));
    return out;
  }

  namedParameters(): [string, Tensor][] {
    return this.#collect((m) => m.#parameters);
  }

  parameters(): Tensor[] {
    return this.namedParameters().map(([, t]) => t);
  }

  namedBuffers(): [string, Tensor][] {
    return this.#collect((m) => m.#buffers);
  }

  #collect(pick: (m: Module) => Map<string, Tensor>): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [prefix, module] of this.namedModules()) {
      for (const [name, t] of pick(module)) out.push([prefix ? `${prefix}.${name}` : name, t]);
    }
    return out;
  }

  /** Parameters and buffers by name (live references, not copies). */
  stateDict(): Map<string, Tensor> {
    return new Map([...this.namedParameters(), ...this.namedBuffers()]);
  }

  /**
   * Copies `state` into this module's parameters and buffers. Shapes must match; with `strict` (the
   * default) a missing or unexpected name is an error too. The error lists every problem at once.
   */
  loadStateDict(state: Map<string, HostTensor | Tensor>, { strict = true } = {}): LoadReport {
    const own = this.stateDict();
    const missing = [...own.keys()].filter((k) => !state.has(k));
    const unexpected = [...state.keys()].filter((k) => !own.has(k));
    const mismatched: string[] = [];
    for (const [name, target] of own) {
      const source = state.get(name);
      if (!source) continue;
      const shape = source instanceof Tensor ? source.shape : source.shape;
      if (shape.join() !== target.shape.join()) mismatched.push(`${name}: model [${target.shape}] vs state [${shape}]`);
    }
    const problems = [
      ...mismatched.map((m) => `shape mismatch ${m}`),
      ...(strict ? missing.map((k) => `missing ${k}`) : []),
      ...(strict ? unexpected.map((k) => `unexpected ${k}`) : []),
    ];
    if (problems.length) {
      const shown = problems.slice(0, 12).join('; ');
      throw new Error(`cannot load state dict: ${shown}${problems.length > 12 ? ` (and ${problems.length - 12} more)` : ''}`);
    }
    noGrad(() => {
      for (const [name, target] of own) {
        const source = state.get(name);
        if (!source) continue;
        if (source instanceof Tensor) {
          target.copy_(source);
        } else {
          const t = Tensor.fromHost(source);
          target.copy_(t);
          t.dispose();
        }
      }
    });
    return { missing, unexpected };
  }

  /** Sets training mode on this module and all descendants. */
  train(on = true): this {
    for (const [, m] of this.namedModules()) m.training = on;
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  /** Marks every parameter trainable (`on`) or frozen. */
  setRequiresGrad(on: boolean): this {
    for (const p of this.parameters()) p.requiresGrad = on;
    return this;
  }

  /** Moves parameters and buffers to `device` in place (see `#convert`). */
  to(device: Device): this {
    return this.#convert(
      (t) => t.device !== device,
      (t) => t.to(device),
    );
  }

  /**
   * Lays out every 4-D parameter and buffer (convolution weights) in `format` in place, as PyTorch's
   * `module.to(memory_format=...)`: a convolution then computes in the layout of its weights. See `#convert`.
   */
  toMemoryFormat(format: MemoryFormat): this {
    return this.#convert(
      (t) => t.ndim === 4 && !t.isContiguous(format),
      (t) => t.contiguous(format),
    );
  }

  /**
   * Replaces the data of each parameter and buffer that `needs` it by `convert`'s result, keeping the tensor
   * itself: an optimiser holding it updates the converted data, and state it creates from now on (Adam's
   * moments) takes the new layout. State it already holds keeps the old one. A parameter's gradient is
   * converted with it (as PyTorch's Module._apply does): left behind, the next backward pass accumulates
   * into a gradient whose layout no longer matches, which libtorch warns of on stderr.
   */
  #convert(needs: (t: Tensor) => boolean, convert: (t: Tensor) => Tensor): this {
    noGrad(() => {
      for (const [, t] of [...this.namedParameters(), ...this.namedBuffers()])
        if (needs(t))
          tidy(() => {
            t.setData(convert(t));
            const grad = t.grad;
            if (grad && needs(grad)) grad.setData(convert(grad));
          });
    });
    return this;
  }

  /** Number of parameter elements (trainable only with `trainableOnly`). */
  countParameters(trainableOnly = false): number {
    return this.parameters()
      .filter((p) => !trainableOnly || p.requiresGrad)
      .reduce((n, p) => n + p.numel, 0);
  }

  /**
   * Calls `hook` with this module's output and input after every forward pass (PyTorch's
   * register_forward_hook), e.g. to keep a convolution's activations for Grad-CAM. A hook that holds on to
   * `output` past the forward pass must `keep` it (and dispose of it later): containers free their intermediate
   * outputs as they go. Returns a function that removes the hook.
   */
  registerForwardHook(hook: (output: Tensor, input: Tensor) => void): () => void {
    const previous = this.forward;
    const hooked = (x: Tensor): Tensor => {
      const out = previous.call(this, x);
      hook(out, x);
      return out;
    };
    this.forward = hooked;
    return () => {
      if (this.forward !== hooked) return;
      if (previous === Object.getPrototypeOf(this).forward) delete (this as { forward?: unknown }).forward;
      else this.forward = previous;
    };
  }

  /** Frees every parameter and buffer now, and the graphs compiled for inference from them. */
  dispose(): void {
    disposeGraphsOf(this);
    for (const [, t] of [...this.namedParameters(), ...this.namedBuffers()]) t.dispose();
  }
}
