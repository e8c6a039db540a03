import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FormatError } from '../../src/formats/errors.ts';
import { parseLlamaConfig } from '../../src/formats/hf-config.ts';
import {
  checkAdapterFitsModel, loraScaling, parseLoraConfig, parsePeftKey, peftKey, readPeftAdapter, writePeftAdapter, type LoraConfig, type LoraPair,
} from '../../src/formats/peft.ts';
import { rawEqual, rawFromNumbers, rawToNumbers, type RawTensor } from '../../src/formats/raw-tensor.ts';
import { writeSafetensors } from '../../src/formats/safetensors.ts';
import { writeTorchStateDict } from '../../src/formats/torch-bin.ts';

const fixtures = join(import.meta.dirname, 'fixtures');
const tmp = (): string => mkdtempSync(join(tmpdir(), 'lion-peft-'));

// The tiny base model of the fixtures: 2 layers, hidden 8, 2 heads of 4, 1 KV head.
const BASE = parseLlamaConfig({ model_type: 'llama', vocab_size: 16, hidden_size: 8, intermediate_size: 12, num_hidden_layers: 2, num_attention_heads: 2, num_key_value_heads: 1 }, 'base/config.json');

const CONFIG: LoraConfig = parseLoraConfig({
  auto_mapping: { base_model_class: 'LlamaBiModel', parent_library: 'x' }, base_model_name_or_path: 'tiny', bias: 'none', lora_alpha: 4, lora_dropout: 0.1,
  peft_type: 'LORA', r: 2, target_modules: ['q_proj', 'v_proj'], task_type: null,
}, 'adapter_config.json');

/** The fixture formula (make_torch_fixtures.py): A[l] = arange(16)/100 + l as [2, 8]; B[l] = -arange(out*2)/50 - l as [out, 2]. */
function expected(dtype: 'F32' | 'BF16'): Map<string, LoraPair> {
  const m = new Map<string, LoraPair>();
  for (const layer of [0, 1]) {
    for (const [proj, out] of [['q_proj', 8], ['v_proj', 4]] as [string, number][]) {
      const a = Array.from({ length: 16 }, (_, i) => Math.fround(i / 100) + layer);
      const b = Array.from({ length: out * 2 }, (_, i) => -Math.fround(i / 50) - layer);
      m.set(`model.layers.${layer}.self_attn.${proj}`, { A: rawFromNumbers(a, [2, 8], dtype), B: rawFromNumbers(b, [out, 2], dtype) });
    }
  }
  return m;
}

function assertModules(got: Map<string, LoraPair>, want: Map<string, LoraPair>): void {
  assert.deepEqual([...got.keys()], [...want.keys()]);
  for (const [k, { A, B }] of want) {
    const g = got.get(k) as LoraPair;
    assert.ok(rawEqual(g.A, A), `${k} A: ${Array.from(rawToNumbers(g.A)).slice(0, 4)} vs ${Array.from(rawToNumbers(A)).slice(0, 4)}`);
    assert.ok(rawEqual(g.B, B), `${k} B`);
  }
}

test('keys of both released layouts normalise to one module path', () => {
  assert.deepEqual(parsePeftKey('base_model.model.model.layers.3.self_attn.q_proj.lora_A.weight'), { module: 'model.layers.3.self_attn.q_proj', layer: 3, which: 'A', layout: 'sparse' });
  assert.deepEqual(parsePeftKey('base_model.model.layers.12.mlp.down_proj.lora_B.weight'), { module: 'model.layers.12.mlp.down_proj', layer: 12, which: 'B', layout: 'dense' });
  assert.deepEqual(parsePeftKey('base_model.model.layers.0.mlp.up_proj.lora_A.default.weight')?.module, 'model.layers.0.mlp.up_proj');
  assert.equal(parsePeftKey('base_model.model.lm_head.lora_A.weight'), null);
  assert.equal(parsePeftKey('base_model.model.model.layers.0.self_attn.q_proj.weight'), null);
  assert.equal(peftKey('model.layers.3.self_attn.q_proj', 'A', 'sparse'), 'base_model.model.model.layers.3.self_attn.q_proj.lora_A.weight');
  assert.equal(peftKey('model.layers.3.mlp.gate_proj', 'B', 'dense'), 'base_model.model.layers.3.mlp.gate_proj.lora_B.weight');
  assert.equal(loraScaling(CONFIG), 2);
  assert.equal(loraScaling({ ...CONFIG, use_rslora: true }), 4 / Math.sqrt(2));
});

