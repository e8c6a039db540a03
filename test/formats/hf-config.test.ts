import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FormatError } from '../../src/formats/errors.ts';
import { eosTokenIds, parseLlamaConfig, readLlamaConfig, writeLlamaConfig } from '../../src/formats/hf-config.ts';

// meta-llama/Llama-3.2-1B config.json, as published on the Hugging Face hub.
const LLAMA_32_1B = {
  architectures: ['LlamaForCausalLM'], attention_bias: false, attention_dropout: 0.0, bos_token_id: 128000, eos_token_id: 128001,
  head_dim: 64, hidden_act: 'silu', hidden_size: 2048, initializer_range: 0.02, intermediate_size: 8192, max_position_embeddings: 131072,
  mlp_bias: false, model_type: 'llama', num_attention_heads: 32, num_hidden_layers: 16, num_key_value_heads: 8, pretraining_tp: 1,
  rms_norm_eps: 1e-5, rope_scaling: { factor: 32.0, high_freq_factor: 4.0, low_freq_factor: 1.0, original_max_position_embeddings: 8192, rope_type: 'llama3' },
  rope_theta: 500000.0, tie_word_embeddings: true, torch_dtype: 'bfloat16', transformers_version: '4.45.0.dev0', use_cache: true, vocab_size: 128256,
};

// meta-llama/Meta-Llama-3-8B config.json.
const LLAMA_3_8B = {
  architectures: ['LlamaForCausalLM'], attention_bias: false, attention_dropout: 0.0, bos_token_id: 128000, eos_token_id: 128001,
  hidden_act: 'silu', hidden_size: 4096, initializer_range: 0.02, intermediate_size: 14336, max_position_embeddings: 8192, model_type: 'llama',
  num_attention_heads: 32, num_hidden_layers: 32, num_key_value_heads: 8, pretraining_tp: 1, rms_norm_eps: 1e-5, rope_scaling: null,
  rope_theta: 500000.0, tie_word_embeddings: false, torch_dtype: 'bfloat16', transformers_version: '4.40.0.dev0', use_cache: true, vocab_size: 128256,
};

function expectError(fn: () => unknown, file: string, key: string | undefined, pattern: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof FormatError, String(e));
    assert.equal(e.file, file);
    assert.equal(e.key, key);
    assert.match(e.message, pattern);
    assert.ok(e.message.includes(file), 'message names the file');
    return true;
  });
}

test('Llama-3.2-1B: GQA, head_dim, llama3 RoPE scaling, tied embeddings', () => {
  const c = parseLlamaConfig(LLAMA_32_1B, 'config.json');
  assert.equal(c.num_key_value_heads, 8);
  assert.equal(c.head_dim, 64);
  assert.equal(c.rope_theta, 500000);
  assert.deepEqual(c.rope_scaling, { rope_type: 'llama3', factor: 32, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 8192 });
  assert.equal(c.tie_word_embeddings, true);
  assert.equal(c.bos_token_id, 128000);
  assert.deepEqual(eosTokenIds(c), [128001]);
  assert.equal(c.rms_norm_eps, 1e-5);
  assert.equal(c.torch_dtype, 'bfloat16');
});

test('Llama-3-8B: no scaling, untied head; Llama-3.1 instruct: list of EOS ids; old "type" key', () => {
  const c = parseLlamaConfig(LLAMA_3_8B, 'config.json');
  assert.equal(c.rope_scaling, null);
  assert.equal(c.tie_word_embeddings, false);
  assert.equal(c.head_dim, 4096 / 32);
  const instruct = parseLlamaConfig({ ...LLAMA_32_1B, eos_token_id: [128001, 128008, 128009] }, 'config.json');
  assert.deepEqual(eosTokenIds(instruct), [128001, 128008, 128009]);
  const oldKey = parseLlamaConfig({ ...LLAMA_32_1B, rope_scaling: { type: 'llama3', factor: 8, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 8192 } }, 'c.json');
  assert.equal(oldKey.rope_scaling?.factor, 8);
});

