// LoRA adapters at the model level: both released key layouts, from .safetensors and .bin, round trips,
// and adapters that do not fit the base model.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Tensor, noGrad, tidy } from '../../src/torch/index.ts';
import { HfTokenizer } from '../../src/text/hf-tokenizer.ts';
import { makeModel } from '../../src/model/make-model.ts';
import { loadBackbone, saveAdapter, vectorIdentity } from '../../src/model/backbone.ts';
import { applyLora, loraParameters, PAPER_LORA } from '../../src/model/lora.ts';
import { resolveTokenizer } from '../../src/model/make-model.ts';
import type { LlamaForCausalLM } from '../../src/model/llama.ts';

const work = mkdtempSync(path.join(tmpdir(), 'lion-adapter-'));
const base = path.join(work, 'base');
makeModel(base, { hidden: 32, layers: 2, heads: 4, kvHeads: 2, intermediate: 64 }, HfTokenizer.fromFile(resolveTokenizer('llama3')), 5);
process.on('exit', () => rmSync(work, { recursive: true, force: true }));

const input = (): [Tensor, Tensor] => [Tensor.from(BigInt64Array.from([128000n, 3923n, 374n, 279n, 6864n]), [1, 5], 'i64'), Tensor.ones([1, 5], 'i64')];
const hidden = (m: LlamaForCausalLM): number[] => noGrad(() => tidy(() => m.model.forward(...input(), 'bidirectional').toList()));

/** The base model with random non-zero adapters, saved in `layout` and `format`; returns its output. */
function makeAdapter(dir: string, layout: 'sparse' | 'dense', format: 'safetensors' | 'bin'): { out: number[]; lora: Map<string, number[]> } {
  const b = loadBackbone({ model: base, paradigm: layout });
  applyLora(b.model, PAPER_LORA);
  noGrad(() => { for (const [, p] of loraParameters(b.model)) tidy(() => void p.copy_(Tensor.randn(p.shape).mul(0.05))); });
  b.model.eval();
  saveAdapter(dir, b.model, { r: 16, alpha: 32, dropout: 0.05, layout, format });
  const r = { out: hidden(b.model), lora: new Map(loraParameters(b.model).map(([n, p]) => [n, p.toList()])) };
  b.model.dispose();
  return r;
}

for (const layout of ['sparse', 'dense'] as const) {
  for (const format of ['safetensors', 'bin'] as const) {
    test(`a ${layout}-layout adapter in .${format} loads back bit-exactly and reproduces the adapted model`, () => {
      const dir = path.join(work, `${layout}-${format}`);
      const made = makeAdapter(dir, layout, format);
      const keys = Object.keys(readAdapterKeys(dir, format));
      const prefix = layout === 'sparse' ? 'base_model.model.model.layers.0.' : 'base_model.model.layers.0.';
      assert.ok(keys.some((k) => k.startsWith(prefix)), `keys use the ${layout} layout (${keys[0]})`);
      const cfg = JSON.parse(readFileSync(path.join(dir, 'adapter_config.json'), 'utf8')) as { auto_mapping: { base_model_class: string } };
      assert.equal(cfg.auto_mapping.base_model_class, layout === 'sparse' ? 'LlamaBiForMNTP' : 'LlamaBiModel');
      const b = loadBackbone({ model: base, adapter: dir, paradigm: layout });
      try {
        assert.equal(b.adapter?.layout, layout);
        const loaded = new Map(loraParameters(b.model).map(([n, p]) => [n, p.toList()]));
        assert.equal(loaded.size, made.lora.size);
        for (const [n, v] of made.lora) assert.deepEqual(loaded.get(n), v, `${n} round-trips bit-exactly`);
        assert.deepEqual(hidden(b.model), made.out, 'the loaded adapter gives the same states');
      } finally {
        b.model.dispose();
      }
    });
  }
}

