import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pairedTTest, randomisationTest, pairByQuery } from '../../src/eval/significance.ts';
import { evaluate } from '../../src/eval/evaluate.ts';
import type { Qrels, Run } from '../../src/data/types.ts';

test('paired t-test: with 2 queries t has 1 df (Cauchy), so p has a closed form', () => {
  // d = [1, 3]: mean 2, sd sqrt(2), se 1, t = 2; P(|T1| >= 2) = 1 - 2·atan(2)/π.
  const r = pairedTTest([1, 3], [0, 0]);
  assert.equal(r.t, 2);
  assert.equal(r.df, 1);
  assert.ok(Math.abs(r.p - (1 - (2 * Math.atan(2)) / Math.PI)) < 1e-9, String(r.p));
});

test('paired t-test: a textbook case and the degenerate ones', () => {
  // d = [0.1, 0, 0.2, 0.3]: mean 0.15, variance 0.05/3, t = 0.15 / sqrt(0.05/12) = 2.3238, df 3.
  const r = pairedTTest([0.5, 0.6, 0.7, 0.8], [0.4, 0.6, 0.5, 0.5]);
  assert.ok(Math.abs(r.t - 0.15 / Math.sqrt(0.05 / 12)) < 1e-9);
  assert.ok(r.p > 0.1 && r.p < 0.105, String(r.p)); // t(0.95, 3) = 2.353 > 2.3238
  assert.equal(pairedTTest([1, 2, 3], [1, 2, 3]).p, 1);
  assert.equal(pairedTTest([2, 3, 4], [1, 2, 3]).p, 0); // constant non-zero difference
  assert.throws(() => pairedTTest([1], [2]), /at least 2/);
  assert.throws(() => pairedTTest([1, 2], [2]), /equal lengths/);
});

test('randomisation test approaches the exact permutation p-value and is seeded', () => {
  // d = [1..5]: only the all-plus and all-minus sign patterns reach |sum| = 15, so exact p = 2/32.
  const a = [1, 2, 3, 4, 5];
  const b = [0, 0, 0, 0, 0];
  const r = randomisationTest(a, b, { trials: 20_000, seed: 7 });
  assert.ok(Math.abs(r.p - 2 / 32) < 0.01, String(r.p));
  assert.equal(r.meanDiff, 3);
  assert.deepEqual(
    randomisationTest(a, b, { trials: 2000, seed: 3 }),
    randomisationTest(a, b, { trials: 2000, seed: 3 }),
  );
  assert.ok(randomisationTest([1, 2, 3], [1, 2, 3], { trials: 500 }).p > 0.99);
});

test('pairByQuery pairs only the queries both evaluations scored', () => {
  const qrels: Qrels = new Map([
    ['1', new Map([['a', 1]])],
    ['2', new Map([['a', 1]])],
    ['3', new Map([['a', 1]])],
  ]);
  const x: Run = new Map([
    ['1', [{ docId: 'a', score: 1 }]],
    ['2', [{ docId: 'b', score: 1 }]],
  ]);
  const y: Run = new Map([
    ['2', [{ docId: 'a', score: 1 }]],
    ['3', [{ docId: 'a', score: 1 }]],
  ]);
  const p = pairByQuery(evaluate(x, qrels, ['RR@10']), evaluate(y, qrels, ['RR@10']), 'RR@10');
  assert.deepEqual(p, { queries: ['2'], a: [0], b: [1] });
});
