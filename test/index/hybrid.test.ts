import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { buildSparseIndex } from '../../src/index/sparse/build.ts';
import { SparseIndex } from '../../src/index/sparse/index.ts';
import { buildDenseIndex } from '../../src/index/dense/build.ts';
import { DenseIndex } from '../../src/index/dense/index.ts';
import { hybridSearch } from '../../src/index/hybrid.ts';
import { tmp } from './helpers.ts';

test('hybrid search fuses a sparse and a dense run (RRF and linear)', async () => {
  // at depth 2, sparse gives [d0, d1] and dense [d2, d1]: d1 is in both, so RRF puts it first; d0 and d2
  // tie at 1/61 and fall in trec_eval order (doc id descending)
  const sv = (t: number[], v: number[]) => ({ indices: Uint32Array.from(t), values: Float32Array.from(v) });
  const sdir = join(tmp(), 's');
  const ddir = join(tmp(), 'd');
  await buildSparseIndex(
    sdir,
    [
      { id: 'd0', vector: sv([1], [3]) },
      { id: 'd1', vector: sv([1], [2]) },
      { id: 'd2', vector: sv([2], [1]) },
    ],
    { vocabSize: 4 },
  );
  await buildDenseIndex(ddir, [
    { id: 'd0', vector: Float32Array.from([0, 1]) },
    { id: 'd1', vector: Float32Array.from([0.5, 0.5]) },
    { id: 'd2', vector: Float32Array.from([1, 0]) },
  ]);
  const s = SparseIndex.load(sdir);
  const d = DenseIndex.load(ddir);
  const sq = [{ id: 'q', vector: sv([1], [1]) }];
  const dq = [{ id: 'q', vector: Float32Array.from([1, 0]) }];
  const rrf = await hybridSearch(s, d, sq, dq, { k: 3, depth: 2, backend: 'js' });
  assert.deepEqual(
    rrf.get('q')!.map((h) => h.docId),
    ['d1', 'd2', 'd0'],
  );
  const lin = await hybridSearch(s, d, sq, dq, { k: 3, backend: 'js', fusion: 'linear', weights: [1, 0] });
  assert.equal(lin.get('q')![0]!.docId, 'd0'); // all weight on the sparse run
});
