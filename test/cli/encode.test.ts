import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { HfTokenizer } from '../../src/text/hf-tokenizer.ts';
import { makeModel } from '../../src/model/make-model.ts';
import { resolveTokenizer } from '../../src/model/make-model.ts';
import { loadBackbone } from '../../src/model/backbone.ts';
import { Encoder } from '../../src/model/encoder.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const lion = path.join(root, 'bin/lion.js');
const work = mkdtempSync(path.join(tmpdir(), 'lion-encode-'));
process.on('exit', () => rmSync(work, { recursive: true, force: true }));
const model = path.join(work, 'model');
makeModel(model, { hidden: 32, layers: 2, heads: 4, intermediate: 64 }, HfTokenizer.fromFile(resolveTokenizer('llama3')), 3);

const texts = ['What is the capital of France?', 'a', 'Who wrote 1984? George Orwell wrote it in 1948, in Jura.', 'naïve café — 1234567'];
const input = path.join(work, 'in.jsonl');
writeFileSync(input, texts.map((t, i) => JSON.stringify({ id: `t${i}`, text: t })).join('\n') + '\n');

test('lion encode writes one line per text, in input order, matching the library', () => {
  for (const paradigm of ['sparse', 'dense'] as const) {
    const out = path.join(work, `${paradigm}.jsonl`);
    execFileSync(lion, ['encode', '--model', model, '--paradigm', paradigm, '--kind', 'query', '--batch-size', '3', '--input', input, '--output', out], { stdio: 'pipe' });
    const rows = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { id: string; indices?: number[]; values?: number[]; vector?: number[] });
    assert.deepEqual(rows.map((r) => r.id), ['t0', 't1', 't2', 't3']);
    const b = loadBackbone({ model, paradigm });
    const enc = new Encoder(b.model, b.tokenizer, { paradigm, batchSize: 1 });
    for (let i = 0; i < texts.length; i++) {
      const alone = enc.encodeAll([texts[i]!], 'query')[0]!;
      if (alone instanceof Float32Array) {
        const v = rows[i]!.vector!;
        assert.equal(v.length, 32);
        assert.ok(v.every((x, j) => Math.abs(x - alone[j]!) < 1e-5), `dense row ${i} matches the text encoded alone`);
      } else {
        const r = rows[i]!;
        assert.ok(r.indices!.every((x, j) => j === 0 || x > r.indices![j - 1]!), 'indices ascending');
        assert.ok(r.values!.every((x) => x > 0), 'zeros dropped');
        assert.deepEqual(r.indices, Array.from(alone.indices), `sparse row ${i} terms`);
        assert.ok(r.values!.every((x, j) => Math.abs(x - alone.values[j]!) < 1e-5), `sparse row ${i} weights`);
      }
    }
    b.model.dispose();
  }
});

test('BEIR lines are encoded as title + " " + text', () => {
  const beir = path.join(work, 'beir.jsonl');
  writeFileSync(beir, JSON.stringify({ _id: 'd1', title: 'Paris', text: 'is the capital of France.' }) + '\n');
  const plain = path.join(work, 'plain.jsonl');
  writeFileSync(plain, JSON.stringify({ id: 'd1', text: 'Paris is the capital of France.' }) + '\n');
  const run = (f: string): string => {
    const out = `${f}.out`;
    execFileSync(lion, ['encode', '--model', model, '--paradigm', 'dense', '--kind', 'doc', '--input', f, '--output', out], { stdio: 'pipe' });
    return readFileSync(out, 'utf8');
  };
  assert.equal(run(beir), run(plain));
});

