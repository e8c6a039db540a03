// The cross-encoder teacher: it learns, its scores do not depend on batch padding, it saves and loads,
// and `lion teacher --from cross-encoder:DIR` writes its scores.
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
import { loadCrossEncoder, trainReranker } from '../../src/train/cross-encoder.ts';
import { latestCheckpoint } from '../../src/train/checkpoint.ts';
import type { ResolvedExample } from '../../src/train/retrieval.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const work = mkdtempSync(path.join(tmpdir(), 'lion-ce-'));
process.on('exit', () => rmSync(work, { recursive: true, force: true }));
const model = path.join(work, 'model');
makeModel(model, { hidden: 32, layers: 2, heads: 4, intermediate: 64 }, HfTokenizer.fromFile(resolveTokenizer('llama3')), 4);

// Relevant documents repeat the query's word; negatives never contain it.
const words = 'apple river stone cloud tiger piano glass forest candle silver'.split(' ');
const examples: ResolvedExample[] = words.map((w, i) => ({
  query: w,
  positive: `${w} ${w} about the ${w}`,
  negatives: words.filter((x) => x !== w).slice(0, 3).map((x) => `${x} and ${words[(i + 5) % words.length] === x ? 'more' : 'some'} ${x}`),
}));

test('a cross-encoder learns a listwise ranking, saves, loads and scores the same in any batch', () => {
  const out = path.join(work, 'ce');
  const s = trainReranker({ model, output: out, examples, negatives: 3, batchSize: 5, steps: 40, lr: 3e-3, full: true, maxLength: 32, saveEvery: 40 });
  assert.equal(s.step, 40);
  const losses = readFileSync(path.join(out, 'train.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { loss?: number }).filter((r) => r.loss !== undefined).map((r) => r.loss!);
  const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
  assert.ok(mean(losses.slice(-5)) < 0.5 * mean(losses.slice(0, 5)), `loss ${mean(losses.slice(0, 5)).toFixed(3)} -> ${mean(losses.slice(-5)).toFixed(3)}`);
  const dir = path.join(latestCheckpoint(out)!, 'export');
  const ce = loadCrossEncoder(dir);
  try {
    const t = ce.teacher(2);
    const docs = ['river river about the river', 'stone and some stone', 'a much longer document that needs no padding at all here'];
    const together = t('river', docs);
    const alone = docs.map((d) => t('river', [d])[0]!);
    together.forEach((v, i) => assert.ok(Math.abs(v - alone[i]!) < 1e-5, `pair ${i}: ${v} vs ${alone[i]}`));
    assert.ok(together[0]! > together[1]!, 'the relevant document scores higher');
    // The CLI teacher writes exactly these scores.
    const train = path.join(work, 'train.jsonl');
    writeFileSync(train, JSON.stringify({ query: 'river', pos: [docs[0]], neg: [docs[1], docs[2]] }) + '\n');
    const scored = path.join(work, 'scored.jsonl');
    execFileSync(path.join(root, 'bin/lion.js'), ['teacher', '--train', train, '--from', `cross-encoder:${dir}`, '--output', scored], { stdio: 'pipe' });
    const row = JSON.parse(readFileSync(scored, 'utf8').trim()) as { pos_scores: number[]; neg_scores: number[] };
    [...row.pos_scores, ...row.neg_scores].forEach((v, i) => assert.ok(Math.abs(v - together[i]!) < 1e-5, `CLI score ${i}`));
  } finally {
    ce.dispose();
    ce.model.dispose();
  }
});
