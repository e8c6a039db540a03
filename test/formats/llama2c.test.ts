import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { FormatError } from '../../src/formats/errors.ts';
import { Llama2cCheckpoint, llama2cConfig, permuteRopeRows, readLlama2cCheckpoint, writeLlama2cCheckpoint } from '../../src/formats/llama2c.ts';
import { rawEqual, rawFromF32, rawToFloat32, type RawTensor } from '../../src/formats/raw-tensor.ts';
import { Llama2cTokenizer } from '../../src/text/llama2c-tokenizer.ts';

const data = resolve(import.meta.dirname, '../../../shared/data');
const stories = join(data, 'models/stories260K');

test('shared data is present (tests below need ../shared/data)', () => {
  assert.ok(existsSync(join(stories, 'stories260K.bin')), `missing ${stories}/stories260K.bin`);
});

test('RoPE row permutation, checked by hand on 2 heads of width 4', () => {
  // Row r holds the value r in every column, so the permuted row order reads off directly.
  const rows = 8;
  const cols = 2;
  const t = rawFromF32(Array.from({ length: rows * cols }, (_, i) => Math.floor(i / cols)), [rows, cols]);
  const hf = rawToFloat32(permuteRopeRows(t, 2, 'toHf'));
  // Per head [a0 a1 a2 a3] (pairs (a0,a1), (a2,a3)) → HF halves [a0 a2 | a1 a3].
  assert.deepEqual(Array.from(hf).filter((_, i) => i % cols === 0), [0, 2, 1, 3, 4, 6, 5, 7]);
  assert.ok(rawEqual(permuteRopeRows(permuteRopeRows(t, 2, 'toHf'), 2, 'toLlama2c'), t));
});

test('the permutation turns interleaved RoPE into rotate-half RoPE: attention scores agree', () => {
  const hd = 8;
  const heads = 2;
  const dim = 6;
  const rnd = (n: number, seed: number): number[] => Array.from({ length: n }, (_, i) => Math.sin(seed * 97 + i * 13.1));
  const wq = rawFromF32(rnd(heads * hd * dim, 1), [heads * hd, dim]);
  const wk = rawFromF32(rnd(heads * hd * dim, 2), [heads * hd, dim]);
  const x = [rnd(dim, 3), rnd(dim, 4)];
  const matvec = (w: Float32Array, v: number[]): number[] => Array.from({ length: w.length / v.length }, (_, r) => v.reduce((s, vi, c) => s + (w[r * v.length + c] as number) * vi, 0));
  const freq = (i: number): number => 1 / 10000 ** ((2 * i) / hd);
  // llama2.c run.c: rotate (v[2i], v[2i+1]) by pos·freq(i) within each head.
  const ropeInterleaved = (v: number[], pos: number): number[] => {
    const o = [...v];
    for (let j = 0; j < v.length; j += 2) {
      const th = pos * freq((j % hd) / 2);
      o[j] = (v[j] as number) * Math.cos(th) - (v[j + 1] as number) * Math.sin(th);
      o[j + 1] = (v[j] as number) * Math.sin(th) + (v[j + 1] as number) * Math.cos(th);
    }
    return o;
  };
  // HF apply_rotary_pos_emb: rotate (v[i], v[i + hd/2]) by pos·freq(i) within each head.
  const ropeHalves = (v: number[], pos: number): number[] => {
    const o = [...v];
    for (let h = 0; h < v.length / hd; h++) {
      for (let i = 0; i < hd / 2; i++) {
        const a = h * hd + i;
        const b = a + hd / 2;
        const th = pos * freq(i);
        o[a] = (v[a] as number) * Math.cos(th) - (v[b] as number) * Math.sin(th);
        o[b] = (v[a] as number) * Math.sin(th) + (v[b] as number) * Math.cos(th);
      }
    }
    return o;
  };
  const dots = (q: number[], k: number[]): number[] => Array.from({ length: heads }, (_, h) => q.slice(h * hd, h * hd + hd).reduce((s, qi, i) => s + qi * (k[h * hd + i] as number), 0));
  const [wqF, wkF] = [rawToFloat32(wq), rawToFloat32(wk)];
  const [wqH, wkH] = [rawToFloat32(permuteRopeRows(wq, heads, 'toHf')), rawToFloat32(permuteRopeRows(wk, heads, 'toHf'))];
  for (const [pq, pk] of [[0, 0], [3, 1], [7, 5]] as [number, number][]) {
    const meta = dots(ropeInterleaved(matvec(wqF, x[0] as number[]), pq), ropeInterleaved(matvec(wkF, x[1] as number[]), pk));
    const hf = dots(ropeHalves(matvec(wqH, x[0] as number[]), pq), ropeHalves(matvec(wkH, x[1] as number[]), pk));
    meta.forEach((m, h) => assert.ok(Math.abs(m - (hf[h] as number)) < 1e-5, `pos ${pq},${pk} head ${h}: ${m} vs ${hf[h]}`));
  }
});

