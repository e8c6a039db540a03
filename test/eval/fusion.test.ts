import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rrf, fuseLinear } from '../../src/eval/fusion.ts';
import type { Run } from '../../src/data/types.ts';

const A: Run = new Map([
  [
    'q',
    [
      { docId: 'd1', score: 3 },
      { docId: 'd2', score: 2 },
      { docId: 'd3', score: 1 },
    ],
  ],
]);
const B: Run = new Map([
  [
    'q',
    [
      { docId: 'd1', score: 5 },
      { docId: 'd3', score: 10 },
    ],
  ], // unsorted on purpose
  ['only-b', [{ docId: 'x', score: 1 }]],
]);

test('RRF: Σ 1/(k + rank) with ranks in trec_eval order', () => {
  const f = rrf([A, B]);
  assert.deepEqual(f.get('q'), [
    { docId: 'd1', score: 1 / 61 + 1 / 62 },
    { docId: 'd3', score: 1 / 63 + 1 / 61 },
    { docId: 'd2', score: 1 / 62 },
  ]);
  assert.deepEqual(f.get('only-b'), [{ docId: 'x', score: 1 / 61 }]);
  assert.deepEqual(rrf([A, B], 1, { depth: 1 }).get('q'), [{ docId: 'd1', score: 1 / 2 + 1 / 3 }]);
});

test('linear fusion with min-max normalisation; ties broken by doc id descending', () => {
  // A -> d1 1, d2 0.5, d3 0; B -> d3 1, d1 0. Equal weights: d1 0.5, d3 0.5, d2 0.25.
  assert.deepEqual(fuseLinear([A, B], [0.5, 0.5], 'minmax').get('q'), [
    { docId: 'd3', score: 0.5 },
    { docId: 'd1', score: 0.5 },
    { docId: 'd2', score: 0.25 },
  ]);
  // No normalisation: raw weighted sums; d3 = 1 + 0.1·10 ties d2 = 2 and wins on doc id.
  assert.deepEqual(fuseLinear([A, B], [1, 0.1], 'none').get('q'), [
    { docId: 'd1', score: 3.5 },
    { docId: 'd3', score: 2 },
    { docId: 'd2', score: 2 },
  ]);
  const z = fuseLinear([A], [1], 'zscore').get('q')!; // scores 3,2,1: mean 2, sd sqrt(2/3)
  assert.ok(Math.abs(z[0]!.score - 1 / Math.sqrt(2 / 3)) < 1e-12);
  assert.throws(() => fuseLinear([A, B], [1]), /one weight per run/);
});
