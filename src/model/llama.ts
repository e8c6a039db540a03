/**
 * The Llama-3-family transformer with causal or bidirectional attention, in HF's data-flow order and
 * with HF's parameter names (`model.layers.{i}.self_attn.q_proj.weight`, …), so checkpoints load by
 * name. References: transformers `modeling_llama.py`; the paper's `bidirectional_llama.py` (docs/paper.md §1).
 *
 * Shapes: B batch, T tokens, d hidden, H query heads, Hkv key/value heads, hd head dim, V vocabulary.
 * @module
 */
import { Embedding, Module, ModuleList, RMSNorm, Tensor, embedding, isGradEnabled, linear, tidy, type DType, type Device } from '../torch/index.ts';
import { archSizes, type ArchSizes, type LlamaArch } from './arch.ts';
import { AdaptableLinear } from './lora.ts';
import { additiveMask, positionIds, type AttentionMode } from './mask.ts';
import { applyRope, ropeTables } from './rope.ts';
import { checkpointedChain } from './checkpointing.ts';

export interface ModelOptions {
  dtype?: DType;
  device?: Device;
  /** 'empty' for a model a checkpoint is about to fill (no random init); default 'random'. */
  init?: 'random' | 'empty';
  /** Build the LM head (sparse, MNTP, pre-training); dense retrieval needs only the body. Default true. */
  lmHead?: boolean;
}

class LlamaAttention extends Module {
  readonly q_proj: AdaptableLinear;
  readonly k_proj: AdaptableLinear;
  readonly v_proj: AdaptableLinear;
  readonly o_proj: AdaptableLinear;
  constructor(readonly s: ArchSizes, o: ModelOptions) {
    super();
    this.q_proj = this.child('q_proj', new AdaptableLinear(s.d, s.heads * s.headDim, o));
    this.k_proj = this.child('k_proj', new AdaptableLinear(s.d, s.kvHeads * s.headDim, o));
    this.v_proj = this.child('v_proj', new AdaptableLinear(s.d, s.kvHeads * s.headDim, o));
    this.o_proj = this.child('o_proj', new AdaptableLinear(s.heads * s.headDim, s.d, o));
  }

  /** x [B, T, d], cos/sin [B, 1, T, hd], mask [B, 1, T, T] additive -> [B, T, d]. */
  forward(x: Tensor, cos: Tensor, sin: Tensor, mask: Tensor): Tensor {
    return tidy(() => {
      const { heads: H, kvHeads: Hkv, headDim: hd } = this.s;
      const [B, T] = x.shape as [number, number];
      const split = (t: Tensor, n: number): Tensor => t.view([B, T, n, hd]).transpose(1, 2); // [B, n, T, hd]
      const q = applyRope(split(this.q_proj.forward(x), H), cos, sin); // [B, H, T, hd]
      let k = applyRope(split(this.k_proj.forward(x), Hkv), cos, sin); // [B, Hkv, T, hd]
      let v = split(this.v_proj.forward(x), Hkv);
      if (Hkv !== H) {
        // repeat_kv: each key/value head serves H/Hkv query heads (= repeat_interleave on dim 1)
        const rep = (t: Tensor): Tensor => t.unsqueeze(2).expand([B, Hkv, H / Hkv, T, hd]).reshape([B, H, T, hd]);
        k = rep(k);
        v = rep(v);
      }
      // Scores and softmax in f32 (HF upcasts the softmax), then back to the activations' dtype.
      let scores = q.matmul(k.transpose(-2, -1)).div(Math.sqrt(hd)); // [B, H, T, T]
      if (scores.dtype !== 'f32') scores = scores.to('f32');
      const probs = scores.add(mask).softmax(-1).to(v.dtype);
      const y = probs.matmul(v).transpose(1, 2).reshape([B, T, H * hd]); // [B, T, H·hd]
      return this.o_proj.forward(y);
    });
  }
}

class LlamaMLP extends Module {
  readonly gate_proj: AdaptableLinear;
  readonly up_proj: AdaptableLinear;
  readonly down_proj: AdaptableLinear;
  constructor(s: ArchSizes, o: ModelOptions) {
    super();
    this.gate_proj = this.child('gate_proj', new AdaptableLinear(s.d, s.ffn, o));
    this.up_proj = this.child('up_proj', new AdaptableLinear(s.d, s.ffn, o));
    this.down_proj = this.child('down_proj', new AdaptableLinear(s.ffn, s.d, o));
  }
  /** SwiGLU: down(silu(gate(x)) ⊙ up(x)). */
  forward(x: Tensor): Tensor {
    return tidy(() => this.down_proj.forward(this.gate_proj.forward(x).silu().mul(this.up_proj.forward(x))));
  }
}

class LlamaDecoderLayer extends Module {
  readonly self_attn: LlamaAttention;
  readonly mlp: LlamaMLP;
  readonly input_layernorm: RMSNorm;
  readonly post_attention_layernorm: RMSNorm;
  constructor(s: ArchSizes, o: ModelOptions) {
    super();
    this.self_attn = this.child('self_attn', new LlamaAttention(s, o));
    this.mlp = this.child('mlp', new LlamaMLP(s, o));
    this.input_layernorm = this.child('input_layernorm', new RMSNorm(s.d, s.eps, o));
    this.post_attention_layernorm = this.child('post_attention_layernorm', new RMSNorm(s.d, s.eps, o));
  }
  /** Pre-norm residual block: h = x + attn(norm(x)); out = h + mlp(norm(h)). */
  forward(x: Tensor, cos: Tensor, sin: Tensor, mask: Tensor): Tensor {
    return tidy(() => {
      const h = x.add(this.self_attn.forward(this.input_layernorm.forward(x), cos, sin, mask));
      return h.add(this.mlp.forward(this.post_attention_layernorm.forward(h)));
    });
  }
}