function tinyConfig(shared: boolean): ReturnType<typeof llama2cConfig> {
  return llama2cConfig({ dim: 8, hidden_dim: 12, n_layers: 2, n_heads: 2, n_kv_heads: 1, vocab_size: 10, max_seq_len: 6, shared_classifier: shared, version: 0 });
}

function tinyTensors(cfg: ReturnType<typeof llama2cConfig>): Map<string, RawTensor> {
  const m = new Map<string, RawTensor>();
  let seed = 0;
  const put = (name: string, shape: number[]): void => {
    seed++;
    m.set(name, rawFromF32(Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => seed + i / 1000), shape));
  };
  const d = cfg.hidden_size;
  const kv = cfg.num_key_value_heads * cfg.head_dim;
  put('model.embed_tokens.weight', [cfg.vocab_size, d]);
  for (let i = 0; i < cfg.num_hidden_layers; i++) {
    put(`model.layers.${i}.input_layernorm.weight`, [d]);
    put(`model.layers.${i}.self_attn.q_proj.weight`, [d, d]);
    put(`model.layers.${i}.self_attn.k_proj.weight`, [kv, d]);
    put(`model.layers.${i}.self_attn.v_proj.weight`, [kv, d]);
    put(`model.layers.${i}.self_attn.o_proj.weight`, [d, d]);
    put(`model.layers.${i}.post_attention_layernorm.weight`, [d]);
    put(`model.layers.${i}.mlp.gate_proj.weight`, [cfg.intermediate_size, d]);
    put(`model.layers.${i}.mlp.up_proj.weight`, [cfg.intermediate_size, d]);
    put(`model.layers.${i}.mlp.down_proj.weight`, [d, cfg.intermediate_size]);
  }
  put('model.norm.weight', [d]);
  if (!cfg.tie_word_embeddings) put('lm_head.weight', [cfg.vocab_size, d]);
  return m;
}

test('tiny checkpoints, shared and unshared classifier: written in llama2.c layout and read back', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lion-l2c-'));
  for (const shared of [true, false]) {
    const cfg = tinyConfig(shared);
    const tensors = tinyTensors(cfg);
    const f = join(dir, `m${shared}.bin`);
    writeLlama2cCheckpoint(f, cfg, tensors);
    // File size from the layout by hand: header, weights, two RoPE tables of 6 × 2 floats.
    const weights = [...tensors.values()].reduce((s, t) => s + t.data.byteLength, 0);
    assert.equal(readFileSync(f).length, 28 + weights + 2 * 6 * 2 * 4);
    assert.equal(new DataView(readFileSync(f).buffer).getInt32(20, true), shared ? 10 : -10, 'negative vocab marks an unshared classifier');
    const back = readLlama2cCheckpoint(f);
    assert.deepEqual(back.config, cfg);
    assert.equal(back.tensors.has('lm_head.weight'), !shared);
    for (const [name, t] of tensors) assert.ok(rawEqual(back.tensors.get(name) as RawTensor, t), name);
  }
  rmSync(dir, { recursive: true });
});

