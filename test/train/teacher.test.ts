import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Bm25Index } from '../../src/lexical/bm25.ts';
import { attachFileScores, bm25Teacher, fileTeacherScores, scoreExamples, sparseDot } from '../../src/train/teacher.ts';

const docs = [
  { id: 'a', title: '', text: 'protein folding in cells' },
  { id: 'b', title: '', text: 'cells divide and proteins fold' },
  { id: 'c', title: '', text: 'stock markets and bonds' },
];

test('sparseDot by hand', () => {
  assert.equal(sparseDot({ indices: [1, 4, 7], values: [1, 2, 3] }, { indices: [0, 4, 7, 9], values: [5, 10, 100, 1] }), 2 * 10 + 3 * 100);
});

test('the BM25 teacher gives each pair exactly the score BM25 search gives it', async () => {
  const index = await Bm25Index.build(docs);
  const hits = new Map(index.search('protein cells', 10).map((h) => [h.docId, h.score]));
  const s = bm25Teacher(index)('protein cells', docs.map((d) => d.text));
  docs.forEach((d, i) => assert.ok(Math.abs(s[i]! - (hits.get(d.id) ?? 0)) < 1e-5, `${d.id}: ${s[i]} vs ${hits.get(d.id)}`));
  const corpus = new Map(docs.map((d) => [d.id, d.text]));
  const [ex] = scoreExamples([{ query: { text: 'protein cells' }, positives: [{ id: 'a' }], negatives: [{ id: 'b' }, { id: 'c' }] }], corpus, bm25Teacher(index));
  assert.deepEqual(ex!.positiveScores, [s[0]]);
  assert.deepEqual(ex!.negativeScores, [s[1], s[2]]);
  assert.throws(() => scoreExamples([{ query: { text: 'q' }, positives: [{ id: 'zz' }], negatives: [] }], corpus, bm25Teacher(index)), /document 'zz' is not in the corpus/);
});

test('scores from a KD file are looked up by query and document; a missing pair is an error', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'lion-teacher-'));
  const f = path.join(dir, 'kd.jsonl');
  writeFileSync(f, JSON.stringify({ query: 'q1', docids: ['a', 'b', 'c'], scores: [9, 4, 1] }) + '\n');
  const scores = await fileTeacherScores(f);
  const [ex] = attachFileScores([{ query: { text: 'q1' }, positives: [{ id: 'a' }], negatives: [{ id: 'c' }, { id: 'b' }] }], scores, f);
  assert.deepEqual(ex!.positiveScores, [9]);
  assert.deepEqual(ex!.negativeScores, [1, 4]);
  assert.throws(() => attachFileScores([{ query: { text: 'q1' }, positives: [{ id: 'x' }], negatives: [] }], scores, f), /kd\.jsonl has no score for query 'q1' and document 'x'/);
});
