/**
 * LoRA with PEFT's semantics: y = x·Wᵀ (+ b) + (α/r)·B(A(dropout(x))), A ∈ ℝ^{r×in} (Kaiming-uniform
 * init), B ∈ ℝ^{out×r} (zeros), dropout only in training. Parameter names follow PEFT's adapter keys:
 * `<module>.lora_A.weight`, `<module>.lora_B.weight`. Merging folds (α/r)·B·A into W for inference.
 * @module
 */
import { Linear, Module, Tensor, dropout, linear, noGrad, tidy, uniformInit, type DType, type InitOptions } from '../torch/index.ts';
import { LORA_TARGETS } from '../formats/peft.ts';

export interface LoraConfig {
  r: number;
  alpha: number;
  dropout: number;
  /** Module names (last path component) that get adapters, e.g. q_proj … down_proj. */
  targetModules: readonly string[];
}

/** The paper's MNTP and fine-tuning LoRA (docs/paper.md §2, §6): r 16, α 32, dropout 0.05 on all seven projections. */
export const PAPER_LORA: LoraConfig = {
  r: 16,
  alpha: 32,
  dropout: 0.05,
  targetModules: LORA_TARGETS,
};

/** A bias-free Linear that can carry a LoRA adapter. */
export class AdaptableLinear extends Module {
  #lora: { a: Linear; b: Linear; scale: number; dropout: number } | null = null;
  #merged = false;

  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    o: InitOptions = {},
  ) {
    super();
    this.param('weight', uniformInit([outFeatures, inFeatures], 1 / Math.sqrt(inFeatures), o));
  }

  get weight(): Tensor {
    return this.ownParameter('weight')!;
  }
  get hasLora(): boolean {
    return this.#lora !== null;
  }
  get merged(): boolean {
    return this.#merged;
  }
  get loraScale(): number {
    return this.#lora?.scale ?? 0;
  }

  /**
   * Adds an adapter (A random, B zero: the model's output is unchanged until B trains). `scale` is
   * α/r (PEFT's default) or α/√r (rsLoRA).
   */
  addLora(r: number, scale: number, p: number): void {
    if (this.#lora) throw new Error('lion: this module already has a LoRA adapter');
    const w = this.weight;
    // LoRA weights stay f32 over a bf16/f16 base (as PEFT keeps them), so that training updates and
    // AdamW's moments are not rounded to 8 bits of mantissa; f64 bases (tests) keep f64.
    const o: InitOptions = { dtype: loraDtype(w.dtype), device: w.device };
    const a = this.child('lora_A', new Linear(this.inFeatures, r, { bias: false, ...o }));
    const b = this.child('lora_B', new Linear(r, this.outFeatures, { bias: false, ...o }));
    noGrad(() => b.weight.fill_(0));
    this.#lora = { a, b, scale, dropout: p };
  }

  forward(x: Tensor): Tensor {
    const l = this.#lora;
    if (!l || this.#merged) return linear(x, this.weight);
    return tidy(() => {
      const base = linear(x, this.weight);
      const aW = l.a.ownParameter('weight')!;
      // Over a half-precision base the adapter computes in its own f32 and casts its delta back (PEFT);
      // under autocast linear() picks the compute dtype itself, so both casts are no-ops there.
      const xl = x.dtype === aW.dtype ? x : x.to(aW.dtype);
      const xa = l.dropout > 0 && this.training ? dropout(xl, l.dropout, true) : xl;
      const delta = linear(linear(xa, aW), l.b.ownParameter('weight')!).mul(l.scale);
      return base.add(delta.dtype === base.dtype ? delta : delta.to(base.dtype));
    });
  }

  /** W ← W + (α/r)·B·A; the adapter stays (unmerge restores W up to rounding). */
  merge(): void {
    const l = this.#lora;
    if (!l || this.#merged) return;
    noGrad(() => tidy(() => void this.weight.addInPlace(l.b.ownParameter('weight')!.matmul(l.a.ownParameter('weight')!), l.scale)));
    this.#merged = true;
  }
  unmerge(): void {
    const l = this.#lora;
    if (!l || !this.#merged) return;
    noGrad(() => tidy(() => void this.weight.addInPlace(l.b.ownParameter('weight')!.matmul(l.a.ownParameter('weight')!), -l.scale)));
    this.#merged = false;
  }
}

/** The dtype LoRA weights take over a base weight of dtype `base`. */
export function loraDtype(base: DType): DType {
  return base === 'f64' ? 'f64' : 'f32';
}

/** Adds adapters to every AdaptableLinear whose name is in cfg.targetModules; freezes everything else. */
export function applyLora(model: Module, cfg: LoraConfig): string[] {
  const wrapped: string[] = [];
  for (const [path, m] of model.namedModules()) {
    const name = path.split('.').pop() ?? '';
    if (m instanceof AdaptableLinear && cfg.targetModules.includes(name)) {
      m.addLora(cfg.r, cfg.alpha / cfg.r, cfg.dropout);
      wrapped.push(path);
    }
  }
  if (wrapped.length === 0) throw new Error(`lion: no module matches LoRA targets [${cfg.targetModules.join(', ')}]`);
  for (const [n, p] of model.namedParameters()) {
    const isLora = /\.lora_[AB]\.weight$/.test(n);
    p.requiresGrad_(isLora);
  }
  return wrapped;
}

/** [path, tensor] of every LoRA weight, with PEFT's names relative to the model root. */
export function loraParameters(model: Module): [string, Tensor][] {
  return model.namedParameters().filter(([n]) => /\.lora_[AB]\.weight$/.test(n));
}

export function mergeLora(model: Module): void {
  for (const [, m] of model.namedModules()) if (m instanceof AdaptableLinear) m.merge();
}
export function unmergeLora(model: Module): void {
  for (const [, m] of model.namedModules()) if (m instanceof AdaptableLinear) m.unmerge();
}
