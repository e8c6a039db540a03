/**
 * The GPU check (run by scripts/gpu-check.sh, bundled with its dependencies into one file so that it
 * runs where only Node and a CUDA Python torch exist). On a random model of the Llama-3.2-1B shape:
 * encodes texts on --device and on the CPU and compares the vectors, measures encode tokens/s, and runs
 * a few LoRA training steps (dense CL, the paper's lengths, bf16 autocast over f32 weights and over a
 * bf16 base, with and without activation checkpointing) reporting step time and MFU against the
 * device's bf16 peak. Prints and writes one JSON report.
 *
 *   node gpu-check.mjs --device cuda --tokenizer tokenizer.json --work DIR --out report.json [--shape 1b|small]
 * @module
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { engineInfo, native, requireDevice, tidy, type Device } from '../src/torch/index.ts';
import { loadBackbone } from '../src/model/backbone.ts';
import { Encoder, type SparseVector } from '../src/model/encoder.ts';
import { applyLora, PAPER_LORA } from '../src/model/lora.ts';
import { RetrievalTask } from '../src/train/retrieval.ts';
import { backward } from '../src/model/checkpointing.ts';
import { AdamW, autocast, deviceType } from '../src/torch/index.ts';
import { writeRandomModel } from '../bench/llama-shapes.ts';

function arg(name: string, dflt?: string): string {
  const i = process.argv.indexOf(name);
  const v = i >= 0 ? process.argv[i + 1] : dflt;
  if (v === undefined) throw new Error(`gpu-check: ${name} is required`);
  return v;
}

const device = requireDevice(arg('--device', 'cuda') as Device, 'gpu-check');
const shape = arg('--shape', '1b');
const work = arg('--work');
const outFile = arg('--out');
// Dense bf16 tensor-core peak of the chip (H200/H100 SXM: 989 TFLOP/s); CPU dry runs report MFU against this too.
const peak = Number(arg('--peak-tflops', '989')) * 1e12;
const sync = (): void => native().cudaSynchronize();
const report: Record<string, unknown> = { date: new Date().toISOString(), device, shape, engine: engineInfo(), peakTflops: peak / 1e12 };
delete (report.engine as { config?: string }).config;

const modelDir = path.join(work, `llama-${shape}`);
mkdirSync(work, { recursive: true });
report.write = writeRandomModel(shape, modelDir, arg('--tokenizer'));

const WORDS = 'the of retrieval model sparse dense passage query language vector index search large decoder scaling training bidirectional attention token weight'.split(' ');
const texts = (n: number, len: number): string[] => Array.from({ length: n }, (_, i) => Array.from({ length: len + 8 }, (_, j) => WORDS[(i * 31 + j * 7 + ((i * j) % 5)) % WORDS.length]).join(' '));

function cosine(a: Float32Array, b: Float32Array): number {
  let d = 0, x = 0, y = 0;
  for (let i = 0; i < a.length; i++) { d += a[i]! * b[i]!; x += a[i]! ** 2; y += b[i]! ** 2; }
  return d / Math.sqrt(x * y);
}
const dense = (v: SparseVector, V: number): Float32Array => {
  const out = new Float32Array(V);
  v.indices.forEach((t, i) => (out[t] = v.values[i]!));
  return out;
};

// 1. Vectors on the device against the CPU's (f32 weights on both; and the device's bf16 against CPU f32).
const sample = texts(8, 64);
const vectors: Record<string, (Float32Array | SparseVector)[]> = {};
for (const paradigm of ['dense', 'sparse'] as const) {
  for (const [where, dtype] of [['cpu', 'f32'], [device, 'f32'], [device, 'bf16']] as const) {
    const b = loadBackbone({ model: modelDir, paradigm, device: where, dtype });
    vectors[`${paradigm}/${where}/${dtype}`] = new Encoder(b.model, b.tokenizer, { paradigm, batchSize: 8, maxLength: { doc: 64 } }).encodeAll(sample, 'doc');
    b.model.dispose();
  }
  const V = 128256;
  const as = (v: Float32Array | SparseVector): Float32Array => (v instanceof Float32Array ? v : dense(v, V));
  const cmp = (k: string): number => Math.min(...sample.map((_, i) => cosine(as(vectors[`${paradigm}/cpu/f32`]![i]!), as(vectors[k]![i]!))));
  report[`${paradigm}CosineDeviceF32VsCpu`] = cmp(`${paradigm}/${device}/f32`);
  report[`${paradigm}CosineDeviceBf16VsCpu`] = cmp(`${paradigm}/${device}/bf16`);
}

// 2. Encode throughput on the device: 64 documents of 128 tokens per batch, bf16 weights (a dry run's
// small shape: 8 of 32, once, so that it stays a check of the path rather than a benchmark of the CPU).
const dry = shape === 'small';
for (const paradigm of ['dense', 'sparse'] as const) {
  const b = loadBackbone({ model: modelDir, paradigm, device, dtype: 'bf16' });
  const [nDocs, len, reps] = dry ? [8, 32, 1] : [64, 128, 3];
  const enc = new Encoder(b.model, b.tokenizer, { paradigm, batchSize: nDocs, maxLength: { doc: len } });
  const docs = texts(nDocs, len);
  enc.encodeMatrix(docs.slice(0, 2), 'doc');
  sync();
  const t0 = performance.now();
  let tokens = 0;
  for (let r = 0; r < reps; r++) tokens += enc.encodeMatrix(docs, 'doc').tokens;
  sync();
  report[`${paradigm}EncodeTokensPerSec`] = tokens / ((performance.now() - t0) / 1000);
  b.model.dispose();
}

// 3. LoRA training steps (dense CL, 8 queries x 17 documents, query 64 / document 128 tokens).
const runs: Record<string, unknown>[] = [];
for (const [dtype, ac, ckpt] of [['f32', true, false], ['f32', true, true], ['bf16', false, false]] as const) {
  const b = loadBackbone({ model: modelDir, paradigm: 'dense', device, dtype });
  applyLora(b.model, PAPER_LORA);
  b.model.model.gradientCheckpointing = ckpt;
  b.model.train(true);
  const params = b.model.namedParameters().filter(([k]) => /lora_/.test(k));
  const B = dry ? 2 : 8;
  const n = dry ? 1 : 16;
  const docs = texts(B * (2 + n), dry ? 32 : 128);
  const examples = Array.from({ length: B }, (_, i) => ({ query: docs[i]!.split(' ').slice(0, 40).join(' '), positive: docs[B + i]!, negatives: docs.slice(2 * B + i * n, 2 * B + (i + 1) * n) }));
  const task = new RetrievalTask({ model: b.model, tokenizer: b.tokenizer, paradigm: 'dense', objective: 'cl', examples, batchSize: B, negatives: n, maxLength: { query: 64, doc: 128 }, seed: 0, totalSteps: 10, params });
  const opt = new AdamW(params.map(([, p]) => p), { lr: 1e-4, weightDecay: 0 });
  const times: number[] = [];
  const losses: number[] = [];
  let flops = 0;
  for (let s = 0; s < (dry ? 3 : 5); s++) {
    sync();
    const t0 = performance.now();
    opt.zeroGrad();
    tidy(() => {
      const r = ac ? autocast('bf16', () => task.micro(s, s), deviceType(device)) : task.micro(s, s);
      backward(r.loss);
      losses.push(r.loss.item());
      flops = r.flops;
    });
    opt.step();
    sync();
    times.push((performance.now() - t0) / 1000);
  }
  const med = [...times.slice(1)].sort((x, y) => x - y)[Math.floor((times.length - 1) / 2)]!;
  runs.push({ weights: dtype, autocast: ac ? 'bf16' : null, gradCheckpointing: ckpt, batch: `${B}x${1 + n}`, stepSeconds: med, flopsPerStep: flops, mfu: flops / med / peak, losses });
  opt.dispose();
  b.model.dispose();
}
report.training = runs;
writeFileSync(outFile, JSON.stringify(report, null, 1));
console.log(JSON.stringify(report));
