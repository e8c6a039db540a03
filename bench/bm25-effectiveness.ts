/**
 * BM25 effectiveness and speed on the shared data: BEIR SciFact test (against Anserini's published
 * flat/multifield figures), Lion's DL19 subset and Cranfield. Index and search times are the median
 * of 3 runs.
 *
 *   LION_DATA_MIRROR=../shared/data node --import tsx bench/bm25-effectiveness.ts
 * @module
 */
import { resolve } from 'node:path';
import { openDataset } from '../src/data/datasets.ts';
import { Bm25Index } from '../src/lexical/bm25.ts';
import { evaluate } from '../src/eval/evaluate.ts';
import type { Doc } from '../src/data/types.ts';

const mirror = process.env['LION_DATA_MIRROR'] ?? resolve(import.meta.dirname, '../../shared/data');
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const SETS: { id: string; measures: string[]; k: number }[] = [
  { id: 'beir/scifact/test', measures: ['nDCG@10', 'R@100', 'R@1000'], k: 1000 },
  {
    id: 'msmarco-passage/dl19-mini',
    measures: ['nDCG@10', 'R@1000', 'R(rel=2)@1000', 'RR(rel=2)@10', 'AP(rel=2)'],
    k: 1000,
  },
  { id: 'cranfield', measures: ['nDCG@10', 'P@10', 'AP'], k: 1000 },
];

for (const s of SETS) {
  const ds = openDataset(s.id, { mirror });
  const docs: Doc[] = [];
  for await (const d of ds.docs()) docs.push(d); // in memory, so timings measure indexing, not reading
  const queries = await ds.queries();
  const qrels = await ds.qrels();
  const indexMs: number[] = [];
  const searchMs: number[] = [];
  let result: Record<string, number> = {};
  let stats = '';
  for (let rep = 0; rep < 3; rep++) {
    let t = performance.now();
    const index = await Bm25Index.build(docs);
    indexMs.push(performance.now() - t);
    t = performance.now();
    const run = index.searchAll(queries, s.k);
    searchMs.push(performance.now() - t);
    result = evaluate(run, qrels, s.measures, { removeSelfHits: ds.entry.removeSelfHits }).mean;
    stats = `${index.size} docs, ${index.terms.length} terms, ${index.postings} postings`;
  }
  const q = queries.size;
  console.log(`${s.id} (${stats}; ${q} queries, k=${s.k})`);
  console.log(
    `  ${Object.entries(result)
      .map(([m, v]) => `${m} ${v.toFixed(4)}`)
      .join('  ')}`,
  );
  console.log(
    `  index ${(median(indexMs) / 1000).toFixed(2)} s (${((docs.length / median(indexMs)) * 1000).toFixed(0)} docs/s); search ${(median(searchMs) / 1000).toFixed(3)} s (${(median(searchMs) / q).toFixed(2)} ms/query)`,
  );
}
