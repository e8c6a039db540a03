import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { buildSparseIndex } from '../../src/index/sparse/build.ts';
import { SparseIndex } from '../../src/index/sparse/index.ts';
import { searchIndex } from '../../src/index/search.ts';
import { evaluate } from '../../src/eval/index.ts';
import type { Run, SparseVector } from '../../src/index/types.ts';
import { bm25Vectors, dataRoot, tmp } from './helpers.ts';

const COLLECTIONS = [
  { name: 'SciFact', dir: join(dataRoot, 'beir/scifact') },
  { name: 'DL19-mini', dir: join(dataRoot, 'msmarco-passage/dl19-mini') },
];

for (const c of COLLECTIONS) {
  test(`${c.name} (BM25-weighted vectors): BMP and MaxScore return the exact top-1000, ids and scores`, async () => {
    assert.ok(existsSync(c.dir), `missing test data ${c.dir} (expected ../shared/data beside the checkout)`);
    const { docs, queries, vocabSize } = await bm25Vectors(c.dir);
    const dir = join(tmp(), 'idx');
    await buildSparseIndex(dir, docs, { vocabSize });
    const idx = SparseIndex.load(dir);
    assert.ok(queries.length >= 43);
    let hits = 0;
    for (const q of queries) {
      const exact = idx.searchRaw(q.vector, 1000, { algorithm: 'exhaustive' });
      hits += exact.docs.length;
      for (const algorithm of ['bmp', 'maxscore'] as const) {
        const got = idx.searchRaw(q.vector, 1000, { algorithm });
        assert.deepEqual(got.docs, exact.docs, `${algorithm} q=${q.id}`);
        assert.deepEqual(got.scores, exact.scores, `${algorithm} q=${q.id}`);
      }
      const bmpOnly = idx.searchRaw(q.vector, 1000, { algorithm: 'bmp', fallback: false });
      assert.deepEqual(bmpOnly.docs, exact.docs, `bmp without fallback q=${q.id}`);
    }
    assert.ok(hits > queries.length * 100, 'the runs are not trivially short');
  });
}

/** Float (unquantised) dot products, exhaustively: the reference the 8-bit index is compared with. */
function floatRun(
  docs: { id: string; vector: SparseVector }[],
  queries: { id: string; vector: SparseVector }[],
  k: number,
): Run {
  const inv = new Map<number, [number, number][]>();
  docs.forEach((d, i) =>
    d.vector.indices.forEach((t, j) => {
      let l = inv.get(t);
      if (!l) inv.set(t, (l = []));
      l.push([i, d.vector.values[j]!]);
    }),
  );
  const run: Run = new Map();
  for (const q of queries) {
    const acc = new Float64Array(docs.length);
    q.vector.indices.forEach((t, j) => {
      for (const [d, v] of inv.get(t) ?? []) acc[d] = acc[d]! + q.vector.values[j]! * v;
    });
    const order = Array.from(acc.keys())
      .filter((d) => acc[d]! > 0)
      .sort((a, b) => acc[b]! - acc[a]! || a - b);
    run.set(
      q.id,
      order.slice(0, k).map((d) => ({ docId: docs[d]!.id, score: acc[d]! })),
    );
  }
  return run;
}

test('SciFact: 8-bit impacts lose at most 0.002 nDCG@10 against float scores', async () => {
  const dir0 = join(dataRoot, 'beir/scifact');
  assert.ok(existsSync(dir0), `missing test data ${dir0}`);
  const { docs, queries, qrels, vocabSize } = await bm25Vectors(dir0);
  const ref = evaluate(floatRun(docs, queries, 100), qrels, ['nDCG@10']).mean['nDCG@10']!;
  const results: Record<string, number> = {};
  for (const bits of [8, 16] as const) {
    const dir = join(tmp(), `idx${bits}`);
    await buildSparseIndex(dir, docs, { vocabSize, bits });
    const run = await searchIndex(SparseIndex.load(dir), queries, { k: 100, threads: 1 });
    results[bits] = evaluate(run, qrels, ['nDCG@10']).mean['nDCG@10']!;
  }
  // BM25 on SciFact scores about 0.67 nDCG@10 (Anserini flat: 0.679)
  assert.ok(ref > 0.6 && ref < 0.75, `float nDCG@10 ${ref}`);
  assert.ok(Math.abs(results[8]! - ref) <= 0.002, `8-bit ${results[8]} vs float ${ref}`);
  assert.ok(Math.abs(results[16]! - ref) <= 0.0005, `16-bit ${results[16]} vs float ${ref}`);
  console.log(
    `SciFact nDCG@10: float ${ref.toFixed(4)}, 16-bit ${results[16]!.toFixed(4)}, 8-bit ${results[8]!.toFixed(4)}`,
  );
});
