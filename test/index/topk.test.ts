import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { TopK } from '../../src/index/topk.ts';

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
        const got = top.drain();
        const want = [...items].sort((a, b) => b[0] - a[0] || a[1] - b[1]).slice(0, k);
        assert.deepEqual(
          Array.from(got.docs),
          want.map((x) => x[1]),
        );
        assert.deepEqual(
          Array.from(got.scores),
          want.map((x) => x[0]),
        );
      },
    ),
    { numRuns: 300 },
  );
});

test('TopK refuses a non-positive k', () => {
  assert.throws(() => new TopK(0), /k must be a positive integer/);
});
