// `--device` on the model commands: a device the linked libtorch lacks is a usage error (exit 2) whose
// message names CUDA and how to get a CUDA build; `--dtype bf16` encodes like f32.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { native } from '../../src/torch/index.ts';
import { HfTokenizer } from '../../src/text/hf-tokenizer.ts';
import { makeModel, resolveTokenizer } from '../../src/model/make-model.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const lion = path.join(root, 'bin/lion.js');

test('encode, train and index refuse --device cuda on a CPU-only build with exit 2 and a message naming CUDA', { skip: native().cudaBuild() ? 'this libtorch has CUDA' : false }, () => {
  const work = mkdtempSync(path.join(tmpdir(), 'lion-dev-'));
  try {
    const model = path.join(work, 'model');
    makeModel(model, { hidden: 16, layers: 1, heads: 2, intermediate: 32 }, HfTokenizer.fromFile(resolveTokenizer('llama3')), 1);
    const input = path.join(work, 'in.jsonl');
    writeFileSync(input, '{"id":"a","text":"hello"}\n');
    const runs = [
      ['encode', '--model', model, '--paradigm', 'dense', '--kind', 'query', '--input', input, '--output', path.join(work, 'out.jsonl'), '--device', 'cuda'],
      ['pretrain', '--model', model, '--corpus', input, '--output', path.join(work, 'run'), '--device', 'cuda:0'],
      ['index', '--model', model, '--corpus', input, '--paradigm', 'sparse', '--output', path.join(work, 'idx'), '--device', 'cuda'],
    ];
    for (const args of runs) {
      const r = spawnSync(lion, args, { encoding: 'utf8' });
      assert.equal(r.status, 2, `${args[0]}: exit ${r.status}: ${r.stderr}`);
      assert.match(r.stderr, new RegExp(`^lion ${args[0]}: --device cuda(:0)? needs CUDA`), args[0]);
      assert.match(r.stderr, /LIBTORCH=/, 'says how to link a CUDA libtorch');
      assert.match(r.stderr, /lion doctor/);
    }
    const bad = spawnSync(lion, ['encode', '--model', model, '--paradigm', 'dense', '--kind', 'query', '--input', input, '--output', path.join(work, 'o.jsonl'), '--dtype', 'f8'], { encoding: 'utf8' });
    assert.equal(bad.status, 2, bad.stderr);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});

test('lion encode --dtype bf16 writes dense vectors close to f32 ones', () => {
  const work = mkdtempSync(path.join(tmpdir(), 'lion-dt-'));
  try {
    const model = path.join(work, 'model');
    makeModel(model, { hidden: 32, layers: 2, heads: 4, intermediate: 64 }, HfTokenizer.fromFile(resolveTokenizer('llama3')), 2);
    const input = path.join(work, 'in.jsonl');
    writeFileSync(input, '{"id":"a","text":"the quick brown fox"}\n{"id":"b","text":"jumps over the lazy dog"}\n');
    const vectors = (dtype: string): number[][] => {
      const out = path.join(work, `${dtype}.jsonl`);
      const r = spawnSync(lion, ['encode', '--model', model, '--paradigm', 'dense', '--kind', 'doc', '--input', input, '--output', out, '--dtype', dtype, '--device', 'cpu'], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      return readFileSync(out, 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { vector: number[] }).vector);
    };
    const a = vectors('f32');
    const b = vectors('bf16');
    for (let i = 0; i < a.length; i++) {
      const x = a[i]!;
      const y = b[i]!;
      assert.notDeepEqual(x, y, 'bf16 weights do change the numbers');
      const dot = x.reduce((s, v, j) => s + v * y[j]!, 0);
      const cos = dot / Math.sqrt(x.reduce((s, v) => s + v * v, 0) * y.reduce((s, v) => s + v * v, 0));
      assert.ok(cos > 0.995, `cosine ${cos}`);
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});