/** The decoder body (`model.*` keys): embeddings, layers, final norm. HF's LlamaModel. */
export class LlamaModel extends Module {
  readonly sizes: ArchSizes;
  readonly embed_tokens: Embedding;
  readonly layers: ModuleList<LlamaDecoderLayer>;
  readonly norm: RMSNorm;
  #rope: { cos: Tensor; sin: Tensor; n: number } | null = null;
  /**
   * Activation checkpointing (HF's gradient_checkpointing): when on and grad is enabled, each decoder
   * layer keeps only its input and is recomputed in the backward pass (see checkpointing.ts; the loss
   * must then be backpropagated with its `backward`).
   */
  gradientCheckpointing = false;

  constructor(readonly arch: LlamaArch, readonly options: ModelOptions = {}) {
    super();
    this.sizes = archSizes(arch);
    this.embed_tokens = this.child('embed_tokens', new Embedding(this.sizes.vocab, this.sizes.d, options));
    this.layers = this.child('layers', new ModuleList(Array.from({ length: this.sizes.layers }, () => new LlamaDecoderLayer(this.sizes, options))));
    this.norm = this.child('norm', new RMSNorm(this.sizes.d, this.sizes.eps, options));
  }

  /** cos/sin tables covering `n` positions, built once and grown when a longer input arrives. */
  #tables(n: number): { cos: Tensor; sin: Tensor } {
    if (!this.#rope || this.#rope.n < n) {
      this.#rope?.cos.dispose();
      this.#rope?.sin.dispose();
      const size = Math.max(n, 128);
      const t = ropeTables(this.arch, size, this.device);
      const dt = this.embed_tokens.weight.dtype;
      this.#rope = { cos: t.cos.to(dt).keep(), sin: t.sin.to(dt).keep(), n: size };
      t.cos.dispose();
      t.sin.dispose();
    }
    return this.#rope;
  }

  /**
   * ids [B, T] i64, attentionMask [B, T] (1 token / 0 pad) -> final hidden states [B, T, d], after the
   * final RMSNorm. Positions count tokens only (0 at each row's first token), so a left-padded text gets
   * the same positions as when encoded alone; the paper's arange over the padded row is the same in exact
   * arithmetic because RoPE is relative, and this keeps batch composition from changing a vector.
   */
  forward(ids: Tensor, attentionMask: Tensor, mode: AttentionMode): Tensor {
    return tidy(() => {
      const T = ids.size(1);
      const { cos: cosT, sin: sinT } = this.#tables(T);
      const pos = positionIds(attentionMask); // [B, T]
      const cos = embedding(cosT, pos).unsqueeze(1); // [B, 1, T, hd]
      const sin = embedding(sinT, pos).unsqueeze(1);
      let mask = additiveMask(attentionMask, mode); // [B, 1, T, T]
      let x = this.embed_tokens.forward(ids); // [B, T, d]
      if (x.dtype !== 'f32') mask = mask.to(x.dtype === 'f64' ? 'f64' : 'f32');
      if (this.gradientCheckpointing && isGradEnabled()) {
        const layers = this.layers.items.map((layer) => (h: Tensor, [c, s, m]: readonly Tensor[]): Tensor => layer.forward(h, c!, s!, m!));
        x = checkpointedChain(x, [cos, sin, mask], layers, { device: this.device, keepRng: this.training });
      } else {
        for (const layer of this.layers) x = layer.forward(x, cos, sin, mask);
      }
      return this.norm.forward(x);
    });
  }

  /** Where the weights live (inputs are built there). */
  get device(): Device {
    return this.embed_tokens.weight.device;
  }

  override dispose(): void {
    this.#rope?.cos.dispose();
    this.#rope?.sin.dispose();
    this.#rope = null;
    super.dispose();
  }
}

/**
 * LlamaModel plus the LM head (`lm_head.weight`, or the input embeddings when tie_word_embeddings).
 * Lion-SP and MNTP use this; Lion-DS uses the body alone.
 */
export class LlamaForCausalLM extends Module {
  readonly model: LlamaModel;
  readonly tied: boolean;
  constructor(readonly arch: LlamaArch, options: ModelOptions = {}) {
    super();
    this.model = this.child('model', new LlamaModel(arch, options));
    this.tied = arch.tie_word_embeddings ?? false;
    this.hasLmHead = options.lmHead ?? true;
    if (!this.tied && this.hasLmHead) this.child('lm_head', new AdaptableLinear(this.model.sizes.d, this.model.sizes.vocab, options));
  }
  readonly hasLmHead: boolean;
  /** Where the weights live (inputs are built there). */
  get device(): Device {
    return this.model.device;
  }
  /** The dtype the weights are stored in. */
  get dtype(): DType {
    return this.model.embed_tokens.weight.dtype;
  }
  /** The vocabulary projection W [V, d]. */
  get lmHeadWeight(): Tensor {
    if (!this.hasLmHead) throw new Error('lion: this model was built without an LM head (dense); the sparse head needs one');
    return this.tied ? this.model.embed_tokens.weight : (this.childModule('lm_head') as AdaptableLinear).weight;
  }
  /** hidden [..., d] -> logits [..., V]. */
  logits(hidden: Tensor): Tensor {
    return linear(hidden, this.lmHeadWeight);
  }
  forward(ids: Tensor, attentionMask: Tensor, mode: AttentionMode): Tensor {
    return tidy(() => this.logits(this.model.forward(ids, attentionMask, mode)));
  }
  /** Frees the body's RoPE tables too (Module.dispose alone frees parameters only). */
  override dispose(): void {
    this.model.dispose();
    super.dispose();
  }
}
