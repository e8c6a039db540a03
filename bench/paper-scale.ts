/**
 * The paper's model shapes on one machine. Random weights with the exact configs of Llama-3.2-1B and
 * Llama-3-8B, written in bf16 safetensors as Meta ships them (the 1B as one model.safetensors, the 8B as
 * ≤5 GB shards plus model.safetensors.index.json), then loaded and encoded by Lion; the same forward in
 * python3-torch (bench/paper_scale_torch.py) on the same weights and token ids is the reference.
 * Each measurement runs in its own process so that peak RSS (VmHWM) belongs to it alone.
 *
 *   node --import tsx bench/paper-scale.ts write 1b|8b|180m DIR     random weights + config + tokenizer
 *   node --import tsx bench/paper-scale.ts encode DIR --dtype bf16|f32 --paradigm dense|sparse [--texts 8 --length 64 --bf16]
 *   node --import tsx bench/paper-scale.ts agree DIR                  f32 vs bf16 vectors (dense cosine, sparse top-20 overlap)
 *   node --import tsx bench/paper-scale.ts train DIR [--dtype bf16] [--grad-checkpointing]   peak RSS of a LoRA training step
 *
 * Prints one JSON object per run. Threads: LION_NUM_THREADS (the RESULTS runs use 2).
 */
import { closeSync, copyFileSync, existsSync, mkdirSync, openSync, readFileSync, readSync, statSync, writeFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import { Tensor, getNumThreads, manualSeed, noGrad, tidy } from '../src/torch/index.ts';
import { loadBackbone } from '../src/model/backbone.ts';
import { Encoder, type SparseVector } from '../src/model/encoder.ts';
import { applyLora, PAPER_LORA } from '../src/model/lora.ts';
import { RetrievalTask } from '../src/train/retrieval.ts';
import { backward } from '../src/model/checkpointing.ts';
import { resolveTokenizer } from '../src/model/make-model.ts';
import { tensorToRaw } from '../src/model/weights.ts';

// ---- configs: config.json as shipped on the hub (meta-llama/Llama-3.2-1B, meta-llama/Meta-Llama-3-8B) --

const LLAMA_3_2_1B = {
  architectures: ['LlamaForCausalLM'], attention_bias: false, attention_dropout: 0.0, bos_token_id: 128000, eos_token_id: 128001, head_dim: 64,
  hidden_act: 'silu', hidden_size: 2048, initializer_range: 0.02, intermediate_size: 8192, max_position_embeddings: 131072, mlp_bias: false,
  model_type: 'llama', num_attention_heads: 32, num_hidden_layers: 16, num_key_value_heads: 8, pretraining_tp: 1, rms_norm_eps: 1e-5,
  rope_scaling: { factor: 32.0, high_freq_factor: 4.0, low_freq_factor: 1.0, original_max_position_embeddings: 8192, rope_type: 'llama3' },
  rope_theta: 500000.0, tie_word_embeddings: true, torch_dtype: 'bfloat16', transformers_version: '4.45.0.dev0', use_cache: true, vocab_size: 128256,
};
const LLAMA_3_8B = {
  architectures: ['LlamaForCausalLM'], attention_bias: false, attention_dropout: 0.0, bos_token_id: 128000, eos_token_id: 128001, hidden_act: 'silu',
  hidden_size: 4096, initializer_range: 0.02, intermediate_size: 14336, max_position_embeddings: 8192, model_type: 'llama', num_attention_heads: 32,
  num_hidden_layers: 32, num_key_value_heads: 8, pretraining_tp: 1, rms_norm_eps: 1e-5, rope_scaling: null, rope_theta: 500000.0,
  tie_word_embeddings: false, torch_dtype: 'bfloat16', transformers_version: '4.40.0.dev0', use_cache: true, vocab_size: 128256,
};
/** ~174M parameters over Llama-3's vocabulary (the bf16-vs-f32 agreement model), stored in f32. */
const LLAMA_180M = { ...LLAMA_3_2_1B, hidden_size: 768, intermediate_size: 2048, num_attention_heads: 12, num_key_value_heads: 4, head_dim: 64, num_hidden_layers: 12, torch_dtype: 'float32' };

type Config = typeof LLAMA_3_8B | typeof LLAMA_3_2_1B;

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
      const raw = noGrad(() => tidy(() => tensorToRaw((n.endsWith('norm.weight') ? Tensor.ones(s) : Tensor.randn(s).mul(0.02)).to(dtype === 'BF16' ? 'bf16' : 'f32'))));
      for (let o = 0; o < raw.data.byteLength; o += 1 << 30) writeSync(fd, raw.data.subarray(o, Math.min(raw.data.byteLength, o + (1 << 30))));
    }
  } finally {
    closeSync(fd);
  }
  return off;
}

