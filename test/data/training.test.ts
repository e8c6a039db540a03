import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { readTrainingExamples, writeTrainingExamples, type TrainingExample } from '../../src/data/training.ts';
import { DataError } from '../../src/data/errors.ts';
import { tempDir } from './helpers.ts';

const dir = tempDir();
const file = (name: string, lines: unknown[]): string => {
  const p = join(dir, name);
  writeFileSync(p, lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n') + '\n');
  return p;
};
async function all(path: string, opts = {}): Promise<TrainingExample[]> {
  const out: TrainingExample[] = [];
  for await (const ex of readTrainingExamples(path, opts)) out.push(ex);
  return out;
}

test('spec §7 CL format: {question, pos_pid, neg_pids}', async () => {
  const p = file('cl.jsonl', [{ question: 'what is x', pos_pid: 12, neg_pids: [3, '4', 5] }]);
  assert.deepEqual(await all(p), [
    { query: { text: 'what is x' }, positives: [{ id: '12' }], negatives: [{ id: '3' }, { id: '4' }, { id: '5' }] },
  ]);
});

test('spec §7 CL+KD format: teacher scores aligned with the passages', async () => {
  const p = file('clkd.jsonl', [
    { question: 'q', pos_pid: '1', neg_pids: ['2', '3'], pos_score: 9.5, neg_scores: [1.5, -2] },
  ]);
  assert.deepEqual(await all(p), [
    {
      query: { text: 'q' },
      positives: [{ id: '1' }],
      negatives: [{ id: '2' }, { id: '3' }],
      positiveScores: [9.5],
      negativeScores: [1.5, -2],
    },
  ]);
  const bad = file('clkd-bad.jsonl', [
    { question: 'q', pos_pid: '1', neg_pids: ['2', '3'], pos_score: 9.5, neg_scores: [1.5] },
  ]);
  await assert.rejects(
    all(bad),
    (e: unknown) => e instanceof DataError && e.line === 1 && /has 1 scores for 2 passages/.test(e.message),
  );
});

test('spec §7 KD format: positive first; a string query is text, qid an id', async () => {
  const p = file('kd.jsonl', [
    { query: 'how tall', docids: [7, 8, 9], scores: [3, 2, 1] },
    { qid: 42, docids: ['a', 'b'], scores: [0.5, 0.25] },
  ]);
  assert.deepEqual(await all(p), [
    {
      query: { text: 'how tall' },
      positives: [{ id: '7' }],
      negatives: [{ id: '8' }, { id: '9' }],
      positiveScores: [3],
      negativeScores: [2, 1],
    },
    {
      query: { id: '42' },
      positives: [{ id: 'a' }],
      negatives: [{ id: 'b' }],
      positiveScores: [0.5],
      negativeScores: [0.25],
    },
  ]);
});

test('sentence-transformers hard negatives: systems merged in order, positives and repeats dropped; .gz', async () => {
  const line = JSON.stringify({
    qid: 571018,
    pos: [7349777],
    neg: { bm25: [1, 2, 7349777, 3], 'msmarco-distilbert': [2, 4] },
  });
  const p = join(dir, 'st.jsonl.gz');
  writeFileSync(p, gzipSync(line + '\n'));
  assert.deepEqual(await all(p), [
    {
      query: { id: '571018' },
      positives: [{ id: '7349777' }],
      negatives: [1, 2, 3, 4].map((x) => ({ id: String(x) })),
    },
  ]);
  assert.deepEqual((await all(p, { systems: ['msmarco-distilbert'] }))[0]!.negatives, [{ id: '2' }, { id: '4' }]);
});

test('text format {query, pos, neg} and round trips through every writable format', async () => {
  const p = file('text.jsonl', [{ query: 'q', pos: ['good passage'], neg: ['bad one', 'worse'] }]);
  const [ex] = await all(p);
  assert.deepEqual(ex, {
    query: { text: 'q' },
    positives: [{ text: 'good passage' }],
    negatives: [{ text: 'bad one' }, { text: 'worse' }],
  });
  const scored: TrainingExample = {
    query: { text: 'q' },
    positives: [{ id: '1' }],
    negatives: [{ id: '2' }, { id: '3' }],
    positiveScores: [5],
    negativeScores: [4, 3],
  };
  for (const format of ['cl-kd', 'kd'] as const) {
    const out = join(dir, `rt-${format}.jsonl`);
    await writeTrainingExamples(out, [scored], format);
    assert.deepEqual(await all(out), [scored], format);
  }
  const out = join(dir, 'rt-text.jsonl');
  await writeTrainingExamples(out, [ex!], 'text');
  assert.deepEqual(await all(out), [ex]);
});

test('bad training lines name file:line', async () => {
  const p = file('bad.jsonl', [
    { question: 'q', pos_pid: 1, neg_pids: [2] },
    '{"question": "q", "pos_pid": 1, "neg_pids": [2]',
    { foo: 1 },
  ]);
  await assert.rejects(
    all(p),
    (e: unknown) => e instanceof DataError && e.line === 2 && /malformed JSON line/.test(e.message),
  );
  const unknown = file('unknown.jsonl', [{ foo: 1 }]);
  await assert.rejects(
    all(unknown),
    (e: unknown) => e instanceof DataError && e.line === 1 && /unknown training-example format/.test(e.message),
  );
  const missing = file('missing.jsonl', [
    { question: 'q', pos_pid: 1, neg_pids: [2] },
    { question: 'q', pos_pid: 1 },
  ]);
  await assert.rejects(
    all(missing),
    (e: unknown) => e instanceof DataError && e.line === 2 && /missing field 'neg_pids'/.test(e.message),
  );
});
