/**
 * Optimisers (libtorch's AdamW and SGD) over parameter groups. Schedulers change each group's learning
 * rate, momentum and weight decay between steps through `setHyper`; the update itself runs in libtorch.
 */
import { native, type Handle, type NativeParamState, type OptimizerHandle } from './native.js';
import { Tensor } from './tensor.js';

/** Hyper-parameters a schedule may change between steps. `momentum` is beta1 for Adam-type optimisers. */
export interface Hyper {
  lr: number;
  momentum: number;
  weightDecay: number;
}

export interface ParamGroup extends Partial<Hyper> {
  params: Tensor[];
}

export interface AdamWOptions extends Partial<Hyper> {
  beta2?: number;
  eps?: number;
}

export interface SGDOptions extends Partial<Hyper> {
  nesterov?: boolean;
}

/** One parameter's optimiser state. */
export interface ParamState {
  /** AdamW: the parameter's update count, on which its bias correction depends. */
  step?: number;
  /** AdamW: exp_avg, exp_avg_sq; SGD: momentum_buffer. */
  tensors: Record<string, Tensor>;
}

export class Optimizer {
  readonly #handle: OptimizerHandle;
  readonly #kind: 'adamw' | 'sgd';
  /** Current hyper-parameters of each group, in group order. */
  readonly hypers: Hyper[];
  readonly groups: ParamGroup[];

  private constructor(kind: 'adamw' | 'sgd', groups: ParamGroup[], defaults: Hyper, extra: Record<string, number | boolean>) {
    const empty = groups.findIndex((g) => g.params.length === 0);
    if (empty >= 0) throw new Error(`optimizer parameter group ${empty} has no parameters`);
    this.#kind = kind;
    this.groups = groups;
    this.hypers = groups.map((g) => ({
      lr: g.lr ?? defaults.lr,
      momentum: g.momentum ?? defaults.momentum,
      weightDecay: g.weightDecay ?? defaults.weightDecay,
    }));
    this.#handle = native.optimizer(
      kind,
      groups.map((g, i) => ({ params: g.params.map((p) => p.handle), ...this.#nativeHyper(this.hypers[i]), ...extra })),
    );
  }

  /**
   * AdamW with decoupled weight decay (fastai's Adam with true_wd). Defaults are fastai's: betas
   * (0.9, 0.99), eps 1e-5, weight decay 0.01.
   */
  static adamW(groups: ParamGroup[], o: AdamWOptions = {}): Optimizer {
    return new Optimizer(
      'adamw',
      groups,
      { lr: o.lr ?? 1e-3, momentum: o.momentum ?? 0.9, weightDecay: o.weightDecay ?? 0.01 },
      { beta2: o.beta2 ?? 0.99, eps: o.eps ?? 1e-5 },
    );
  }

  /** SGD with momentum and (coupled, L2) weight decay. */
  static sgd(groups: ParamGroup[], o: SGDOptions = {}): Optimizer {
    return new Optimizer('sgd', groups, { lr: o.lr ?? 0.01, momentum: o.momentum ?? 0.9, weightDecay: o.weightDecay ?? 0 }, { nesterov: o.nesterov ?? false });
  }

  #nativeHyper(h: Hyper): { lr: number; weightDecay: number; beta1?: number; momentum?: number } {
    return this.#kind === 'adamw'
      ? { lr: h.lr, weightDecay: h.weightDecay, beta1: h.momentum }
      : { lr: h.lr, weightDecay: h.weightDecay, momentum: h.momentum };
  }

  /** Changes hyper-parameters of group `index` for the next steps. */
  setHyper(index: number, change: Partial<Hyper>): void {
    const h = this.hypers[index];
    if (!h) throw new Error(`optimizer has no parameter group ${index}`);
    Object.assign(h, change);
    native.optimizerSetGroup(this.#handle, index, this.#nativeHyper(h));
  }

  step(): void {
    native.optimizerStep(this.#handle);
  }

  /** Each parameter's state, for the parameters updated so far. The tensors are the optimiser's own, not copies. */
  state(): Map<Tensor, ParamState> {
    const out = new Map<Tensor, ParamState>();
    native.optimizerState(this.#handle).forEach((state, i) => {
      if (!state) return;
      const { step, ...handles } = state;
      const tensors = Object.fromEntries(Object.entries(handles).map(([name, handle]) => [name, new Tensor(handle as Handle)]));
      out.set(this.#params[i], { step, tensors });
    });
    return out;
  }

  /**
   * Replaces every parameter's state with a copy of `states` (as {@link state} reads it, e.g. from a checkpoint);
   * a parameter absent from it has none, as before its first update.
   * @throws Error when a tensor's shape is not its parameter's, or AdamW's `step` is missing; the state is then unchanged.
   */
  loadState(states: Map<Tensor, ParamState>): void {
    native.optimizerLoadState(
      this.#handle,
      this.#params.map((p) => {
        const state = states.get(p);
        if (!state) return null;
        const saved: NativeParamState = { step: state.step };
        for (const [name, t] of Object.entries(state.tensors)) saved[name] = t.handle;
        return saved;
      }),
    );
  }

  /** The parameters in the optimiser's order: groups in order, each group's in its order. */
  get #params(): Tensor[] {
    return this.groups.flatMap((g) => g.params);
  }

  /** Drops every gradient (set to none, as PyTorch's zero_grad(set_to_none=True)). */
  zeroGrad(): void {
    native.optimizerZeroGrad(this.#handle);
  }

  /** Releases the optimiser's state (Adam moments) now. */
  dispose(): void {
    native.optimizerDispose(this.#handle);
  }
}