function write(which: string, dir: string): void {
  const c = which === '8b' ? LLAMA_3_8B : which === '1b' ? LLAMA_3_2_1B : which === '180m' ? LLAMA_180M : null;
  if (!c) throw new Error(`unknown model '${which}' (1b, 8b or 180m)`);
  mkdirSync(dir, { recursive: true });
  manualSeed(0);
  const dtype = c.torch_dtype === 'bfloat16' ? 'BF16' : 'F32';
  const list = tensorList(c);
  const t0 = performance.now();
  let bytes = 0;
  if (which === '8b') {
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
  const tok = resolveTokenizer('llama3');
  copyFileSync(tok, path.join(dir, 'tokenizer.json'));
  const tc = path.join(path.dirname(tok), 'tokenizer_config.json');
  if (existsSync(tc)) copyFileSync(tc, path.join(dir, 'tokenizer_config.json'));
  console.log(JSON.stringify({ wrote: which, dir, params: list.reduce((a, [, s]) => a + numel(s), 0), bytes, seconds: (performance.now() - t0) / 1000 }));
}

// ---- measurements ------------------------------------------------------------------------------------

/** Peak resident memory since the last reset (VmHWM), in bytes; resetPeak() starts a new window. */
function peakRss(): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  return Number(m![1]) * 1024;
}
function resetPeak(): void {
  writeFileSync('/proc/self/clear_refs', '5');
}

function flag(args: string[], name: string, dflt?: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : dflt;
}

const WORDS = 'the of retrieval model sparse dense passage query language vector index search large decoder scaling training bidirectional attention token weight'.split(' ');
/** Deterministic texts long enough to fill `length` tokens. */
function texts(n: number, length: number): string[] {
  return Array.from({ length: n }, (_, i) => Array.from({ length: length + 8 }, (_, j) => WORDS[(i * 31 + j * 7 + ((i * j) % 5)) % WORDS.length]).join(' '));
}

function weightBytes(dir: string): number {
  const index = path.join(dir, 'model.safetensors.index.json');
  if (existsSync(index)) return (JSON.parse(readFileSync(index, 'utf8')) as { metadata: { total_size: number } }).metadata.total_size;
  const file = path.join(dir, 'model.safetensors');
  const fd = openSync(file, 'r');
  const len = Buffer.alloc(8);
  readSync(fd, len, 0, 8, 0);
  closeSync(fd);
  return statSync(file).size - 8 - Number(len.readBigUInt64LE());
}

function encode(dir: string, args: string[]): void {
  const dtype = (flag(args, '--dtype', 'bf16') as 'bf16' | 'f32');
  const paradigm = flag(args, '--paradigm', 'dense') as 'dense' | 'sparse';
  const n = Number(flag(args, '--texts', '8'));
  const length = Number(flag(args, '--length', '64'));
  const rssStart = process.memoryUsage.rss();
  resetPeak();
  const t0 = performance.now();
  const b = loadBackbone({ model: dir, paradigm, dtype });
  const loadSeconds = (performance.now() - t0) / 1000;
  const peakLoad = peakRss();
  const rssLoaded = process.memoryUsage.rss();
  const enc = new Encoder(b.model, b.tokenizer, { paradigm, batchSize: n, maxLength: { doc: length }, autocast: args.includes('--bf16') ? 'bf16' : undefined });
  const docs = texts(n, length);
  const batch = b.tokenizer.encodeBatch(docs, length);
  enc.encodeMatrix(docs.slice(0, 1), 'doc'); // warm-up (first-call allocations)
  resetPeak();
  const t1 = performance.now();
  const { data, tokens } = enc.encodeMatrix(docs, 'doc');
  const seconds = (performance.now() - t1) / 1000;
  const out = flag(args, '--save');
  if (out) writeFileSync(out, JSON.stringify({ ids: Array.from(batch.ids), mask: Array.from(batch.attentionMask), batch: batch.batch, seqLen: batch.seqLen, vectors: Array.from(data) }));
  console.log(JSON.stringify({
    model: path.basename(dir), dtype, paradigm, threads: getNumThreads(), texts: n, tokens, paddedTokens: batch.batch * batch.seqLen,
    weightBytes: weightBytes(dir), loadSeconds, peakRssLoad: peakLoad, rssStart, rssLoaded, encodeSeconds: seconds, tokensPerSec: tokens / seconds, peakRssEncode: peakRss(),
  }));
  b.model.dispose();
}

