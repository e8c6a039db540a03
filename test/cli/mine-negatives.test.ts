// Hard negatives mined with a (trained) Lion model: its own ranking minus the positives.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { HfTokenizer } from '../../src/text/hf-tokenizer.ts';
import { makeModel } from '../../src/model/make-model.ts';
import { resolveTokenizer } from '../../src/model/make-model.ts';
import { loadBackbone } from '../../src/model/backbone.ts';
import { Encoder, beirDocText } from '../../src/model/encoder.ts';
import { exactRun } from '../../src/train/evaluate-model.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const work = mkdtempSync(path.join(tmpdir(), 'lion-mine-'));
process.on('exit', () => rmSync(work, { recursive: true, force: true }));

test('lion mine-negatives --model ranks with the model and drops the positives', () => {
  const model = path.join(work, 'model');
  makeModel(model, { hidden: 32, layers: 1, heads: 4, intermediate: 64 }, HfTokenizer.fromFile(resolveTokenizer('llama3')), 2);
  const docs = ['apple pie', 'river bank', 'stone wall', 'cloud storage', 'tiger stripes', 'piano keys'].map((t, i) => ({ _id: `d${i}`, title: '', text: t }));
  const corpus = path.join(work, 'corpus.jsonl');
  writeFileSync(corpus, docs.map((d) => JSON.stringify(d)).join('\n') + '\n');
  const queries = path.join(work, 'queries.jsonl');
  writeFileSync(queries, [JSON.stringify({ _id: 'q1', text: 'apple' }), JSON.stringify({ _id: 'q2', text: 'music' })].join('\n') + '\n');
  const qrels = path.join(work, 'qrels.tsv');
  writeFileSync(qrels, 'query-id\tcorpus-id\tscore\nq1\td0\t1\nq2\td5\t1\nq2\td4\t1\n');
  const out = path.join(work, 'train.jsonl');
  execFileSync(path.join(root, 'bin/lion.js'), ['mine-negatives', '--model', model, '--paradigm', 'dense', '--corpus', corpus, '--queries', queries, '--qrels', qrels, '--count', '3', '--output', out], { stdio: 'pipe' });
  const rows = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { question: string; pos_pid: string; neg_pids: string[] });
  assert.deepEqual(rows.map((r) => r.pos_pid), ['d0', 'd5', 'd4'], 'one example per positive');
  // The negatives are the model's own top documents (BEIR text: ' ' + text for the empty titles), positives removed, in its order.
  const b = loadBackbone({ model, paradigm: 'dense' });
  const run = exactRun(new Encoder(b.model, b.tokenizer, { paradigm: 'dense' }), new Map([['q1', 'apple'], ['q2', 'music']]), new Map(docs.map((d) => [d._id, beirDocText(d)])), 100);
  b.model.dispose();
  const expect = (q: string, pos: string[]): string[] => run.get(q)!.map((h) => h.docId).filter((d) => !pos.includes(d)).slice(0, 3);
  assert.deepEqual(rows[0]!.neg_pids, expect('q1', ['d0']));
  assert.deepEqual(rows[1]!.neg_pids, expect('q2', ['d5', 'd4']));
  assert.ok(rows.every((r) => !r.neg_pids.includes(r.pos_pid) && r.neg_pids.length === 3));
});
