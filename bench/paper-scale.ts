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
import { closeSync, existsSync, openSync, readFileSync, readSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { getNumThreads, tidy } from '../src/torch/index.ts';
import { writeRandomModel } from './llama-shapes.ts';
import { loadBackbone } from '../src/model/backbone.ts';
import { Encoder, type SparseVector } from '../src/model/encoder.ts';
import { applyLora, PAPER_LORA } from '../src/model/lora.ts';
import { RetrievalTask } from '../src/train/retrieval.ts';
import { backward } from '../src/model/checkpointing.ts';
import { resolveTokenizer } from '../src/model/make-model.ts';

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
if (cmd === 'write') console.log(JSON.stringify({ wrote: a1, dir: rest[0], ...writeRandomModel(a1!, rest[0]!, resolveTokenizer('llama3')) }));
else if (cmd === 'encode') encode(a1!, rest);
else if (cmd === 'agree') agree(a1!, rest);
else if (cmd === 'train') train(a1!, rest);
else {
  console.error('usage: bench/paper-scale.ts write 1b|8b|180m DIR | encode DIR [...] | agree DIR | train DIR [...]');
  process.exit(2);
}
