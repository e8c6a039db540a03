/**
 * The paper's Llama shapes as random checkpoints: config.json exactly as the hub ships Llama-3.2-1B and
 * Meta-Llama-3-8B, weights N(0, 0.02) (norms 1) written tensor by tensor in bf16 safetensors (the 1B as
 * one model.safetensors, the 8B as <=5 GB shards plus model.safetensors.index.json, as Meta ships them),
 * and the Llama-3 tokenizer. Used by bench/paper-scale.ts and scripts/gpu-check.ts.
 * @module
 */
import { closeSync, copyFileSync, existsSync, mkdirSync, openSync, writeFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import { Tensor, manualSeed, noGrad, tidy } from '../src/torch/index.ts';
import { tensorToRaw } from '../src/model/weights.ts';

// ---- configs: config.json as shipped on the hub (meta-llama/Llama-3.2-1B, meta-llama/Meta-Llama-3-8B) --

export const LLAMA_3_2_1B = {
  architectures: ['LlamaForCausalLM'], attention_bias: false, attention_dropout: 0.0, bos_token_id: 128000, eos_token_id: 128001, head_dim: 64,
  hidden_act: 'silu', hidden_size: 2048, initializer_range: 0.02, intermediate_size: 8192, max_position_embeddings: 131072, mlp_bias: false,
  model_type: 'llama', num_attention_heads: 32, num_hidden_layers: 16, num_key_value_heads: 8, pretraining_tp: 1, rms_norm_eps: 1e-5,
  rope_scaling: { factor: 32.0, high_freq_factor: 4.0, low_freq_factor: 1.0, original_max_position_embeddings: 8192, rope_type: 'llama3' },
  rope_theta: 500000.0, tie_word_embeddings: true, torch_dtype: 'bfloat16', transformers_version: '4.45.0.dev0', use_cache: true, vocab_size: 128256,
};
export const LLAMA_3_8B = {
  architectures: ['LlamaForCausalLM'], attention_bias: false, attention_dropout: 0.0, bos_token_id: 128000, eos_token_id: 128001, hidden_act: 'silu',
  hidden_size: 4096, initializer_range: 0.02, intermediate_size: 14336, max_position_embeddings: 8192, model_type: 'llama', num_attention_heads: 32,
  num_hidden_layers: 32, num_key_value_heads: 8, pretraining_tp: 1, rms_norm_eps: 1e-5, rope_scaling: null, rope_theta: 500000.0,
  tie_word_embeddings: false, torch_dtype: 'bfloat16', transformers_version: '4.40.0.dev0', use_cache: true, vocab_size: 128256,
};
/** ~174M parameters over Llama-3's vocabulary (the bf16-vs-f32 agreement model), stored in f32. */
export const LLAMA_180M = { ...LLAMA_3_2_1B, hidden_size: 768, intermediate_size: 2048, num_attention_heads: 12, num_key_value_heads: 4, head_dim: 64, num_hidden_layers: 12, torch_dtype: 'float32' };

export type Config = typeof LLAMA_3_8B | typeof LLAMA_3_2_1B;

/** (name, shape) of every checkpoint tensor in HF's key order. */
function tensorList(c: Config): [string, number[]][] {
  const d = c.hidden_size;
  const hd = d / c.num_attention_heads;
  const kv = c.num_key_value_heads * hd;
  const out: [string, number[]][] = [['model.embed_tokens.weight', [c.vocab_size, d]]];
  for (let i = 0; i < c.num_hidden_layers; i++) {
    const p = `model.layers.${i}`;
    out.push(
      [`${p}.input_layernorm.weight`, [d]], [`${p}.mlp.down_proj.weight`, [d, c.intermediate_size]], [`${p}.mlp.gate_proj.weight`, [c.intermediate_size, d]],
      [`${p}.mlp.up_proj.weight`, [c.intermediate_size, d]], [`${p}.post_attention_layernorm.weight`, [d]], [`${p}.self_attn.k_proj.weight`, [kv, d]],
      [`${p}.self_attn.o_proj.weight`, [d, d]], [`${p}.self_attn.q_proj.weight`, [d, d]], [`${p}.self_attn.v_proj.weight`, [kv, d]],
    );
  }
  out.push(['model.norm.weight', [d]]);
  if (!c.tie_word_embeddings) out.push(['lm_head.weight', [c.vocab_size, d]]);
  return out;
}

const numel = (s: number[]): number => s.reduce((a, b) => a * b, 1);

/**
 * Writes one safetensors file tensor by tensor (the header is computable from the shapes), so that a
 * 5 GB shard never sits in memory: each tensor is drawn N(0, 0.02) (norms 1) by libtorch and written.
 */
function writeShard(file: string, tensors: [string, number[]][], dtype: 'BF16' | 'F32'): number {
  const size = dtype === 'BF16' ? 2 : 4;
  const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
  let off = 0;
  for (const [n, s] of tensors) {
    header[n] = { dtype, shape: s, data_offsets: [off, off + numel(s) * size] };
    off += numel(s) * size;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (Buffer.byteLength(json) % 8)) % 8);
  const fd = openSync(file, 'w');
  try {
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
    writeSync(fd, len);
    writeSync(fd, json);
    for (const [n, s] of tensors) {
      // Drawn in the file's dtype: no f32 copy of an 8B model's 1 GB embedding while writing it.
      const dt = dtype === 'BF16' ? 'bf16' : 'f32';
      const raw = noGrad(() => tidy(() => tensorToRaw(n.endsWith('norm.weight') ? Tensor.ones(s, dt) : Tensor.randn(s, dt).mul(0.02))));
      for (let o = 0; o < raw.data.byteLength; o += 1 << 30) writeSync(fd, raw.data.subarray(o, Math.min(raw.data.byteLength, o + (1 << 30))));
    }
  } finally {
    closeSync(fd);
  }
  return off;
}