test('version-1 ("ak42") checkpoints: header, then norms, embeddings, then the layer weights', () => {
  const cfg = tinyConfig(true);
  const t = tinyTensors(cfg);
  const head = new Uint8Array(256);
  const v = new DataView(head.buffer);
  v.setUint32(0, 0x616b3432, true);
  v.setInt32(4, 1, true);
  [8, 12, 2, 2, 1, 10, 6].forEach((x, i) => v.setInt32(8 + 4 * i, x, true));
  v.setUint8(36, 1);
  const L = [0, 1];
  const order = [
    ...L.map((i) => `model.layers.${i}.input_layernorm.weight`), ...L.map((i) => `model.layers.${i}.post_attention_layernorm.weight`),
    'model.norm.weight', 'model.embed_tokens.weight',
    ...['q_proj', 'k_proj', 'v_proj', 'o_proj'].flatMap((p) => L.map((i) => `model.layers.${i}.self_attn.${p}.weight`)),
    ...['gate_proj', 'down_proj', 'up_proj'].flatMap((p) => L.map((i) => `model.layers.${i}.mlp.${p}.weight`)),
  ];
  const meta = (name: string): RawTensor => {
    const x = t.get(name) as RawTensor;
    return /[qk]_proj/.test(name) ? permuteRopeRows(x, name.includes('q_proj') ? 2 : 1, 'toLlama2c') : x;
  };
  const dir = mkdtempSync(join(tmpdir(), 'lion-l2c-'));
  const f = join(dir, 'v1.bin');
  writeFileSync(f, Buffer.concat([head, ...order.map((n) => meta(n).data)]));
  const ck = Llama2cCheckpoint.open(f);
  assert.equal(ck.header.version, 1);
  for (const [name, x] of t) assert.ok(rawEqual(ck.read(name), x), name);
  rmSync(dir, { recursive: true });
});

test('bad llama2.c files: truncated, oversized, nonsense header', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lion-l2c-'));
  const bytes = readFileSync(join(stories, 'stories260K.bin'));
  const cut = join(dir, 'cut.bin');
  // 200,000 bytes = 7 header ints + 49,993 floats: embeddings (32,768) + attention norms (320) end at 33,088;
  // wq takes 4,096 floats per layer, so the cut falls inside layer 4's wq.
  writeFileSync(cut, bytes.subarray(0, 200_000));
  assert.throws(() => Llama2cCheckpoint.open(cut), (e: unknown) => e instanceof FormatError && e.file === cut && /truncated/.test(e.message) && e.key === 'model.layers.4.self_attn.q_proj.weight');
  const big = join(dir, 'big.bin');
  writeFileSync(big, Buffer.concat([bytes, Buffer.alloc(4)]));
  assert.throws(() => Llama2cCheckpoint.open(big), (e: unknown) => e instanceof FormatError && /4 bytes more/.test(e.message));
  const junk = join(dir, 'junk.bin');
  writeFileSync(junk, Buffer.alloc(64, 0));
  assert.throws(() => Llama2cCheckpoint.open(junk), (e: unknown) => e instanceof FormatError && /not a valid llama2.c header/.test(e.message));
  rmSync(dir, { recursive: true });
});

/**
 * A plain float64 Llama forward in Hugging Face's conventions (rotate-half RoPE, GQA, SwiGLU,
 * RMSNorm, tied head), independent of the model code: greedy decoding from BOS must give the output
 * stories260K.md documents for llama2.c's own `run`, which proves the layout, the wq/wk permutation
 * and the tokenizer's decode together.
 */
