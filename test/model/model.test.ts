import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor, manualSeed, noGrad, tidy } from '../../src/torch/index.ts';
import { LlamaForCausalLM } from '../../src/model/llama.ts';
import { denseHead, sparseHead } from '../../src/model/heads.ts';
import { applyLora, loraParameters, mergeLora, unmergeLora, PAPER_LORA } from '../../src/model/lora.ts';
import { inverseFrequencies } from '../../src/model/rope.ts';
import type { LlamaArch } from '../../src/model/arch.ts';
import { assertClose } from '../torch/helpers.ts';

const TINY: LlamaArch = {
  vocab_size: 50,
  hidden_size: 32,
  intermediate_size: 64,
  num_hidden_layers: 2,
  num_attention_heads: 4,
  num_key_value_heads: 2,
  rms_norm_eps: 1e-5,
  rope_theta: 10000,
  tie_word_embeddings: true,
};

function tinyModel(seed = 0, arch: LlamaArch = TINY): LlamaForCausalLM {
  manualSeed(seed);
  // Random norms too, so the test exercises their weights rather than ones.
  const m = new LlamaForCausalLM(arch);
  noGrad(() => {
    for (const [n, p] of m.namedParameters()) if (n.endsWith('norm.weight')) tidy(() => void p.copy_(Tensor.rand(p.shape).add(0.5)));
  });
  return m.eval();
}
const ids = (rows: number[][]): Tensor => Tensor.from(BigInt64Array.from(rows.flat(), BigInt), [rows.length, rows[0]!.length], 'i64');
const ones = (b: number, t: number): Tensor => Tensor.ones([b, t], 'i64');

test('bidirectional: a later token changes an earlier state; causal: it does not', () => {
  const m = tinyModel();
  tidy(() => noGrad(() => {
    const a = ids([[1, 5, 7, 9, 11]]);
    const b = ids([[1, 5, 7, 9, 12]]); // only the last token differs
    const first = (x: Tensor, mode: 'causal' | 'bidirectional'): number[] => m.model.forward(x, ones(1, 5), mode).narrow(1, 0, 3).toList();
    const bi = [first(a, 'bidirectional'), first(b, 'bidirectional')];
    const ca = [first(a, 'causal'), first(b, 'causal')];
    const diff = (u: number[], v: number[]): number => Math.max(...u.map((x, i) => Math.abs(x - v[i]!)));
    assert.ok(diff(bi[0]!, bi[1]!) > 1e-3, `bidirectional states of earlier positions moved by ${diff(bi[0]!, bi[1]!)}`);
    assert.equal(diff(ca[0]!, ca[1]!), 0, 'causal states of earlier positions are untouched');
  }));
  m.dispose();
});

test('a text alone and inside a left-padded batch gives the same sparse and dense vector (1e-5)', () => {
  const m = tinyModel(1);
  tidy(() => noGrad(() => {
    const alone = ids([[1, 8, 3, 4]]);
    const batch = ids([[0, 0, 0, 1, 8, 3, 4], [1, 2, 3, 4, 5, 6, 7]]);
    const mask = Tensor.from(BigInt64Array.from([0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1].map(BigInt)), [2, 7], 'i64');
    const hA = m.model.forward(alone, ones(1, 4), 'bidirectional');
    const hB = m.model.forward(batch, mask, 'bidirectional');
    assertClose(denseHead(hB, mask).narrow(0, 0, 1).toList(), denseHead(hA, ones(1, 4)).toList(), 1e-5, 0, 'dense');
    assertClose(sparseHead(hB, mask, m.lmHeadWeight).narrow(0, 0, 1).toList(), sparseHead(hA, ones(1, 4), m.lmHeadWeight).toList(), 1e-5, 0, 'sparse');
  }));
  m.dispose();
});