/** The named shapes; 'small' is a 2-layer model over Llama-3's vocabulary for dry runs. */
export const SHAPES: Record<string, Config> = {
  '1b': LLAMA_3_2_1B,
  '8b': LLAMA_3_8B,
  '180m': LLAMA_180M,
  small: { ...LLAMA_3_2_1B, hidden_size: 256, intermediate_size: 512, num_attention_heads: 4, num_key_value_heads: 2, head_dim: 64, num_hidden_layers: 2 },
  // Activation memory dominates its training steps (8 thin layers): the checkpointing benchmark's model.
  thin8: { ...LLAMA_180M, hidden_size: 256, intermediate_size: 704, num_attention_heads: 4, num_key_value_heads: 2, head_dim: 64, num_hidden_layers: 8 },
};

/**
 * Writes a random model of shape `which` with config.json and the tokenizer (tokenizer.json and, when
 * beside it, tokenizer_config.json) into `dir`; shards like Meta when `sharded` (default: the 8B only).
 */
export function writeRandomModel(which: string, dir: string, tokenizerFile: string, o: { sharded?: boolean } = {}): { params: number; bytes: number; seconds: number } {
  const c = SHAPES[which];
  if (!c) throw new Error(`unknown model shape '${which}' (${Object.keys(SHAPES).join(', ')})`);
  mkdirSync(dir, { recursive: true });
  manualSeed(0);
  const dtype = c.torch_dtype === 'bfloat16' ? 'BF16' : 'F32';
  const list = tensorList(c);
  const t0 = performance.now();
  let bytes = 0;
  if (o.sharded ?? which === '8b') {
    // Shards of at most 5 GB in key order plus the index, as transformers' save_pretrained writes them.
    const shards: [string, number[]][][] = [[]];
    let size = 0;
    for (const e of list) {
      const b = numel(e[1]) * 2;
      if (size > 0 && size + b > 5e9) { shards.push([]); size = 0; }
      shards[shards.length - 1]!.push(e);
      size += b;
    }
    const weightMap: Record<string, string> = {};
    shards.forEach((g, i) => {
      const name = `model-${String(i + 1).padStart(5, '0')}-of-${String(shards.length).padStart(5, '0')}.safetensors`;
      bytes += writeShard(path.join(dir, name), g, dtype);
      for (const [n] of g) weightMap[n] = name;
    });
    writeFileSync(path.join(dir, 'model.safetensors.index.json'), JSON.stringify({ metadata: { total_size: bytes }, weight_map: weightMap }, null, 2));
  } else {
    bytes = writeShard(path.join(dir, 'model.safetensors'), list, dtype);
  }
  writeFileSync(path.join(dir, 'config.json'), JSON.stringify(c, null, 2));
  copyFileSync(tokenizerFile, path.join(dir, 'tokenizer.json'));
  const tc = path.join(path.dirname(tokenizerFile), 'tokenizer_config.json');
  if (existsSync(tc)) copyFileSync(tc, path.join(dir, 'tokenizer_config.json'));
  return { params: list.reduce((a, [, s]) => a + numel(s), 0), bytes, seconds: (performance.now() - t0) / 1000 };
}
