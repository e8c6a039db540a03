/**
 * A small module system. A parameter's dotted path in the module tree is its checkpoint key
 * (`model.layers.3.self_attn.q_proj.weight`), so loading a safetensors file is a lookup by name.
 * @module
 */
import { native } from './native.ts';
import { Tensor, embedding, linear, type Device } from './tensor.ts';
import type { DType } from './dtype.ts';
import { noGrad, tidy } from './scope.ts';

export interface LoadReport {
  missing: string[];
  unexpected: string[];
}

export abstract class Module {
  #training = true;
  readonly #params = new Map<string, Tensor>();
  readonly #children = new Map<string, Module>();

  /**
   * Registers a parameter under `name`. It leaves every tidy scope (only dispose() frees it) and
   * requires grad when `trainable`.
   */
  protected param(name: string, value: Tensor, trainable = true): Tensor {
    if (name.includes('.')) throw new Error(`lion.Module: parameter name '${name}' must not contain '.'`);
    value.keep();
    if (trainable && value.dtype !== 'i64' && value.dtype !== 'bool') value.requiresGrad_(true);
    this.#params.set(name, value);
    return value;
  }
  /** Registers a child module under `name` (a number for list items: `layers.0`). */
  protected child<M extends Module>(name: string | number, m: M): M {
    this.#children.set(String(name), m);
    return m;
  }