function greedyFromBos(ck: Llama2cCheckpoint, steps: number): number[] {
  const c = ck.config;
  const W = new Map<string, Float32Array>(ck.names().map((n) => [n, rawToFloat32(ck.read(n))]));
  const w = (n: string): Float32Array => W.get(n) as Float32Array;
  const d = c.hidden_size;
  const hd = c.head_dim;
  const nh = c.num_attention_heads;
  const nkv = c.num_key_value_heads;
  const matvec = (m: Float32Array, x: Float64Array): Float64Array => {
    const out = new Float64Array(m.length / x.length);
    for (let r = 0; r < out.length; r++) {
      let s = 0;
      for (let k = 0; k < x.length; k++) s += (m[r * x.length + k] as number) * (x[k] as number);
      out[r] = s;
    }
    return out;
  };
  const rms = (x: Float64Array, g: Float32Array): Float64Array => {
    const ms = x.reduce((s, v) => s + v * v, 0) / x.length;
    return x.map((v, i) => (v / Math.sqrt(ms + c.rms_norm_eps)) * (g[i] as number));
  };
  const rope = (v: Float64Array, pos: number): void => {
    for (let h = 0; h < v.length / hd; h++) {
      for (let i = 0; i < hd / 2; i++) {
        const th = pos / c.rope_theta ** ((2 * i) / hd);
        const a = h * hd + i;
        const b = a + hd / 2;
        const [x0, x1] = [v[a] as number, v[b] as number];
        v[a] = x0 * Math.cos(th) - x1 * Math.sin(th);
        v[b] = x0 * Math.sin(th) + x1 * Math.cos(th);
      }
    }
  };
  const keys: Float64Array[][] = Array.from({ length: c.num_hidden_layers }, () => []);
  const vals: Float64Array[][] = Array.from({ length: c.num_hidden_layers }, () => []);
  const emb = w('model.embed_tokens.weight');
  const out: number[] = [];
  let token = 1;
  for (let pos = 0; pos < steps; pos++) {
    let x = Float64Array.from(emb.subarray(token * d, token * d + d));
    for (let l = 0; l < c.num_hidden_layers; l++) {
      const p = `model.layers.${l}.`;
      const xb = rms(x, w(`${p}input_layernorm.weight`));
      const q = matvec(w(`${p}self_attn.q_proj.weight`), xb);
      const k = matvec(w(`${p}self_attn.k_proj.weight`), xb);
      const v = matvec(w(`${p}self_attn.v_proj.weight`), xb);
      rope(q, pos);
      rope(k, pos);
      (keys[l] as Float64Array[]).push(k);
      (vals[l] as Float64Array[]).push(v);
      const att = new Float64Array(nh * hd);
      for (let h = 0; h < nh; h++) {
        const kvh = Math.floor(h / (nh / nkv));
        const scores = (keys[l] as Float64Array[]).map((kt) => {
          let s = 0;
          for (let i = 0; i < hd; i++) s += (q[h * hd + i] as number) * (kt[kvh * hd + i] as number);
          return s / Math.sqrt(hd);
        });
        const mx = Math.max(...scores);
        const e = scores.map((s) => Math.exp(s - mx));
        const z = e.reduce((a, b) => a + b, 0);
        (vals[l] as Float64Array[]).forEach((vt, t) => {
          for (let i = 0; i < hd; i++) att[h * hd + i] = (att[h * hd + i] as number) + ((e[t] as number) / z) * (vt[kvh * hd + i] as number);
        });
      }
      x = x.map((xi, i) => xi + (matvec(w(`${p}self_attn.o_proj.weight`), att)[i] as number));
      const xm = rms(x, w(`${p}post_attention_layernorm.weight`));
      const g = matvec(w(`${p}mlp.gate_proj.weight`), xm);
      const u = matvec(w(`${p}mlp.up_proj.weight`), xm);
      const hmid = g.map((gi, i) => (gi / (1 + Math.exp(-gi))) * (u[i] as number));
      const down = matvec(w(`${p}mlp.down_proj.weight`), hmid);
      x = x.map((xi, i) => xi + (down[i] as number));
    }
    const logits = matvec(c.tie_word_embeddings ? emb : w('lm_head.weight'), rms(x, w('model.norm.weight')));
    let best = 0;
    for (let i = 1; i < logits.length; i++) if ((logits[i] as number) > (logits[best] as number)) best = i;
    if (best === 1) break; // run.c stops at BOS
    out.push(best);
    token = best;
  }
  return out;
}

test('stories260K: config from the header; a reference forward on the HF-named weights reproduces the documented greedy text', () => {
  const ck = Llama2cCheckpoint.open(join(stories, 'stories260K.bin'));
  assert.deepEqual(
    [ck.config.hidden_size, ck.config.intermediate_size, ck.config.num_hidden_layers, ck.config.num_attention_heads, ck.config.num_key_value_heads, ck.config.vocab_size, ck.config.max_position_embeddings],
    [64, 172, 5, 8, 4, 512, 512],
  );
  assert.equal(ck.config.tie_word_embeddings, true);
  assert.equal(ck.has('lm_head.weight'), false);
  const md = readFileSync(join(stories, 'stories260K.md'), 'utf8');
  const documented = (/\$ \.\/run stories260K\/stories260K\.bin -z stories260K\/tok512\.bin -t 0\.0\n([\s\S]*?)\n```/.exec(md) as RegExpExecArray)[1] as string;
  const ids = greedyFromBos(ck, 210);
  assert.ok(ids.length >= 200, `generated ${ids.length} tokens`);
  const tok = Llama2cTokenizer.fromFile(join(stories, 'tok512.bin'));
  const text = tok.decode([1, ...ids]);
  assert.ok(text.length > 400, `decoded ${text.length} characters`);
  assert.equal(text, documented.slice(0, text.length), 'greedy text is a prefix of the documented output');
});