test('defaults: kv heads = heads, head_dim = hidden/heads, rope_theta 10000, transformers v5 rope_parameters', () => {
  const c = parseLlamaConfig({ model_type: 'llama', vocab_size: 100, hidden_size: 32, intermediate_size: 64, num_hidden_layers: 2, num_attention_heads: 4 }, 'c.json');
  assert.equal(c.num_key_value_heads, 4);
  assert.equal(c.head_dim, 8);
  assert.equal(c.rope_theta, 10000);
  assert.equal(c.rope_scaling, null);
  assert.equal(c.pad_token_id, null);
  const v5 = parseLlamaConfig({ ...LLAMA_32_1B, rope_theta: undefined, rope_scaling: undefined, rope_parameters: { rope_theta: 500000, rope_type: 'llama3', factor: 32, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 8192 } }, 'c.json');
  assert.equal(v5.rope_theta, 500000);
  assert.equal(v5.rope_scaling?.factor, 32);
});

test('unsupported or invalid configs: clear errors naming the file and key', () => {
  const f = '/models/x/config.json';
  expectError(() => parseLlamaConfig({ ...LLAMA_3_8B, model_type: 'mistral', architectures: ['MistralForCausalLM'] }, f), f, 'model_type', /unsupported model_type 'mistral'.*Llama/);
  expectError(() => parseLlamaConfig({ ...LLAMA_3_8B, architectures: ['GPT2LMHeadModel'] }, f), f, 'architectures', /unsupported architecture 'GPT2LMHeadModel'/);
  expectError(() => parseLlamaConfig({ ...LLAMA_3_8B, model_type: undefined }, f), f, 'model_type', /unsupported model_type 'undefined'/);
  expectError(() => parseLlamaConfig({ ...LLAMA_3_8B, rope_scaling: { rope_type: 'yarn', factor: 4 } }, f), f, 'rope_scaling', /unsupported RoPE scaling 'yarn'/);
  expectError(() => parseLlamaConfig({ ...LLAMA_3_8B, rope_scaling: { rope_type: 'llama3', factor: 4 } }, f), f, 'rope_scaling', /needs factor, low_freq_factor/);
  expectError(() => parseLlamaConfig({ ...LLAMA_3_8B, num_key_value_heads: 5 }, f), f, 'num_key_value_heads', /not a multiple/);
  expectError(() => parseLlamaConfig({ ...LLAMA_3_8B, hidden_size: 'big' }, f), f, 'hidden_size', /invalid config/);
  expectError(() => parseLlamaConfig({ ...LLAMA_3_8B, vocab_size: undefined }, f), f, 'vocab_size', /invalid config/);
  expectError(() => parseLlamaConfig({ ...LLAMA_3_8B, attention_bias: true }, f), f, 'attention_bias', /not supported/);
  expectError(() => parseLlamaConfig({ ...LLAMA_3_8B, hidden_act: 'gelu' }, f), f, 'hidden_act', /unsupported hidden_act/);
  const dir = mkdtempSync(join(tmpdir(), 'lion-cfg-'));
  writeFileSync(join(dir, 'config.json'), '{"model_type": "llama",');
  expectError(() => readLlamaConfig(dir), join(dir, 'config.json'), undefined, /not valid JSON/);
  expectError(() => readLlamaConfig(join(dir, 'missing.json')), join(dir, 'missing.json'), undefined, /cannot read model config/);
  rmSync(dir, { recursive: true });
});

test('writer: sorted keys, reads back equal', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lion-cfg-'));
  const c = parseLlamaConfig(LLAMA_32_1B, 'in.json');
  const file = writeLlamaConfig(dir, c);
  assert.equal(file, join(dir, 'config.json'));
  const json = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  assert.deepEqual(Object.keys(json), Object.keys(json).sort());
  assert.equal(json.model_type, 'llama');
  assert.deepEqual(readLlamaConfig(dir), c);
  rmSync(dir, { recursive: true });
});