test('sparse head by hand: masked max, d^-1/4 scale, log1p of relu', () => {
  tidy(() => {
    // d = 16 -> scale 1/2. W picks hidden coordinates 0 and 1 (V = 2).
    const d = 16;
    const h = new Float32Array(2 * 3 * d);
    const set = (b: number, t: number, j: number, v: number): void => void (h[(b * 3 + t) * d + j] = v);
    set(0, 0, 0, 2); set(0, 1, 0, 6); set(0, 2, 0, 100); // position 2 of row 0 is padding
    set(0, 0, 1, -4); set(0, 1, 1, -2); set(0, 2, 1, 50);
    set(1, 0, 0, -8); set(1, 1, 0, 1); set(1, 2, 0, 3);
    set(1, 0, 1, 0.5); set(1, 1, 1, 4); set(1, 2, 1, -1);
    const W = new Float32Array(2 * d);
    W[0] = 1; W[d + 1] = 1;
    const mask = Tensor.from(BigInt64Array.from([1n, 1n, 0n, 1n, 1n, 1n]), [2, 3], 'i64');
    const w = sparseHead(Tensor.from(h, [2, 3, d]), mask, Tensor.from(W, [2, d])).toList();
    // row 0: max(2, 6)/2 = 3 -> log 4; max(-4, -2)/2 < 0 -> 0. row 1: 3/2 -> log 2.5; 4/2 -> log 3
    assertClose(w, [Math.log(4), 0, Math.log(2.5), Math.log(3)], 1e-6, 1e-6);
  });
});

test('dense head by hand: mean of unit token vectors over non-pad positions, not renormalised', () => {
  tidy(() => {
    const h = Tensor.from([3, 4, 0, 2, 9, 9], [1, 3, 2]);
    const mask = Tensor.from(BigInt64Array.from([1n, 1n, 0n]), [1, 3], 'i64');
    // unit vectors (0.6, 0.8) and (0, 1): mean (0.3, 0.9), norm ≈ 0.949 < 1
    assertClose(denseHead(h, mask).toList(), [0.3, 0.9], 1e-6, 1e-6);
  });
});

test('chunked and unchunked sparse heads agree exactly where the arithmetic is exact', () => {
  // Small integers make every logit exact in f32 whatever order BLAS accumulates in, so any
  // difference would come from the chunking itself (running max, ties, padding), not from rounding.
  // (With real-valued inputs OpenBLAS's per-element summation order changes with matrix shape, so
  // bitwise equality across chunk sizes is impossible there; the next test bounds that difference.)
  tidy(() => {
    const [B, T, d, V] = [3, 9, 16, 40];
    const int = (n: number, seed: number): number[] => Array.from({ length: n }, (_, i) => ((i * 7919 + seed * 104729) % 9) - 4);
    // h ≥ 0; even vocabulary rows ≥ 0 (active terms), odd rows ≤ 0 (logits ≤ 0: ReLU zeroes them)
    const h = Tensor.from(int(B * T * d, 1).map(Math.abs), [B, T, d]);
    const W = Tensor.from(int(V * d, 2).map((v, i) => ((i / d) | 0) % 2 === 0 ? Math.abs(v) : -Math.abs(v)), [V, d]);
    const mask = Tensor.from(BigInt64Array.from(Array.from({ length: B * T }, (_, i) => BigInt(i % T >= (i / T | 0) * 2 ? 1 : 0))), [B, T], 'i64');
    const full = sparseHead(h, mask, W, { chunk: T }).toList();
    assert.ok(full.some((v) => v > 0) && full.some((v) => v === 0), 'the case has both active and inactive terms');
    for (const chunk of [1, 2, 4, 5]) assert.deepEqual(sparseHead(h, mask, W, { chunk }).toList(), full, `chunk ${chunk}`);
    // With gradients on, the two-pass path gives the same values too.
    const hg = h.detach().requiresGrad_();
    for (const chunk of [1, 4, T]) assert.deepEqual(sparseHead(hg, mask, W, { chunk }).toList(), full, `grad path, chunk ${chunk}`);
  });
});

