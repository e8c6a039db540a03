/**
 * Hugging Face Llama `config.json`: parsed, validated and given its defaults, keeping config.json's
 * snake_case names so that no mapping table is needed. Anything Lion's Llama cannot run (another
 * architecture, biases, another activation, an unknown RoPE scaling) is refused here, naming the file.
 * @module
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { FormatError } from './errors.ts';
import { writeBytesAtomic } from './file-io.ts';

/** Llama-3.1/3.2 RoPE frequency scaling (`rope_scaling.rope_type == "llama3"`). */
export interface Llama3RopeScaling {
  rope_type: 'llama3';
  factor: number;
  low_freq_factor: number;
  high_freq_factor: number;
  original_max_position_embeddings: number;
}

/** A validated Llama config with every default filled in. */
export interface LlamaConfig {
  model_type: 'llama';
  architectures: string[];
  vocab_size: number;
  hidden_size: number;
  intermediate_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  /** Key/value heads for GQA; defaults to num_attention_heads. */
  num_key_value_heads: number;
  /** Per-head width; defaults to hidden_size / num_attention_heads. */
  head_dim: number;
  rms_norm_eps: number;
  /** RoPE base; defaults to 10000. */
  rope_theta: number;
  rope_scaling: Llama3RopeScaling | null;
  max_position_embeddings: number;
  tie_word_embeddings: boolean;
  bos_token_id: number | null;
  /** One id or several (Llama-3.1 instruct lists three). */
  eos_token_id: number | number[] | null;
  pad_token_id: number | null;
  torch_dtype: string | null;
  hidden_act: 'silu';
}

const posInt = z.number().int().positive();
const tokenId = z.number().int().nonnegative();

const ropeSchema = z.looseObject({
  rope_type: z.string().optional(),
  type: z.string().optional(),
  rope_theta: z.number().positive().optional(),
  factor: z.number().positive().optional(),
  low_freq_factor: z.number().positive().optional(),
  high_freq_factor: z.number().positive().optional(),
  original_max_position_embeddings: posInt.optional(),
});

const configSchema = z.looseObject({
  model_type: z.string().optional(),
  architectures: z.array(z.string()).nullable().optional(),
  vocab_size: posInt,
  hidden_size: posInt,
  intermediate_size: posInt,
  num_hidden_layers: posInt,
  num_attention_heads: posInt,
  num_key_value_heads: posInt.nullable().optional(),
  head_dim: posInt.nullable().optional(),
  rms_norm_eps: z.number().positive().optional(),
  rope_theta: z.number().positive().optional(),
  rope_scaling: ropeSchema.nullable().optional(),
  // transformers v5 moves rope_theta and the scaling into one `rope_parameters` object.
  rope_parameters: ropeSchema.nullable().optional(),
  max_position_embeddings: posInt.optional(),
  tie_word_embeddings: z.boolean().optional(),
  bos_token_id: tokenId.nullable().optional(),
  eos_token_id: z.union([tokenId, z.array(tokenId)]).nullable().optional(),
  pad_token_id: tokenId.nullable().optional(),
  torch_dtype: z.string().nullable().optional(),
  dtype: z.string().nullable().optional(),
  hidden_act: z.string().optional(),
  attention_bias: z.boolean().optional(),
  mlp_bias: z.boolean().optional(),
});

/** Architectures Lion's Llama runs: HF's and the Lion/LLM2Vec bidirectional wrappers. */
function isLlamaArchitecture(a: string): boolean {
  return /^Llama[A-Za-z]*$/.test(a);
}

/**
 * Validates a parsed config.json object. `file` names the source in errors.
 * @throws FormatError for an unsupported architecture or any invalid or inconsistent field.
 */
