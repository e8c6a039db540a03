/**
 * Shared helpers for index tests: temporary folders, an independent brute-force reference, and
 * BM25-weighted vectors of the real collections.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after } from 'node:test';
import type { SparseVector } from '../../src/index/types.ts';

export const repoRoot = resolve(import.meta.dirname, '../..');
export const dataRoot = resolve(repoRoot, '../shared/data');

const made: string[] = [];
after(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

/** A fresh temporary folder, removed when the test file ends. */
export function tmp(prefix = 'lion-index-'): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  made.push(d);
  return d;
}

/**
 * The exact top-k written from the documented rules, independently of the index code: impacts
 * max(1, round(w / (max / levels))), query weights round(q / (qmax / 65535)), integer dot products,
 * order by score descending then doc number ascending.
 */
export function bruteForce(
  docs: readonly SparseVector[],
  q: SparseVector,
  k: number,
  bits: 8 | 16 = 8,
): { docs: number[]; ints: number[] } {
  let max = 0;
  for (const d of docs) for (const v of d.values) if (v > max) max = v;
  const levels = bits === 8 ? 255 : 65535;
  const scale = max / levels;
  let qmax = 0;
  for (const v of q.values) if (v > qmax) qmax = v;
  const qw = new Map<number, number>();
  q.indices.forEach((t, i) => {
    const w = Math.round(q.values[i]! / (qmax / 65535));
    if (w > 0) qw.set(t, w);
  });
  const scored: [number, number][] = [];
  docs.forEach((d, doc) => {
    let s = 0;
    d.indices.forEach((t, i) => {
      const w = qw.get(t);
      if (w !== undefined && d.values[i]! > 0) s += w * Math.min(levels, Math.max(1, Math.round(d.values[i]! / scale)));
    });
    if (s > 0) scored.push([s, doc]);
  });
  scored.sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  const top = scored.slice(0, k);
  return { docs: top.map((x) => x[1]), ints: top.map((x) => x[0]) };
}

/** BM25-weighted document and query vectors of a BEIR-format collection (src/lexical's BM25). */
export async function bm25Vectors(dir: string, qrelsFile = 'qrels/test.tsv') {
  const { Bm25Index } = await import('../../src/lexical/index.ts');
  const { readBeirCorpus, readBeirQueries, readBeirQrels } = await import('../../src/data/beir.ts');
  const bm25 = await Bm25Index.build(readBeirCorpus(join(dir, 'corpus.jsonl')));
  const qrels = await readBeirQrels(join(dir, qrelsFile));
  const queries: { id: string; vector: SparseVector }[] = [];
  for await (const q of readBeirQueries(join(dir, 'queries.jsonl')))
    if (qrels.has(q.id)) queries.push({ id: q.id, vector: bm25.encodeQuery(q.text) });
  const docs = Array.from({ length: bm25.size }, (_, i) => ({ id: bm25.docIds[i]!, vector: bm25.documentVector(i) }));
  return { docs, queries, qrels, vocabSize: bm25.terms.length };
}