test('adapter_model.bin written by real torch.save, in both layouts (sparse f32, dense bf16)', () => {
  const sparse = readPeftAdapter(join(fixtures, 'peft_sparse'));
  assert.equal(sparse.layout, 'sparse');
  assert.equal(sparse.config.auto_mapping?.base_model_class, 'LlamaBiForMNTP');
  assert.equal(sparse.config.r, 2);
  assertModules(sparse.modules, expected('F32'));
  const dense = readPeftAdapter(join(fixtures, 'peft_dense'));
  assert.equal(dense.layout, 'dense');
  assertModules(dense.modules, expected('BF16'));
  checkAdapterFitsModel(sparse, BASE);
  checkAdapterFitsModel(dense, BASE);
});

test('synthetic adapters: both layouts × .safetensors and .bin write and read back bit-exactly', () => {
  const modules = expected('F32');
  for (const layout of ['sparse', 'dense'] as const) {
    for (const format of ['safetensors', 'bin'] as const) {
      const dir = tmp();
      const files = writePeftAdapter(dir, { config: CONFIG, modules, layout }, { format });
      assert.deepEqual(files.map((f) => f.slice(dir.length + 1)), ['adapter_config.json', format === 'bin' ? 'adapter_model.bin' : 'adapter_model.safetensors']);
      const back = readPeftAdapter(dir);
      assert.equal(back.layout, layout, `${layout}/${format}`);
      assertModules(back.modules, modules);
      assert.deepEqual(back.config, CONFIG);
      const json = readFileSync(join(dir, 'adapter_config.json'), 'utf8');
      assert.deepEqual(Object.keys(JSON.parse(json) as object), Object.keys(JSON.parse(json) as object).sort());
      rmSync(dir, { recursive: true });
    }
  }
});

function expectBad(dir: string, file: string, key: string | undefined, pattern: RegExp): void {
  assert.throws(() => readPeftAdapter(dir), (e: unknown) => {
    assert.ok(e instanceof FormatError, String(e));
    assert.equal(e.file, join(dir, file));
    assert.equal(e.key, key);
    assert.match(e.message, pattern);
    return true;
  });
}