export function parseLlamaConfig(json: unknown, file: string): LlamaConfig {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new FormatError(file, 'config is not a JSON object');
  const obj = json as Record<string, unknown>;
  // The architecture comes first: a Mistral or GPT-2 config should say so, not complain about a field.
  const modelType = obj.model_type;
  if (modelType !== 'llama') {
    throw new FormatError(file, `unsupported model_type '${String(modelType)}'; Lion runs Llama models only (model_type 'llama')`, {
      key: 'model_type', hint: 'point --model at a Llama-family checkpoint (Llama-2, Llama-3, Llama-3.1/3.2)',
    });
  }
  const archs = obj.architectures;
  if (Array.isArray(archs)) {
    const bad = archs.find((a) => typeof a !== 'string' || !isLlamaArchitecture(a));
    if (bad !== undefined) throw new FormatError(file, `unsupported architecture '${String(bad)}'; Lion runs Llama models only`, { key: 'architectures' });
  }
  const parsed = configSchema.safeParse(obj);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const key = issue === undefined ? undefined : issue.path.join('.');
    throw new FormatError(file, `invalid config: ${issue?.message ?? 'unknown problem'}`, key === undefined ? {} : { key });
  }
  const c = parsed.data;
  const bad = (key: string, what: string): FormatError => new FormatError(file, what, { key });
  if (c.hidden_act !== undefined && c.hidden_act !== 'silu') throw bad('hidden_act', `unsupported hidden_act '${c.hidden_act}'; Llama uses 'silu'`);
  if (c.attention_bias === true) throw bad('attention_bias', 'attention biases are not supported');
  if (c.mlp_bias === true) throw bad('mlp_bias', 'MLP biases are not supported');

  const heads = c.num_attention_heads;
  const kvHeads = c.num_key_value_heads ?? heads;
  if (heads % kvHeads !== 0) throw bad('num_key_value_heads', `num_attention_heads ${heads} is not a multiple of num_key_value_heads ${kvHeads}`);
  if (c.head_dim == null && c.hidden_size % heads !== 0) throw bad('num_attention_heads', `hidden_size ${c.hidden_size} is not a multiple of num_attention_heads ${heads} and no head_dim is given`);
  const headDim = c.head_dim ?? c.hidden_size / heads;
  if (headDim % 2 !== 0) throw bad('head_dim', `head_dim ${headDim} is odd; RoPE rotates pairs`);

  const ropeParams = c.rope_parameters ?? null;
  const ropeTheta = c.rope_theta ?? ropeParams?.rope_theta ?? 10000;
  const scalingKey = c.rope_scaling != null ? 'rope_scaling' : 'rope_parameters';
  const rope_scaling = parseRopeScaling(c.rope_scaling ?? ropeParams, file, scalingKey);

  return {
    model_type: 'llama',
    architectures: c.architectures ?? ['LlamaForCausalLM'],
    vocab_size: c.vocab_size,
    hidden_size: c.hidden_size,
    intermediate_size: c.intermediate_size,
    num_hidden_layers: c.num_hidden_layers,
    num_attention_heads: heads,
    num_key_value_heads: kvHeads,
    head_dim: headDim,
    rms_norm_eps: c.rms_norm_eps ?? 1e-6,
    rope_theta: ropeTheta,
    rope_scaling,
    max_position_embeddings: c.max_position_embeddings ?? 2048,
    tie_word_embeddings: c.tie_word_embeddings ?? false,
    bos_token_id: c.bos_token_id === undefined ? 1 : c.bos_token_id,
    eos_token_id: c.eos_token_id === undefined ? 2 : c.eos_token_id,
    pad_token_id: c.pad_token_id ?? null,
    torch_dtype: c.torch_dtype ?? c.dtype ?? null,
    hidden_act: 'silu',
  };
}

function parseRopeScaling(r: z.infer<typeof ropeSchema> | null, file: string, key: string): Llama3RopeScaling | null {
  if (r === null) return null;
  const kind = r.rope_type ?? r.type ?? 'default';
  if (kind === 'default') return null;
  if (kind !== 'llama3') throw new FormatError(file, `unsupported RoPE scaling '${kind}'; Lion implements 'llama3' only`, { key });
  const { factor, low_freq_factor: low, high_freq_factor: high, original_max_position_embeddings: orig } = r;
  if (factor === undefined || low === undefined || high === undefined || orig === undefined) {
    throw new FormatError(file, 'llama3 RoPE scaling needs factor, low_freq_factor, high_freq_factor and original_max_position_embeddings', { key });
  }
  if (!(high > low)) throw new FormatError(file, `high_freq_factor ${high} must exceed low_freq_factor ${low}`, { key });
  return { rope_type: 'llama3', factor, low_freq_factor: low, high_freq_factor: high, original_max_position_embeddings: orig };
}

/** Reads `config.json` from a file path or a model folder. */
export function readLlamaConfig(pathOrDir: string): LlamaConfig {
  const file = existsSync(pathOrDir) && statSync(pathOrDir).isDirectory() ? join(pathOrDir, 'config.json') : pathOrDir;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new FormatError(file, `cannot read model config: ${(e as Error).message}`, { cause: e, hint: 'a Hugging Face model folder holds config.json' });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new FormatError(file, `not valid JSON: ${(e as Error).message}`, { cause: e });
  }
  return parseLlamaConfig(json, file);
}

/** config.json's JSON for a LlamaConfig, keys sorted as transformers writes them. */
export function llamaConfigToJson(cfg: LlamaConfig): Record<string, unknown> {
  const out: Record<string, unknown> = {
    ...cfg,
    architectures: [...cfg.architectures],
    attention_bias: false,
    mlp_bias: false,
    rope_scaling: cfg.rope_scaling === null ? null : { ...cfg.rope_scaling },
  };
  return Object.fromEntries(Object.keys(out).sort().map((k) => [k, out[k]]));
}

/** Writes config.json atomically (a file path, or a folder to write `config.json` into). */
export function writeLlamaConfig(pathOrDir: string, cfg: LlamaConfig): string {
  const file = existsSync(pathOrDir) && statSync(pathOrDir).isDirectory() ? join(pathOrDir, 'config.json') : pathOrDir;
  parseLlamaConfig(llamaConfigToJson(cfg), file);
  writeBytesAtomic(file, `${JSON.stringify(llamaConfigToJson(cfg), null, 2)}\n`);
  return file;
}

/** The config's EOS ids as a list (empty when none). */
export function eosTokenIds(cfg: LlamaConfig): number[] {
  return cfg.eos_token_id === null ? [] : Array.isArray(cfg.eos_token_id) ? [...cfg.eos_token_id] : [cfg.eos_token_id];
}
