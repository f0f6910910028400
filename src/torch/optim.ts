/**
 * Optimisers (libtorch's AdamW and SGD) over parameter groups. Schedulers change each group's learning
 * rate, momentum and weight decay between steps through `setHyper`; the update itself runs in libtorch.
 */
import { native, type OptimizerHandle } from './native.js';
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

  /**
   * Each parameter's state by name (AdamW: exp_avg, exp_avg_sq; SGD: momentum_buffer), for the parameters
   * updated so far. The tensors are the optimiser's own, not copies.
   */
  state(): Map<Tensor, Record<string, Tensor>> {
    const params = this.groups.flatMap((g) => g.params);
    const out = new Map<Tensor, Record<string, Tensor>>();
    native.optimizerState(this.#handle).forEach((state, i) => {
      if (state) out.set(params[i], Object.fromEntries(Object.entries(state).map(([name, handle]) => [name, new Tensor(handle)])));
    });
    return out;
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