test('an adapter whose shapes do not fit the base model is refused, naming the file and tensor', () => {
  const dir = path.join(work, 'misfit');
  makeAdapter(dir, 'sparse', 'safetensors');
  const other = path.join(work, 'other-base');
  makeModel(other, { hidden: 48, layers: 2, heads: 4, intermediate: 64 }, HfTokenizer.fromFile(resolveTokenizer('llama3')), 1);
  assert.throws(() => loadBackbone({ model: other, adapter: dir, paradigm: 'sparse' }), /adapter_model\.safetensors: shape \[\d+, \d+\] does not fit the base model's \w+_proj.*tensor 'base_model\.model\.model\.layers\.\d+\.[\w.]+lora_[AB]\.weight'/);
});

test("vectors name an adapter by its bytes, not its folder's name", () => {
  // two different adapters, each in a folder called 'adapter'; a copy of the first under another name
  const a = path.join(work, 'run-a', 'adapter');
  const b = path.join(work, 'run-b', 'adapter');
  const copy = path.join(work, 'renamed');
  mkdirSync(path.dirname(a), { recursive: true });
  mkdirSync(path.dirname(b), { recursive: true });
  makeAdapter(a, 'dense', 'safetensors');
  makeAdapter(b, 'dense', 'safetensors');
  cpSync(a, copy, { recursive: true });
  const hash = (dir: string): string => {
    const m = loadBackbone({ model: base, adapter: dir, paradigm: 'dense' });
    try {
      return vectorIdentity(m, 'dense').modelHash;
    } finally {
      m.model.dispose();
    }
  };
  const plain = loadBackbone({ model: base, paradigm: 'dense' });
  const baseHash = vectorIdentity(plain, 'dense').modelHash;
  plain.model.dispose();
  assert.notEqual(hash(a), hash(b), 'same folder name, different weights');
  assert.equal(hash(copy), hash(a), 'same weights, another folder name');
  assert.notEqual(hash(a), baseHash, 'an adapted model is not its base');
  assert.ok(hash(a).startsWith(baseHash), 'the base model is still named first');
});

test('a dense model is built without an LM head and ignores the checkpoint lm_head', () => {
  const b = loadBackbone({ model: base, paradigm: 'dense' });
  try {
    assert.equal(b.model.hasLmHead, false);
    assert.throws(() => b.model.lmHeadWeight, /without an LM head/);
  } finally {
    b.model.dispose();
  }
});

test('a checkpoint missing a tensor names the file and the key', () => {
  const dir = path.join(work, 'broken');
  makeModel(dir, { hidden: 32, layers: 2, heads: 4, intermediate: 64 }, HfTokenizer.fromFile(resolveTokenizer('llama3')), 2);
  const cfg = JSON.parse(readFileSync(path.join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
  writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ ...cfg, num_hidden_layers: 3 }));
  assert.throws(() => loadBackbone({ model: dir, paradigm: 'dense' }), /model\.safetensors does not fit the model in its config\.json: missing \[model\.layers\.2\./);
  unlinkSync(path.join(dir, 'model.safetensors'));
  assert.throws(() => loadBackbone({ model: dir, paradigm: 'dense' }), /no model weights/);
});

function readAdapterKeys(dir: string, format: 'safetensors' | 'bin'): Record<string, unknown> {
  if (format === 'safetensors') {
    const buf = readFileSync(path.join(dir, 'adapter_model.safetensors'));
    const n = Number(buf.readBigUInt64LE(0));
    return JSON.parse(buf.subarray(8, 8 + n).toString('utf8')) as Record<string, unknown>;
  }
  // torch.save zip: key names appear in the pickle as plain strings.
  const text = readFileSync(path.join(dir, 'adapter_model.bin')).toString('latin1');
  return Object.fromEntries([...text.matchAll(/base_model\.model\.[\w.]+lora_[AB]\.weight/g)].map((m) => [m[0], 1]));
}
