import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Bm25Index } from '../../src/lexical/bm25.ts';
import { englishAnalyzer } from '../../src/lexical/analyzer.ts';
import { byte4ToInt, intToByte4 } from '../../src/lexical/lucene-norms.ts';
import { mineHardNegatives, mineTrainingExamples } from '../../src/lexical/mining.ts';
import { openDataset } from '../../src/data/datasets.ts';
import { evaluate } from '../../src/eval/evaluate.ts';
import type { Doc } from '../../src/data/types.ts';
import { requireSharedData, tempDir } from '../data/helpers.ts';

const plain = englishAnalyzer({ stopWords: new Set(), stem: false });
const docs: Doc[] = [
  { id: 'd0', title: '', text: 'apple banana apple' },
  { id: 'd1', title: 'banana', text: 'cherry' },
  { id: 'd2', title: '', text: 'cherry cherry cherry date' },
];

test('BM25 scores equal the textbook formula worked by hand (k1 0.9, b 0.4, Lucene idf)', async () => {
  const index = await Bm25Index.build(docs, { analyzer: plain });
  // N = 3, avgdl = 9/3 = 3. idf = ln(1 + (N - df + 0.5)/(df + 0.5)).
  const idfApple = Math.log(1 + 2.5 / 1.5);
  const idfCherry = Math.log(1 + 1.5 / 2.5);
  const K = (len: number): number => 0.9 * (1 - 0.4 + (0.4 * len) / 3);
  // Lucene drops the constant (k1 + 1) factor: score = idf · tf / (tf + K).
  const expected = new Map([
    ['d0', (idfApple * 2) / (2 + K(3))],
    ['d2', (idfCherry * 3) / (3 + K(4))],
    ['d1', (idfCherry * 1) / (1 + K(2))],
  ]);
  const hits = index.search('apple cherry', 10);
  assert.deepEqual(
    hits.map((h) => h.docId),
    ['d0', 'd2', 'd1'],
  );
  for (const h of hits)
    assert.ok(Math.abs(h.score - expected.get(h.docId)!) < 1e-6, `${h.docId} ${h.score} vs ${expected.get(h.docId)}`);
  // A repeated query term weighs twice (Anserini's bag-of-words boost); unknown terms are ignored.
  const twice = index.search('apple apple zzz', 1)[0]!;
  assert.ok(Math.abs(twice.score - 2 * expected.get('d0')!) < 1e-6);
  assert.deepEqual(index.search('zzz', 10), []);
  assert.equal(index.search('cherry', 1).length, 1);
});

test('Lucene length norms: exact below 32, then the largest 4-bit-mantissa value not above the length', () => {
  const table = Array.from({ length: 256 }, (_, b) => byte4ToInt(b));
  for (let b = 1; b < 256; b++) assert.ok(table[b]! > table[b - 1]!, 'decoded lengths increase');
  for (const len of [0, 1, 23, 24, 31, 32, 33, 40, 41, 100, 1000, 65_535, 123_456_789, 2 ** 31 - 1]) {
    const dec = byte4ToInt(intToByte4(len));
    const floor = Math.max(...table.filter((v) => v <= len));
    assert.equal(dec, floor, `length ${len}`);
    if (len < 32) assert.equal(dec, len);
  }
  assert.equal(intToByte4(2 ** 31 - 1), 255);
});

test('search keeps the best k, ties to the lower doc index, and k = 0 gives no hits', async () => {
  const same: Doc[] = [
    { id: 'a', title: '', text: 'zebra' },
    { id: 'b', title: '', text: 'zebra' },
    { id: 'c', title: '', text: 'zebra' },
  ];
  const index = await Bm25Index.build(same, { analyzer: plain });
  assert.deepEqual(
    index.search('zebra', 2).map((h) => h.docId),
    ['a', 'b'],
  );
  assert.deepEqual(index.search('zebra', 0), []);
});

test('sparse vectors: dot(query, document) equals the search score; encodeDocument matches documentVector', async () => {
  const index = await Bm25Index.build(docs, { analyzer: plain });
  const q = index.encodeQuery('cherry apple cherry');
  assert.deepEqual(
    [...q.indices],
    [...q.indices].sort((a, b) => a - b),
  );
  for (const hit of index.search('cherry apple cherry', 10)) {
    const d = index.documentVector(index.docIds.indexOf(hit.docId));
    let dot = 0;
    for (let i = 0, j = 0; i < q.indices.length && j < d.indices.length;) {
      if (q.indices[i] === d.indices[j]) dot += q.values[i++]! * d.values[j++]!;
      else if (q.indices[i]! < d.indices[j]!) i++;
      else j++;
    }
    assert.ok(Math.abs(dot - hit.score) < 1e-5, `${hit.docId}: ${dot} vs ${hit.score}`);
  }
  assert.deepEqual(index.encodeDocument('cherry cherry cherry date'), index.documentVector(2));
  assert.deepEqual([...index.encodeDocument('unknown words only').indices], []);
});

test('hard-negative mining skips positives and respects depth and count', async () => {
  const index = await Bm25Index.build(docs, { analyzer: plain });
  const queries = new Map([['q', 'cherry banana']]);
  const qrels = new Map([
    [
      'q',
      new Map([
        ['d1', 1],
        ['d2', 0],
      ]),
    ],
  ]);
  assert.deepEqual(mineHardNegatives(index, queries, qrels), new Map([['q', ['d2', 'd0']]]));
  assert.deepEqual(mineHardNegatives(index, queries, qrels, { excludeJudged: true }), new Map([['q', ['d0']]]));
  assert.deepEqual(mineHardNegatives(index, queries, qrels, { count: 1 }), new Map([['q', ['d2']]]));
  const ex = mineTrainingExamples(index, queries, qrels);
  assert.deepEqual(ex, [
    { query: { id: 'q', text: 'cherry banana' }, positives: [{ id: 'd1' }], negatives: [{ id: 'd2' }, { id: 'd0' }] },
  ]);
});

test('BM25 on BEIR SciFact test: nDCG@10 within ±0.01 of Anserini flat (0.679)', async () => {
  const ds = openDataset('beir/scifact/test', { mirror: requireSharedData(), home: tempDir() });
  const index = await Bm25Index.build(ds.docs());
  assert.equal(index.size, 5183);
  const run = index.searchAll(await ds.queries(), 100);
  const r = evaluate(run, await ds.qrels(), ['nDCG@10', 'R@100'], { removeSelfHits: true });
  assert.ok(Math.abs(r.mean['nDCG@10']! - 0.679) <= 0.01, `nDCG@10 ${r.mean['nDCG@10']}`);
  assert.ok(Math.abs(r.mean['R@100']! - 0.925) <= 0.01, `R@100 ${r.mean['R@100']}`);
});