function cosine(a: Float32Array, b: Float32Array): number {
  let d = 0, x = 0, y = 0;
  for (let i = 0; i < a.length; i++) { d += a[i]! * b[i]!; x += a[i]! ** 2; y += b[i]! ** 2; }
  return d / Math.sqrt(x * y);
}

function top(v: SparseVector, k: number): Set<number> {
  return new Set([...v.indices].map((t, i) => [t, v.values[i]!] as const).sort((p, q) => q[1] - p[1]).slice(0, k).map(([t]) => t));
}

/** f32 and bf16 encodings of the same texts from one f32 checkpoint (bf16 converted at load). */
function agree(dir: string, args: string[]): void {
  const n = Number(flag(args, '--texts', '16'));
  const length = Number(flag(args, '--length', '64'));
  const docs = texts(n, length);
  const result: Record<string, unknown> = { model: path.basename(dir), texts: n, length };
  for (const paradigm of ['dense', 'sparse'] as const) {
    const vecs: Record<string, (Float32Array | SparseVector)[]> = {};
    for (const dtype of ['f32', 'bf16'] as const) {
      const b = loadBackbone({ model: dir, paradigm, dtype });
      vecs[dtype] = new Encoder(b.model, b.tokenizer, { paradigm, batchSize: 8, maxLength: { doc: length } }).encodeAll(docs, 'doc');
      b.model.dispose();
    }
    if (paradigm === 'dense') {
      const cs = docs.map((_, i) => cosine(vecs.f32![i] as Float32Array, vecs.bf16![i] as Float32Array));
      result.denseCosineMin = Math.min(...cs);
      result.denseCosineMean = cs.reduce((a, b) => a + b, 0) / cs.length;
    } else {
      const ov = docs.map((_, i) => {
        const a = top(vecs.f32![i] as SparseVector, 20);
        const b = top(vecs.bf16![i] as SparseVector, 20);
        return [...a].filter((t) => b.has(t)).length / 20;
      });
      result.sparseTop20OverlapMin = Math.min(...ov);
      result.sparseTop20OverlapMean = ov.reduce((a, b) => a + b, 0) / ov.length;
    }
  }
  console.log(JSON.stringify(result));
}

/** Peak RSS of LoRA training steps (dense CL, the paper's 64/128 lengths) with or without checkpointing. */
function train(dir: string, args: string[]): void {
  const dtype = flag(args, '--dtype', 'f32') as 'f32' | 'bf16';
  const ckpt = args.includes('--grad-checkpointing');
  const B = Number(flag(args, '--batch', '4'));
  const n = Number(flag(args, '--negatives', '3'));
  const b = loadBackbone({ model: dir, paradigm: 'dense', dtype });
  applyLora(b.model, PAPER_LORA);
  b.model.model.gradientCheckpointing = ckpt;
  b.model.train(true);
  const params = b.model.namedParameters().filter(([k]) => /lora_/.test(k));
  const docs = texts(B * (2 + n), 128);
  const examples = Array.from({ length: B }, (_, i) => ({ query: docs[i]!.split(' ').slice(0, 40).join(' '), positive: docs[B + i]!, negatives: docs.slice(2 * B + i * n, 2 * B + (i + 1) * n) }));
  const task = new RetrievalTask({ model: b.model, tokenizer: b.tokenizer, paradigm: 'dense', objective: 'cl', examples, batchSize: B, negatives: n, maxLength: { query: 64, doc: 128 }, seed: 0, totalSteps: 2, params });
  const step = (u: number): number => {
    const t0 = performance.now();
    tidy(() => backward(task.micro(u, 0).loss));
    for (const [, p] of params) p.zeroGrad();
    return (performance.now() - t0) / 1000;
  };
  step(0); // warm-up
  const before = process.memoryUsage.rss();
  resetPeak();
  const seconds = step(1);
  console.log(JSON.stringify({ model: path.basename(dir), dtype, gradCheckpointing: ckpt, batch: B, docsPerQuery: 1 + n, rssBefore: before, peakRssStep: peakRss(), stepSeconds: seconds, threads: getNumThreads() }));
  b.model.dispose();
}

const [cmd, a1, ...rest] = process.argv.slice(2);
if (cmd === 'write') write(a1!, rest[0]!);
else if (cmd === 'encode') encode(a1!, rest);
else if (cmd === 'agree') agree(a1!, rest);
else if (cmd === 'train') train(a1!, rest);
else {
  console.error('usage: bench/paper-scale.ts write 1b|8b|180m DIR | encode DIR [...] | agree DIR | train DIR [...]');
  process.exit(2);
}