test('chunked sparse heads on a real-valued model agree with the plain formula, values and gradients', () => {
  const m = tinyModel(2);
  m.train();
  const x = (): Tensor => ids([[0, 1, 4, 9, 2, 3, 3], [1, 7, 7, 7, 8, 9, 10]]);
  const maskOf = (): Tensor => Tensor.from(BigInt64Array.from([0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1].map(BigInt)), [2, 7], 'i64');
  const run = (pool: (h: Tensor, mask: Tensor) => Tensor): { w: number[]; g: number[] } =>
    tidy(() => {
      for (const p of m.parameters()) p.zeroGrad();
      const mask = maskOf();
      const w = pool(m.model.forward(x(), mask, 'bidirectional'), mask);
      w.mul(Tensor.arange(0, 50, 1, 'f32')).sum().backward();
      return { w: w.toList(), g: m.model.layers.at(0).self_attn.q_proj.weight.grad!.toList() };
    });
  // log1p(relu(max over masked positions of logits · d^-1/4)), with the whole [B, T, V] at once
  const plain = run((h, mask) => m.logits(h).mul(32 ** -0.25).add(mask.eq(0).to('f32').mul(-1e6).unsqueeze(2)).amax(1).relu().log1p());
  for (const chunk of [1, 3, 64]) {
    const c = run((h, mask) => sparseHead(h, mask, m.lmHeadWeight, { chunk }));
    assertClose(c.w, plain.w, 1e-6, 1e-6, `values, chunk ${chunk}`);
    // Gradients sum many f32 products through two layers: a few ulp of GEMM reordering shows as ~1e-5.
    assertClose(c.g, plain.g, 1e-5, 1e-4, `gradient, chunk ${chunk}`);
  }
  m.dispose();
});

test('LoRA: B = 0 leaves the model unchanged; merged and unmerged agree within 1e-5; only adapters train', () => {
  const m = tinyModel(3);
  tidy(() => noGrad(() => {
    const x = ids([[1, 2, 3, 4, 5]]);
    const before = m.forward(x, ones(1, 5), 'bidirectional').toList();
    const wrapped = applyLora(m, PAPER_LORA);
    assert.equal(wrapped.length, 2 * 7);
    m.eval();
    assertClose(m.forward(x, ones(1, 5), 'bidirectional').toList(), before, 0, 0, 'B = 0');
    for (const [, p] of loraParameters(m)) tidy(() => void p.copy_(Tensor.randn(p.shape).mul(0.1)));
    const unmerged = m.forward(x, ones(1, 5), 'bidirectional').toList();
    assert.ok(Math.max(...unmerged.map((v, i) => Math.abs(v - before[i]!))) > 1e-3, 'the adapter changes the output');
    mergeLora(m);
    assertClose(m.forward(x, ones(1, 5), 'bidirectional').toList(), unmerged, 1e-5, 0, 'merged');
    unmergeLora(m);
    assertClose(m.forward(x, ones(1, 5), 'bidirectional').toList(), unmerged, 1e-5, 0, 'unmerged again');
  }));
  const trainable = m.namedParameters().filter(([, p]) => p.requiresGrad).map(([n]) => n);
  assert.ok(trainable.length === 28 && trainable.every((n) => /\.lora_[AB]\.weight$/.test(n)), 'only lora_A/lora_B train');
  assert.ok(trainable.includes('model.layers.1.mlp.down_proj.lora_B.weight'));
  m.dispose();
});

test('llama3 RoPE scaling keeps high frequencies and divides low ones by the factor', () => {
  const arch: LlamaArch = { ...TINY, hidden_size: 2048, num_attention_heads: 32, num_key_value_heads: 8, rope_theta: 500000, rope_scaling: { rope_type: 'llama3', factor: 32, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 8192 } };
  const scaled = inverseFrequencies(arch);
  const plain = inverseFrequencies({ ...arch, rope_scaling: null });
  assert.equal(scaled.length, 32);
  assert.equal(scaled[0], plain[0], 'wavelength 2π < 8192/4: unchanged');
  assert.equal(scaled[31], plain[31]! / 32, 'wavelength > 8192: divided by factor');
  // A medium band exists and lies strictly between the two rules.
  const medium = [...scaled].findIndex((v, i) => v !== plain[i] && v !== plain[i]! / 32);
  assert.ok(medium > 0 && scaled[medium]! < plain[medium]! && scaled[medium]! > plain[medium]! / 32);
});
