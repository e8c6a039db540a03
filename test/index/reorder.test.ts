/**
 * Document reordering (BP) must be invisible in results: for random small collections, every
 * algorithm returns the same input numbers and scores from a reordered index as from one in input
 * order (ties included), and both equal the brute-force reference.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import fc from 'fast-check';
import { buildSparseIndex } from '../../src/index/sparse/build.ts';
import { SparseIndex, SPARSE_ALGORITHMS } from '../../src/index/sparse/index.ts';
import { bisectOrder, invertPermutation } from '../../src/index/sparse/reorder.ts';
import { SyntheticSparse } from '../../src/index/synthetic.ts';
import type { SparseVector } from '../../src/index/types.ts';
import { readFileSync } from 'node:fs';
import { exportIndex } from '../../src/index/export.ts';
import { bruteForce, tmp } from './helpers.ts';
import { rng } from '../../src/util/random.ts';

/** A vector over `vocab` terms from integer weights (0 = absent), so that ties are common. */
function vec(ws: number[]): SparseVector {
  const idx: number[] = [];
  const val: number[] = [];
  ws.forEach((w, t) => {
    if (w > 0) {
      idx.push(t);
      val.push(w);
    }
  });
  return { indices: Uint32Array.from(idx), values: Float32Array.from(val) };
}

const VOCAB = 24;
const weights = fc.array(fc.oneof(fc.constant(0), fc.constant(0), fc.integer({ min: 1, max: 2 })), {
  minLength: VOCAB,
  maxLength: VOCAB,
});

test('reordering never changes results: exhaustive, BMP and MaxScore, ids and scores, ties included', async () => {
  const root = tmp();
  let run = 0;
  let permuted = 0;
  await fc.assert(
    fc.asyncProperty(
      fc.array(weights, { minLength: 1, maxLength: 90, size: 'max' }),
      fc.array(weights, { minLength: 1, maxLength: 4 }),
      fc.constantFrom(1, 2, 4, 8),
      fc.constantFrom<8 | 16>(8, 16),
      fc.oneof(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 100 })),
      async (docW, queryW, docBlock, bits, k) => {
        const docs = docW.map(vec);
        const items = docs.map((v, i) => ({ id: `d${i}`, vector: v }));
        const dir = join(root, String(run++));
        const opts = { vocabSize: VOCAB, docBlock, bits, bpIterations: 4 };
        await buildSparseIndex(join(dir, 'plain'), items, { ...opts, reorder: 'none' });
        await buildSparseIndex(join(dir, 'bp'), items, { ...opts, reorder: 'bp' });
        const plain = SparseIndex.load(join(dir, 'plain'));
        const bp = SparseIndex.load(join(dir, 'bp'));
        assert.equal(bp.manifest.sparse!.reorder, docs.length > 1 ? 'bp' : 'none');
        for (const q of queryW.map(vec)) {
          if (q.indices.length === 0) continue;
          const want = bruteForce(docs, q, k, bits);
          // BMP also without its cost checks: on collections this small they hand most queries to
          // exhaustive scoring, which would leave block scoring untested
          const variants = [
            ...SPARSE_ALGORITHMS.map((algorithm) => ({ algorithm })),
            { algorithm: 'bmp' as const, fallback: false },
          ];
          for (const o of variants) {
            const name = `${o.algorithm}${'fallback' in o ? ' (no fallback)' : ''}`;
            const a = plain.searchRaw(q, k, o);
            const b = bp.searchRaw(q, k, o);
            assert.deepEqual(Array.from(b.docs), want.docs, `${name}: ids`);
            assert.deepEqual(Array.from(b.scores), Array.from(a.scores), `${name}: scores`);
            assert.deepEqual(Array.from(a.docs), want.docs, `${name} (input order): ids`);
            assert.deepEqual(
              bp.search(q, k, o).map((h) => h.docId),
              want.docs.map((d) => `d${d}`),
            );
          }
        }
        // stored vectors come back under their input numbers
        for (let i = 0; i < docs.length; i++)
          assert.deepEqual(Array.from(bp.document(i).indices), Array.from(plain.document(i).indices));
        if (bp.data.origDoc && bp.data.origDoc.some((o, i) => o !== i)) permuted++;
        // exports are byte-identical (input order, same ids and weights)
        for (const format of ['qdrant', 'opensearch'] as const) {
          await exportIndex(plain, join(dir, `plain.${format}`), { format });
          await exportIndex(bp, join(dir, `bp.${format}`), { format });
          assert.equal(
            readFileSync(join(dir, `bp.${format}`), 'utf8'),
            readFileSync(join(dir, `plain.${format}`), 'utf8'),
          );
        }
      },
    ),
    { numRuns: 25 },
  );
  assert.ok(permuted > 5, `BP must actually permute most collections (${permuted} of 25 did)`);
});

test('BP returns a permutation and brings documents that share terms together', () => {
  // two topics in alternating input order: BP must separate them into two contiguous halves
  const gen = new SyntheticSparse({ vocabSize: 2000, topics: 2, topicShare: 0.9, topicMinRank: 0, seed: 3 });
  const N = 512;
  const docs = Array.from({ length: N }, (_, i) => gen.vector(30, i % 2));
  const docStart = new Uint32Array(N + 1);
  docs.forEach((d, i) => (docStart[i + 1] = docStart[i]! + d.indices.length));
  const terms = new Uint32Array(docStart[N]!);
  docs.forEach((d, i) => terms.set(d.indices, docStart[i]!));
  const order = bisectOrder(docStart, terms, N, 2000);
  assert.deepEqual(
    Array.from(order).sort((a, b) => a - b),
    Array.from({ length: N }, (_, i) => i),
  );
  const inv = invertPermutation(order);
  for (let i = 0; i < N; i++) assert.equal(order[inv[i]!], i);
  // the first half should be (almost) one topic
  let even = 0;
  for (let i = 0; i < N / 2; i++) if (order[i]! % 2 === 0) even++;
  const purity = Math.max(even, N / 2 - even) / (N / 2);
  assert.ok(purity > 0.95, `first half purity ${purity}`);
});

test('large k (the histogram-bounded exhaustive scan) equals the brute-force reference, ties included', async () => {
  const r = rng(5);
  const docs = Array.from({ length: 600 }, () =>
    vec(Array.from({ length: VOCAB }, () => (r() < 0.4 ? 1 + Math.floor(r() * 2) : 0))),
  );
  const dir = join(tmp(), 'largek');
  for (const reorder of ['none', 'bp'] as const) {
    await buildSparseIndex(
      join(dir, reorder),
      docs.map((v, i) => ({ id: `d${i}`, vector: v })),
      { vocabSize: VOCAB, docBlock: 8, reorder },
    );
    const idx = SparseIndex.load(join(dir, reorder));
    for (let qi = 0; qi < 10; qi++) {
      const q = vec(Array.from({ length: VOCAB }, () => (r() < 0.5 ? 1 + Math.floor(r() * 3) : 0)));
      for (const k of [64, 100, 250, 599]) {
        const want = bruteForce(docs, q, k);
        for (const algorithm of SPARSE_ALGORITHMS)
          assert.deepEqual(
            Array.from(idx.searchRaw(q, k, { algorithm }).docs),
            want.docs,
            `${reorder} ${algorithm} k=${k}`,
          );
      }
    }
  }
});
