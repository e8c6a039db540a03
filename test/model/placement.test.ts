// Devices and weight dtypes: where a loaded model and a training step put their tensors, load-time
// conversion to bf16, and the usage error for a device the linked libtorch lacks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DeviceUnavailableError, Tensor, devices, native, parseDevice, requireDevice, type Device } from '../../src/torch/index.ts';
import { HfTokenizer } from '../../src/text/hf-tokenizer.ts';
import { makeModel, resolveTokenizer } from '../../src/model/make-model.ts';
import { loadBackbone } from '../../src/model/backbone.ts';
import { Encoder } from '../../src/model/encoder.ts';
import { applyLora, PAPER_LORA } from '../../src/model/lora.ts';
import { RetrievalTask } from '../../src/train/retrieval.ts';
import { backward } from '../../src/model/checkpointing.ts';
import { AdamW } from '../../src/torch/index.ts';
import { trainRetriever } from '../../src/train/recipes.ts';
import type { TrainingExample } from '../../src/data/training.ts';
import { placement, UsageError } from '../../src/cli/flags.ts';
import { openCheckpoint } from '../../src/formats/checkpoint.ts';
import { rawToTensor, tensorToRaw } from '../../src/model/weights.ts';

// Every device this build can use: cpu always, each GPU when a CUDA libtorch sees one.
const DEVICES = devices() as Device[];
const WORDS = 'apple river stone cloud tiger piano glass forest'.split(' ');
const EXAMPLES = WORDS.map((w, i) => ({ query: w, positive: `${w} ${w} is here`, negatives: [WORDS[(i + 1) % 8]!, WORDS[(i + 3) % 8]!] }));

