/**
 * The architecture facts the forward pass needs, with config.json's snake_case names so that a parsed
 * HF config (src/formats/hf-config.ts) fits this type as it is.
 * @module
 */

/** Llama-3 "llama3" RoPE frequency scaling (Llama-3.1/3.2); absent for Llama-3-8B and Llama-2. */
export interface Llama3RopeScaling {
  rope_type?: string;
  type?: string;
  factor: number;
  low_freq_factor: number;
  high_freq_factor: number;
  original_max_position_embeddings: number;
}

export interface LlamaArch {
  vocab_size: number;
  hidden_size: number;
  intermediate_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  /** GQA: key/value heads shared by num_attention_heads / num_key_value_heads query heads. */
  num_key_value_heads?: number;
  head_dim?: number;
  rms_norm_eps: number;
  rope_theta?: number;
  rope_scaling?: Llama3RopeScaling | null;
  max_position_embeddings?: number;
  tie_word_embeddings?: boolean;
}

/** The derived sizes, validated once. */
export interface ArchSizes {
  d: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  ffn: number;
  layers: number;
  vocab: number;
  eps: number;
  theta: number;
}

export function archSizes(a: LlamaArch): ArchSizes {
  const heads = a.num_attention_heads;
  const kvHeads = a.num_key_value_heads ?? heads;
  const headDim = a.head_dim ?? a.hidden_size / heads;
  if (!Number.isInteger(headDim)) throw new Error(`lion: hidden_size ${a.hidden_size} is not divisible by num_attention_heads ${heads}`);
  if (heads % kvHeads !== 0) throw new Error(`lion: num_attention_heads ${heads} is not a multiple of num_key_value_heads ${kvHeads}`);
  if (headDim % 2 !== 0) throw new Error(`lion: head_dim ${headDim} must be even for RoPE`);
  return {
    d: a.hidden_size,
    heads,
    kvHeads,
    headDim,
    ffn: a.intermediate_size,
    layers: a.num_hidden_layers,
    vocab: a.vocab_size,
    eps: a.rms_norm_eps,
    theta: a.rope_theta ?? 10000,
  };
}

/** Parameters without the embeddings and LM head: the "model size" axis of scaling studies. */
export function nonEmbeddingParams(a: LlamaArch): number {
  const s = archSizes(a);
  const attn = s.d * s.heads * s.headDim * 2 + s.d * s.kvHeads * s.headDim * 2;
  const mlp = 3 * s.d * s.ffn;
  return s.layers * (attn + mlp + 2 * s.d) + s.d;
}
