import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { TopK, offerMapped } from '../../src/index/topk.ts';

/** The k best (score, doc) pairs by the documented rule: score descending, then doc ascending. */
function best(pairs: readonly (readonly [number, number])[], k: number): (readonly [number, number])[] {
  return [...pairs].sort((a, b) => b[0] - a[0] || a[1] - b[1]).slice(0, k);
}

function assertBest(got: { docs: Int32Array; scores: Float64Array }, want: (readonly [number, number])[]): void {
  assert.deepEqual(
    Array.from(got.docs),
    want.map((x) => x[1]),
  );
  assert.deepEqual(
    Array.from(got.scores),
    want.map((x) => x[0]),
  );
}

test('TopK keeps the k best (score desc, doc asc) in any insertion order', () => {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.integer({ min: 0, max: 20 }), fc.integer({ min: 0, max: 10_000 })), { maxLength: 300 }),
      fc.integer({ min: 1, max: 50 }),
      (pairs, k) => {
        // unique docs, small score range: many ties
        const seen = new Set<number>();
        const items = pairs.filter(([, d]) => (seen.has(d) ? false : (seen.add(d), true)));
        const top = new TopK(k);
        for (const [s, d] of items) top.push(s, d);
        const want = best(items, k);
        assertBest(top.drain(), want);
      },
    ),
    { numRuns: 300 },
  );
});

test('TopK refuses a non-positive k', () => {
  assert.throws(() => new TopK(0), /k must be a positive integer/);
});

test('offerMapped: ids in any order, equal scores decided by the tie rule, zeros and scores below the floor never enter', () => {
  fc.assert(
    fc.property(
      fc.array(fc.integer({ min: 0, max: 6 }), { maxLength: 40 }),
      fc.integer({ min: 1, max: 12 }),
      fc.integer({ min: 0, max: 3 }),
      fc.integer({ min: 1, max: 1000 }),
      (scores, k, floor, seed) => {
        // a permutation of ids, so equal scores arrive with their ids out of order
        const ids = scores.map((_, i) => i);
        let s = seed;
        for (let i = ids.length - 1; i > 0; i--) {
          s = (s * 1103515245 + 12345) >>> 0;
          const j = s % (i + 1);
          [ids[i], ids[j]] = [ids[j]!, ids[i]!];
        }
        const top = new TopK(k);
        offerMapped(top, Float64Array.from(scores), Int32Array.from(ids), floor);
        const want = best(
          scores.map((v, i) => [v, ids[i]!] as const).filter(([v]) => v > 0 && v >= floor),
          k,
        );
        assertBest(top.drain(), want);
      },
    ),
    { numRuns: 300 },
  );
});