function withModel<T>(fn: (dir: string) => T): T {
  const work = mkdtempSync(path.join(tmpdir(), 'lion-place-'));
  try {
    const dir = path.join(work, 'model');
    makeModel(dir, { hidden: 64, layers: 2, heads: 4, kvHeads: 2, intermediate: 128 }, HfTokenizer.fromFile(resolveTokenizer('llama3')), 5);
    return fn(dir);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

test('device names parse, and cuda on a build without CUDA is a usage error that names CUDA and the fix', () => {
  assert.equal(parseDevice('cpu'), 'cpu');
  assert.equal(parseDevice('cuda:1'), 'cuda:1');
  assert.equal(parseDevice('gpu'), null);
  assert.equal(parseDevice('cuda:01'), null);
  assert.throws(() => placement('encode', { device: 'gpu', dtype: 'f32' }), (e: unknown) => e instanceof UsageError && /--device/.test((e as Error).message));
  assert.throws(() => placement('encode', { device: 'cpu', dtype: 'f8' }), UsageError);
  if (!native().cudaBuild()) {
    assert.throws(() => requireDevice('cuda', 'lion encode'), (e: unknown) => e instanceof DeviceUnavailableError && e.exitCode === 2 && /CUDA/.test((e as Error).message) && /LIBTORCH/.test((e as Error).message));
    assert.throws(() => placement('encode', { device: 'cuda:0', dtype: 'f32' }), (e: unknown) => e instanceof UsageError && /needs CUDA/.test((e as Error).message) && /lion doctor/.test((e as Error).message));
  }
});

for (const device of DEVICES) {
  test(`${device}: every tensor of a bf16-loaded model is bf16 on ${device}, and its encodings match f32`, () => {
    withModel((dir) => {
      const f32 = loadBackbone({ model: dir, paradigm: 'sparse', device });
      const bf16 = loadBackbone({ model: dir, paradigm: 'sparse', device, dtype: 'bf16' });
      try {
        for (const [n, p] of bf16.model.namedParameters()) {
          assert.equal(p.device, device, n);
          assert.equal(p.dtype, 'bf16', n);
        }
        for (const [n, p] of f32.model.namedParameters()) assert.equal(p.dtype, 'f32', n);
        const texts = ['what is the capital of france', 'paris is the capital and largest city of france'];
        for (const paradigm of ['sparse', 'dense'] as const) {
          const a = new Encoder(f32.model, f32.tokenizer, { paradigm }).encodeAll(texts, 'doc');
          const b = new Encoder(bf16.model, bf16.tokenizer, { paradigm }).encodeAll(texts, 'doc');
          if (paradigm === 'dense') {
            for (let i = 0; i < texts.length; i++) {
              const x = a[i] as Float32Array;
              const y = b[i] as Float32Array;
              let dot = 0, nx = 0, ny = 0;
              for (let j = 0; j < x.length; j++) { dot += x[j]! * y[j]!; nx += x[j]! ** 2; ny += y[j]! ** 2; }
              assert.ok(dot / Math.sqrt(nx * ny) > 0.995, `dense cosine ${dot / Math.sqrt(nx * ny)}`);
            }
          } else {
            for (let i = 0; i < texts.length; i++) {
              const top = (v: { indices: Uint32Array; values: Float32Array }): Set<number> => new Set([...v.indices].map((t, k) => [t, v.values[k]!] as const).sort((p, q) => q[1] - p[1]).slice(0, 20).map(([t]) => t));
              const ta = top(a[i] as never);
              const tb = top(b[i] as never);
              const overlap = [...ta].filter((t) => tb.has(t)).length / 20;
              assert.ok(overlap >= 0.7, `sparse top-20 overlap ${overlap}`);
            }
          }
        }
      } finally {
        f32.model.dispose();
        bf16.model.dispose();
      }
    });
  });

  test(`${device}: a LoRA training step over a bf16 base keeps inputs, grads and AdamW state on ${device}, LoRA and moments in f32`, () => {
    withModel((dir) => {
      const b = loadBackbone({ model: dir, paradigm: 'dense', device, dtype: 'bf16' });
      try {
        applyLora(b.model, PAPER_LORA);
        const params = b.model.namedParameters().filter(([n]) => /lora_/.test(n));
        const task = new RetrievalTask({ model: b.model, tokenizer: b.tokenizer, paradigm: 'dense', objective: 'cl+kd', examples: EXAMPLES.map((e) => ({ ...e, positiveScore: 3, negativeScores: [1, 0] })), batchSize: 4, negatives: 2, maxLength: { query: 16, doc: 16 }, seed: 0, totalSteps: 10, params });
        const opt = new AdamW(params.map(([, p]) => p), { lr: 1e-3 });
        try {
          b.model.train(true);
          const r = task.micro(0, 0);
          assert.equal(r.loss.device, device);
          backward(r.loss);
          r.loss.dispose();
          opt.step();
          for (const [n, p] of params) {
            assert.equal(p.device, device, n);
            assert.equal(p.dtype, 'f32', n);
            const g = p.grad;
            assert.ok(g, `${n} has a gradient`);
            assert.equal(g.device, device, `${n}.grad`);
            g.dispose();
          }
          for (const [n, p] of b.model.namedParameters()) if (!/lora_/.test(n)) assert.equal(p.dtype, 'bf16', n);
          for (const s of opt.stateDict()) {
            assert.ok(s, 'every LoRA weight has AdamW state after a step');
            for (const t of [s.expAvg, s.expAvgSq]) {
              assert.equal(t.device, device);
              assert.equal(t.dtype, 'f32');
              t.dispose();
            }
          }
        } finally {
          opt.dispose();
        }
      } finally {
        b.model.dispose();
      }
    });
  });
}

test('bf16 LoRA training over a frozen bf16 base runs, learns, and records the dtype', async () => {
  const work = mkdtempSync(path.join(tmpdir(), 'lion-bf16lora-'));
  try {
    const model = path.join(work, 'model');
    makeModel(model, { hidden: 32, layers: 1, heads: 4, intermediate: 64 }, HfTokenizer.fromFile(resolveTokenizer('llama3')), 3);
    const examples: TrainingExample[] = WORDS.map((w, i) => ({ query: { text: w }, positives: [{ text: `${w} ${w}` }], negatives: [{ text: WORDS[(i + 1) % 8]! }, { text: WORDS[(i + 3) % 8]! }] }));
    const out = path.join(work, 'run');
    const s = await trainRetriever({ model, output: out, paradigm: 'dense', objective: 'cl', examples, trainFile: 'x', corpus: new Map(), negatives: 2, batchSize: 4, steps: 30, lr: 3e-3, seed: 0, saveEvery: 30, tuning: { kind: 'lora', lora: { ...PAPER_LORA, dropout: 0 } }, dtype: 'bf16', device: 'cpu' });
    const log = readFileSync(path.join(out, 'train.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { loss?: number; config?: { dtype?: string } });
    assert.equal(log[0]!.config?.dtype, 'bf16');
    const losses = log.filter((r) => r.loss !== undefined).map((r) => r.loss!);
    assert.equal(s.step, 30);
    assert.ok(losses.every(Number.isFinite));
    const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
    assert.ok(mean(losses.slice(-5)) < mean(losses.slice(0, 5)) - 0.05, `loss ${mean(losses.slice(0, 5)).toFixed(3)} -> ${mean(losses.slice(-5)).toFixed(3)}`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});

test('a checkpoint tensor converts to its dtype in one copy, on the requested device', () => {
  const src = Tensor.from(Float32Array.from([-2.25, 3.015625, 3.0078125, 1e-3]), [2, 2], 'f32', 'cpu', 'bf16');
  try {
    assert.equal(src.dtype, 'bf16');
    assert.deepEqual(src.shape, [2, 2]);
    // bf16 keeps 3 + 2^-6 exactly, rounds the tie 3 + 2^-7 to even (3) and 1e-3 to its nearest bf16.
    assert.deepEqual(Array.from(src.toFloat32Array()), [-2.25, 3.015625, 3, 0.00099945068359375]);
  } finally {
    src.dispose();
  }
});

test('a tensor larger than the 64 MiB stream buffer loads piece by piece into the same values as a whole read', () => {
  const work = mkdtempSync(path.join(tmpdir(), 'lion-stream-'));
  try {
    const dir = path.join(work, 'model');
    // 128,256 × 160 f32 = 82 MB of embeddings: streamed in two pieces.
    makeModel(dir, { hidden: 160, layers: 1, heads: 4, intermediate: 64 }, HfTokenizer.fromFile(resolveTokenizer('llama3')), 9);
    const raw = openCheckpoint(dir).read('model.embed_tokens.weight');
    assert.ok(raw.data.byteLength > 64 * 2 ** 20);
    for (const dtype of ['f32', 'bf16'] as const) {
      const whole = rawToTensor(raw, 'embed', { dtype });
      const b = loadBackbone({ model: dir, paradigm: 'dense', dtype });
      try {
        const a = tensorToRaw(b.model.model.embed_tokens.weight);
        const w = tensorToRaw(whole);
        assert.equal(a.dtype, w.dtype);
        assert.ok(Buffer.from(a.data).equals(Buffer.from(w.data)), `${dtype}: streamed and whole loads differ`);
      } finally {
        whole.dispose();
        b.model.dispose();
      }
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});