  /** Direct parameters of this module (no children). */
  ownParameter(name: string): Tensor | undefined {
    return this.#params.get(name);
  }
  childModule(name: string): Module | undefined {
    return this.#children.get(name);
  }
  namedChildren(): [string, Module][] {
    return [...this.#children.entries()];
  }

  /** [path, parameter] for this module and every descendant, in registration order. */
  namedParameters(prefix = ''): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [n, p] of this.#params) out.push([prefix + n, p]);
    for (const [n, c] of this.#children) out.push(...c.namedParameters(`${prefix}${n}.`));
    return out;
  }
  /** [path, module] for this module ('' ) and every descendant. */
  namedModules(prefix = ''): [string, Module][] {
    const out: [string, Module][] = [[prefix.replace(/\.$/, ''), this]];
    for (const [n, c] of this.#children) out.push(...c.namedModules(`${prefix}${n}.`));
    return out;
  }
  parameters(): Tensor[] {
    return this.namedParameters().map(([, p]) => p);
  }
  trainableParameters(): Tensor[] {
    return this.parameters().filter((p) => p.requiresGrad);
  }
  numParameters(): number {
    return this.parameters().reduce((a, p) => a + p.numel, 0);
  }

  /**
   * Replaces the parameter at a dotted `path` with `value` (shapes must match), disposing the old one.
   * Replacing rather than copying keeps one copy of each weight in memory while loading checkpoints.
   */
  setParameter(path: string, value: Tensor): void {
    const dot = path.lastIndexOf('.');
    const owner = dot < 0 ? this : this.#resolve(path.slice(0, dot), path);
    const name = path.slice(dot + 1);
    const old = owner.#params.get(name);
    if (!old) throw new Error(`lion.Module: no parameter '${path}'`);
    const [a, b] = [old.shape, value.shape];
    if (a.length !== b.length || a.some((d, i) => d !== b[i])) {
      throw new Error(`lion.Module: '${path}' has shape [${a.join(', ')}] but the checkpoint gives [${b.join(', ')}]`);
    }
    const trainable = old.requiresGrad;
    old.dispose();
    owner.param(name, value, trainable);
  }

  /** Loads tensors by path. Lists missing and unexpected keys; refuses shape mismatches by name. */
  loadStateDict(tensors: Map<string, Tensor>, { strict = true }: { strict?: boolean } = {}): LoadReport {
    const own = new Set(this.namedParameters().map(([n]) => n));
    const report: LoadReport = { missing: [...own].filter((n) => !tensors.has(n)), unexpected: [...tensors.keys()].filter((n) => !own.has(n)) };
    if (strict && (report.missing.length || report.unexpected.length)) {
      throw new Error(
        `lion.Module: checkpoint does not fit: missing [${report.missing.slice(0, 5).join(', ')}${report.missing.length > 5 ? ', …' : ''}], ` +
          `unexpected [${report.unexpected.slice(0, 5).join(', ')}${report.unexpected.length > 5 ? ', …' : ''}]`,
      );
    }
    for (const [n, t] of tensors) if (own.has(n)) this.setParameter(n, t);
    return report;
  }

  get training(): boolean {
    return this.#training;
  }
  /** Sets training mode (dropout on) for this module and its descendants. */
  train(on = true): this {
    this.#training = on;
    for (const c of this.#children.values()) c.train(on);
    return this;
  }
  eval(): this {
    return this.train(false);
  }
  /** Frees every parameter of this module and its descendants. */
  dispose(): void {
    for (const p of this.parameters()) p.dispose();
  }
  [Symbol.dispose](): void {
    this.dispose();
  }

  #resolve(modulePath: string, full: string): Module {
    let m = this as Module;
    for (const part of modulePath.split('.')) {
      const next = m.#children.get(part);
      if (!next) throw new Error(`lion.Module: no module '${part}' on the way to '${full}'`);
      m = next;
    }
    return m;
  }
}

/** An indexed list of modules, named `0`, `1`, … under its own name (HF's nn.ModuleList). */
export class ModuleList<M extends Module> extends Module implements Iterable<M> {
  readonly items: M[];
  constructor(items: M[]) {
    super();
    this.items = items.map((m, i) => this.child(i, m));
  }
  get length(): number {
    return this.items.length;
  }
  at(i: number): M {
    const m = this.items[i];
    if (!m) throw new Error(`lion.ModuleList: index ${i} out of range (length ${this.items.length})`);
    return m;
  }
  [Symbol.iterator](): Iterator<M> {
    return this.items[Symbol.iterator]();
  }
}

export interface InitOptions {
  dtype?: DType;
  device?: Device;
  /**
   * 'empty' leaves parameters uninitialised, for a model whose every weight a checkpoint is about to
   * replace: no time spent on random init, and no memory touched until the real weights arrive.
   */
  init?: 'random' | 'empty';
}

/** Uniform in [−bound, bound): PyTorch's default Linear/Embedding-style init with bound 1/√fan_in. */
export function uniformInit(shape: number[], bound: number, o: InitOptions): Tensor {
  if (o.init === 'empty') return Tensor.empty(shape, o.dtype ?? 'f32', o.device ?? 'cpu');
  return tidy(() => Tensor.rand(shape, o.dtype ?? 'f32', o.device ?? 'cpu').mul(2 * bound).sub(bound));
}

/** y = x·Wᵀ + b; weight [out, in], bias [out]. */
export class Linear extends Module {
  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    { bias = true, ...o }: InitOptions & { bias?: boolean } = {},
  ) {
    super();
    const bound = 1 / Math.sqrt(inFeatures);
    this.param('weight', uniformInit([outFeatures, inFeatures], bound, o));
    if (bias) this.param('bias', uniformInit([outFeatures], bound, o));
  }
  // Parameters may be replaced by setParameter, so they are always read back by name.
  get weight(): Tensor {
    return this.ownParameter('weight')!;
  }
  get bias(): Tensor | null {
    return this.ownParameter('bias') ?? null;
  }
  forward(x: Tensor): Tensor {
    return linear(x, this.weight, this.bias);
  }
}

/** Rows of weight [num, dim] looked up by integer ids. */
export class Embedding extends Module {
  constructor(
    readonly numEmbeddings: number,
    readonly dim: number,
    o: InitOptions = {},
  ) {
    super();
    const dt = o.dtype ?? 'f32';
    const dev = o.device ?? 'cpu';
    this.param('weight', o.init === 'empty' ? Tensor.empty([numEmbeddings, dim], dt, dev) : noGrad(() => tidy(() => Tensor.randn([numEmbeddings, dim], dt, dev))));
  }
  get weight(): Tensor {
    return this.ownParameter('weight')!;
  }
  forward(ids: Tensor): Tensor {
    return embedding(this.weight, ids);
  }
}

/**
 * RMSNorm: y = x / √(mean(x², last dim) + eps) · weight. Computed in f32 and cast back to the input
 * dtype, as Hugging Face's LlamaRMSNorm does, so bf16 activations keep their precision here.
 */
export class RMSNorm extends Module {
  constructor(
    readonly dim: number,
    readonly eps = 1e-6,
    o: InitOptions = {},
  ) {
    super();
    this.param('weight', Tensor.ones([dim], o.dtype ?? 'f32', o.device ?? 'cpu'));
  }
  get weight(): Tensor {
    return this.ownParameter('weight')!;
  }
  forward(x: Tensor): Tensor {
    return tidy(() => {
      const dt = x.dtype;
      const xf = dt === 'f32' ? x : x.to('f32');
      const normed = xf.mul(xf.square().mean(-1, true).add(this.eps).rsqrt()); // [..., d]
      return (dt === 'f32' ? normed : normed.to(dt)).mul(this.weight);
    });
  }
}

/** The addon's build and runtime facts, for `lion doctor` and benchmark headers. */
export function engineInfo(): { libtorch: string; threads: number; devices: string[]; cudaBuild: boolean; config: string } {
  const n = native();
  return { libtorch: n.version(), threads: n.getNumThreads(), devices: n.devices(), cudaBuild: n.cudaBuild(), config: n.buildConfig() };
}