test('an empty BEIR title follows the authors\' rule (leading space) by default; --doc-text clean drops it', () => {
  const tok = HfTokenizer.fromFile(resolveTokenizer('llama3'));
  const body = 'Hydroxychloroquine was tested in a randomised trial.';
  // the two texts tokenize differently, so the rules are distinguishable at all
  assert.notDeepEqual(Array.from(tok.encode(` ${body}`)), Array.from(tok.encode(body)));
  const beir = path.join(work, 'untitled.jsonl');
  writeFileSync(beir, [JSON.stringify({ _id: 'd1', title: '', text: body }), JSON.stringify({ _id: 'd2', title: 'Trial', text: body })].join('\n') + '\n');
  // hand-built: the authors' BeirDataset text is title + " " + text, unconditionally
  const authors = path.join(work, 'authors.jsonl');
  writeFileSync(authors, [JSON.stringify({ id: 'd1', text: ` ${body}` }), JSON.stringify({ id: 'd2', text: `Trial ${body}` })].join('\n') + '\n');
  const clean = path.join(work, 'clean.jsonl');
  writeFileSync(clean, [JSON.stringify({ id: 'd1', text: body }), JSON.stringify({ id: 'd2', text: `Trial ${body}` })].join('\n') + '\n');
  for (const paradigm of ['sparse', 'dense'] as const) {
    const run = (f: string, ...extra: string[]): string[] => {
      const out = `${f}.${paradigm}.${extra.length}.out`;
      execFileSync(lion, ['encode', '--model', model, '--paradigm', paradigm, '--kind', 'doc', '--input', f, '--output', out, ...extra], { stdio: 'pipe' });
      return readFileSync(out, 'utf8').trim().split('\n');
    };
    const byDefault = run(beir);
    assert.deepEqual(byDefault, run(authors), `${paradigm}: default = authors' text`);
    assert.deepEqual(run(beir, '--doc-text', 'clean'), run(clean), `${paradigm}: --doc-text clean`);
    assert.notEqual(byDefault[0], run(clean)[0], `${paradigm}: the untitled document's vector depends on the rule`);
    assert.equal(byDefault[1], run(clean)[1], `${paradigm}: titled documents are the same under both rules`);
  }
});

test('a line without text is a clear error naming file and line, and no output file is left', () => {
  const bad = path.join(work, 'bad.jsonl');
  writeFileSync(bad, JSON.stringify({ id: 'ok', text: 'fine' }) + '\n' + JSON.stringify({ id: 'x2', title: 'no text' }) + '\n');
  const out = path.join(work, 'bad.out');
  const r = spawnSync(lion, ['encode', '--model', model, '--paradigm', 'sparse', '--kind', 'doc', '--input', bad, '--output', out], { encoding: 'utf8' });
  assert.equal(r.status, 1);
  assert.match(r.stderr, new RegExp(`${bad.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:2: the line for id 'x2' has no "text" string`));
  assert.equal(existsSync(out), false, 'the atomic writer left nothing behind');
  const r2 = spawnSync(lion, ['encode', '--model', model, '--paradigm', 'sparse', '--kind', 'doc', '--batch-size', '0', '--input', bad, '--output', out], { encoding: 'utf8' });
  assert.match(r2.stderr, /lion encode: --batch-size must be a positive integer, got '0'/);
});

test('an unsupported architecture in config.json is refused, naming the file', () => {
  const dir = path.join(work, 'gpt2');
  makeModel(dir, { hidden: 32, layers: 1, heads: 4, intermediate: 64 }, HfTokenizer.fromFile(resolveTokenizer('llama3')), 1);
  const cfgPath = path.join(dir, 'config.json');
  writeFileSync(cfgPath, JSON.stringify({ ...JSON.parse(readFileSync(cfgPath, 'utf8')), model_type: 'gpt2', architectures: ['GPT2LMHeadModel'] }));
  const r = spawnSync(lion, ['encode', '--model', dir, '--paradigm', 'dense', '--kind', 'doc', '--input', input, '--output', path.join(work, 'x')], { encoding: 'utf8' });
  assert.equal(r.status, 1);
  assert.match(r.stderr, new RegExp(`${cfgPath.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}.*gpt2`));
});
