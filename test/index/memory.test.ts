import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { MemorySparseIndex } from '../../src/index/sparse/memory.ts';
import { kthLowerBound } from '../../src/index/query/exhaustive.ts';
import type { SparseVector } from '../../src/index/types.ts';
import { rng } from '../../src/util/random.ts';

function vec(weights: number[]): SparseVector {
  const indices: number[] = [];
  const values: number[] = [];
  weights.forEach((w, t) => {
    if (w !== 0) {
      indices.push(t);
      values.push(w);
    }
  });
  return { indices: Uint32Array.from(indices), values: Float32Array.from(values) };
}

/**
 * The exact float top-k from the documented rule, independently of the index: Σ q × d over the query's
 * terms in query order (the scan's order of addition, so float64 sums are identical), scores > 0,
 * score descending then doc number ascending.
 */
function floatBruteForce(docs: SparseVector[], q: SparseVector, k: number): { docs: number[]; scores: number[] } {
  const scored: [number, number][] = [];
  docs.forEach((d, doc) => {
    const w = new Map<number, number>();
    d.indices.forEach((t, i) => w.set(t, d.values[i]!));
    let s = 0;
    q.indices.forEach((t, i) => {
      if (w.has(t)) s += q.values[i]! * w.get(t)!;
    });
    if (s > 0) scored.push([doc, s]);
  });
  scored.sort((a, b) => b[1] - a[1] || a[0] - b[0]);
  const top = scored.slice(0, k);
  return { docs: top.map((x) => x[0]), scores: top.map((x) => x[1]) };
}

test('MemorySparseIndex equals the float brute force at every k and weight scale, ties included', () => {
  const r = rng(11);
  const V = 40;
  // 300 documents: more than two 128-posting blocks for common terms
  for (const scale of [1e-4, 1, 1e4]) {
    for (const tied of [false, true]) {
      // tied: weights from three values, so many documents share a score
      const w = () => scale * (tied ? [0.25, 0.5, 1][Math.floor(r() * 3)]! : Math.fround(r() + 0.01));
      const docs = Array.from({ length: 300 }, () => vec(Array.from({ length: V }, () => (r() < 0.3 ? w() : 0))));
      docs[7] = vec([]); // an empty document
      const index = new MemorySparseIndex(docs);
      for (let qi = 0; qi < 6; qi++) {
        // terms up to V + 5: some no document holds
        const q = vec(Array.from({ length: V + 5 }, () => (r() < 0.3 ? w() : 0)));
        for (const k of [1, 10, 63, 64, 100, 250, 299, 400]) {
          const want = floatBruteForce(docs, q, k);
          const got = index.search(q, k);
          const label = `scale ${scale} tied ${tied} query ${qi} k=${k}`;
          assert.deepEqual(Array.from(got.docs), want.docs, label);
          assert.deepEqual(Array.from(got.scores), want.scores, label);
        }
      }
    }
  }
});

test('MemorySparseIndex: empty collections and queries, and a clear error on unordered indices', () => {
  assert.deepEqual(Array.from(new MemorySparseIndex([]).search(vec([1, 2]), 5).docs), []);
  const index = new MemorySparseIndex([vec([1, 0, 2]), vec([0, 3])]);
  assert.deepEqual(Array.from(index.search(vec([]), 5).docs), []);
  assert.deepEqual(Array.from(index.search(vec([0, 1]), 5).docs), [1]);
  const bad = { indices: Uint32Array.from([3, 1]), values: Float32Array.from([1, 1]) };
  assert.throws(() => new MemorySparseIndex([vec([1]), bad]), /document 1 has indices out of order at position 1 \('1'\)/);
});

test('kthLowerBound: strictly below the k-th best positive score, for integer and float scores at any magnitude', () => {
  fc.assert(
    fc.property(
      fc.array(fc.integer({ min: 0, max: 50 }), { minLength: 1, maxLength: 2000 }),
      fc.integer({ min: 1, max: 300 }),
      fc.constantFrom(1, 1e-7, 0.37, 3e5, 1e200),
      (ints, k, scale) => {
        const acc = Float64Array.from(ints, (x) => x * scale);
        const th = kthLowerBound(acc, acc.length, k);
        assert.ok(th >= 0);
        const pos = Array.from(acc).filter((v) => v > 0).sort((a, b) => b - a);
        if (pos.length > k) assert.ok(th < pos[k - 1]!, `bound ${th} vs k-th ${pos[k - 1]}`);
        else assert.equal(th, 0);
      },
    ),
    { numRuns: 300 },
  );
});

test('kthLowerBound prunes float scores below 1 (it does not fall back to 0)', () => {
  const r = rng(3);
  const acc = Float64Array.from({ length: 5000 }, () => 0.01 * r());
  const th = kthLowerBound(acc, acc.length, 100);
  const kth = Array.from(acc).sort((a, b) => b - a)[99]!;
  assert.ok(th > 0.9 * kth && th < kth, `bound ${th}, k-th ${kth}`);
});
