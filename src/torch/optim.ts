/**
 * AdamW and gradient-norm clipping, both computed by libtorch (torch::optim::AdamW,
 * torch::nn::utils::clip_grad_norm_). AdamW here is decoupled weight decay (Loshchilov & Hutter):
 * p ← p − lr·wd·p, then the Adam update with bias correction.
 * @module
 */
import { native } from './native.ts';
import { Tensor } from './tensor.ts';

export interface AdamWOptions {
  lr: number;
  weightDecay?: number;
  betas?: [number, number];
  eps?: number;
}
export interface ParamGroup extends Partial<AdamWOptions> {
  params: Tensor[];
}
/** One parameter's moments; null before its first step. */
export type AdamWParamState = { step: number; expAvg: Tensor; expAvgSq: Tensor } | null;

export class AdamW {
  readonly #id: number;
  readonly groups: ParamGroup[];
  #disposed = false;

  /** `params` is a list of tensors or of groups with their own options; `defaults` fill what groups omit. */
  constructor(params: Tensor[] | ParamGroup[], defaults: AdamWOptions) {
    const groups: ParamGroup[] = params.length > 0 && params[0] instanceof Tensor ? [{ params: params as Tensor[] }] : (params as ParamGroup[]);
    this.groups = groups;
    this.#id = native().adamwNew(
      groups.map((g) => {
        const betas = g.betas ?? defaults.betas ?? [0.9, 0.999];
        return {
          params: g.params.map((p) => p.handle),
          lr: g.lr ?? defaults.lr,
          weightDecay: g.weightDecay ?? defaults.weightDecay ?? 0.01,
          beta1: betas[0],
          beta2: betas[1],
          eps: g.eps ?? defaults.eps ?? 1e-8,
        };
      }),
    );
  }

  step(): void {
    native().adamwStep(this.#live());
  }
  /** Drops every parameter's gradient (set to none, freeing its memory). */
  zeroGrad(): void {
    native().adamwZeroGrad(this.#live());
  }
  /** Sets the learning rate of every group (a schedule calls this before each step). */
  setLr(lr: number): void {
    native().adamwSetLr(this.#live(), lr);
  }
  get lrs(): number[] {
    return native().adamwGetLr(this.#live());
  }
  /** The moments of every parameter in group order (copies; the caller disposes them). */
  stateDict(): AdamWParamState[] {
    return native().adamwGetState(this.#live()).map((s) => (s === null ? null : { step: s.step, expAvg: new Tensor(s.expAvg), expAvgSq: new Tensor(s.expAvgSq) }));
  }
  loadStateDict(state: AdamWParamState[]): void {
    native().adamwSetState(
      this.#live(),
      state.map((s) => (s === null ? null : { step: s.step, expAvg: s.expAvg.handle, expAvgSq: s.expAvgSq.handle })),
    );
  }
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    native().adamwFree(this.#id);
  }
  [Symbol.dispose](): void {
    this.dispose();
  }
  #live(): number {
    if (this.#disposed) throw new Error('lion.AdamW: optimizer was disposed');
    return this.#id;
  }
}

/** Scales all gradients so their joint `normType`-norm is at most `maxNorm`; returns the norm before. */
export function clipGradNorm(params: readonly Tensor[], maxNorm: number, normType = 2): number {
  return native().clipGradNorm(params.map((p) => p.handle), maxNorm, normType);
}