test('malformed adapters: clear errors naming the file and key', () => {
  const base = expected('F32');
  const weights = (layout: 'sparse' | 'dense', drop?: string, extra?: [string, RawTensor]): Map<string, RawTensor> => {
    const m = new Map<string, RawTensor>();
    for (const [mod, { A, B }] of base) {
      m.set(peftKey(mod, 'A', layout), A);
      m.set(peftKey(mod, 'B', layout), B);
    }
    if (drop !== undefined) m.delete(drop);
    if (extra !== undefined) m.set(extra[0], extra[1]);
    return m;
  };
  const dir = tmp();
  writeFileSync(join(dir, 'adapter_config.json'), JSON.stringify(CONFIG));

  writeSafetensors(join(dir, 'adapter_model.safetensors'), weights('dense', undefined, ['base_model.model.lm_head.weight', rawFromNumbers([1], [1, 1], 'F32')]));
  expectBad(dir, 'adapter_model.safetensors', 'base_model.model.lm_head.weight', /unexpected key/);

  writeSafetensors(join(dir, 'adapter_model.safetensors'), weights('dense', 'base_model.model.layers.1.self_attn.v_proj.lora_B.weight'));
  expectBad(dir, 'adapter_model.safetensors', 'base_model.model.layers.1.self_attn.v_proj.lora_B.weight', /lora_B is missing/);

  const mixed = weights('dense');
  mixed.delete('base_model.model.layers.1.self_attn.q_proj.lora_A.weight');
  mixed.set('base_model.model.model.layers.1.self_attn.q_proj.lora_A.weight', base.get('model.layers.1.self_attn.q_proj')?.A as RawTensor);
  writeSafetensors(join(dir, 'adapter_model.safetensors'), mixed);
  expectBad(dir, 'adapter_model.safetensors', 'base_model.model.model.layers.1.self_attn.q_proj.lora_A.weight', /mixes key layouts/);

  const rank = weights('sparse');
  rank.set('base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight', rawFromNumbers(new Array(24).fill(0), [3, 8], 'F32'));
  writeSafetensors(join(dir, 'adapter_model.safetensors'), rank);
  expectBad(dir, 'adapter_model.safetensors', 'base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight', /rank 3.*r = 2/);

  const untargeted = weights('sparse', undefined, ['base_model.model.model.layers.0.mlp.up_proj.lora_A.weight', rawFromNumbers(new Array(16).fill(0), [2, 8], 'F32')]);
  writeSafetensors(join(dir, 'adapter_model.safetensors'), untargeted);
  expectBad(dir, 'adapter_model.safetensors', 'base_model.model.model.layers.0.mlp.up_proj.lora_A.weight', /target_modules/);

  // The same checks reach .bin files (no safetensors beside them).
  rmSync(join(dir, 'adapter_model.safetensors'));
  writeTorchStateDict(join(dir, 'adapter_model.bin'), weights('dense', 'base_model.model.layers.0.self_attn.q_proj.lora_A.weight'));
  expectBad(dir, 'adapter_model.bin', 'base_model.model.layers.0.self_attn.q_proj.lora_A.weight', /lora_A is missing/);
  writeFileSync(join(dir, 'adapter_model.bin'), readFileSync(join(fixtures, 'peft_dense/adapter_model.bin')).subarray(0, 1000));
  expectBad(dir, 'adapter_model.bin', undefined, /zip/);

  // Config problems name adapter_config.json and the key.
  for (const [patch, key, pattern] of [
    [{ r: 0 }, 'r', /invalid adapter config/],
    [{ target_modules: undefined }, 'target_modules', /invalid adapter config/],
    [{ peft_type: 'PREFIX_TUNING' }, 'peft_type', /only LORA/],
    [{ target_modules: ['q_proj', 'lm_head'] }, 'target_modules', /unsupported target module 'lm_head'/],
    [{ bias: 'all' }, 'bias', /unsupported bias/],
    [{ rank_pattern: { q_proj: 8 } }, 'rank_pattern', /not supported/],
  ] as [Record<string, unknown>, string, RegExp][]) {
    writeFileSync(join(dir, 'adapter_config.json'), JSON.stringify({ ...CONFIG, ...patch }));
    expectBad(dir, 'adapter_config.json', key, pattern);
  }
  rmSync(dir, { recursive: true });
  const empty = tmp();
  cpSync(join(fixtures, 'peft_dense/adapter_config.json'), join(empty, 'adapter_config.json'));
  assert.throws(() => readPeftAdapter(empty), (e: unknown) => e instanceof FormatError && e.file === empty && /no adapter_model/.test(e.message));
  rmSync(empty, { recursive: true });
});

test('an adapter whose shapes do not fit the base model is refused, naming the key', () => {
  const adapter = readPeftAdapter(join(fixtures, 'peft_sparse'));
  const wider = parseLlamaConfig({ ...BASE, hidden_size: 16, head_dim: 4 }, 'base/config.json');
  assert.throws(() => checkAdapterFitsModel(adapter, wider), (e: unknown) => e instanceof FormatError && e.file.endsWith('adapter_model.bin')
    && e.key === 'base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight' && /in_features 16/.test(e.message));
  const gqa = parseLlamaConfig({ ...BASE, num_key_value_heads: 2 }, 'base/config.json');
  assert.throws(() => checkAdapterFitsModel(adapter, gqa), (e: unknown) => e instanceof FormatError && e.key === 'base_model.model.model.layers.0.self_attn.v_proj.lora_B.weight' && /out_features 8/.test(e.message));
  const shallow = parseLlamaConfig({ ...BASE, num_hidden_layers: 1 }, 'base/config.json');
  assert.throws(() => checkAdapterFitsModel(adapter, shallow), (e: unknown) => e instanceof FormatError && /layer 1 but the base model has 1 layers/.test(e.message));
});
