import { test } from 'node:test';
import assert from 'node:assert/strict';
import { evaluate } from '../../src/eval/evaluate.ts';
import { parseMeasure } from '../../src/eval/measures.ts';
import type { Qrels, Run } from '../../src/data/types.ts';

// A small case worked by hand (values below are derived on paper, not copied from the code).
//   q1 judged d1=2, d2=0, d3=1, d4=3;  q2 judged a=1;  q3 judged only (no results);  q4 run only.
//   Run q1: d5 3.0 (unjudged), d1 2.0, d3 2.0, d2 1.0, d9 0.5 -> ranked d5, d3, d1, d2, d9
//          (the 2.0 tie goes to the larger doc id, d3), grades [-, 1, 2, 0, -].
//   Run q2: b 1.0, a 1.0 -> ranked b, a (tie, b > a), grades [-, 1].
const qrels: Qrels = new Map([
  [
    'q1',
    new Map([
      ['d1', 2],
      ['d2', 0],
      ['d3', 1],
      ['d4', 3],
    ]),
  ],
  ['q2', new Map([['a', 1]])],
  ['q3', new Map([['x', 1]])],
]);
// Hit order in the run is deliberately scrambled: ranks come from scores only.
const run: Run = new Map([
  [
    'q1',
    [
      { docId: 'd2', score: 1 },
      { docId: 'd1', score: 2 },
      { docId: 'd9', score: 0.5 },
      { docId: 'd5', score: 3 },
      { docId: 'd3', score: 2 },
    ],
  ],
  [
    'q2',
    [
      { docId: 'a', score: 1 },
      { docId: 'b', score: 1 },
    ],
  ],
  ['q4', [{ docId: 'z', score: 1 }]],
]);
const close = (a: number, b: number, msg?: string): void =>
  assert.ok(Math.abs(a - b) < 1e-12, `${msg ?? ''} ${a} != ${b}`);

test('per-query values at the default level 1 match the hand computation', () => {
  const r = evaluate(run, qrels, ['RR@10', 'RR@1', 'P@5', 'P@10', 'R@2', 'R@5', 'AP', 'nDCG@3', 'nDCG@10', 'nDCG@1']);
  assert.deepEqual([...r.perQuery.keys()], ['q1', 'q2']); // q3 has no results, q4 no judgements
  const q1 = r.perQuery.get('q1')!;
  close(q1['RR@10']!, 1 / 2);
  close(q1['RR@1']!, 0);
  close(q1['P@5']!, 2 / 5);
  close(q1['P@10']!, 2 / 10); // fewer than 10 retrieved: the rest count as non-relevant
  close(q1['R@2']!, 1 / 3); // relevant: d1, d3, d4
  close(q1['R@5']!, 2 / 3);
  close(q1['AP']!, (1 / 2 + 2 / 3) / 3);
  // DCG@3 = 0 + 1/log2(3) + 2/log2(4); ideal = 3, 2, 1 -> 3/1 + 2/log2(3) + 1/log2(4)
  close(q1['nDCG@3']!, (1 / Math.log2(3) + 2 / 2) / (3 + 2 / Math.log2(3) + 1 / 2));
  close(q1['nDCG@10']!, (1 / Math.log2(3) + 2 / 2) / (3 + 2 / Math.log2(3) + 1 / 2));
  close(q1['nDCG@1']!, 0);
  const q2 = r.perQuery.get('q2')!;
  close(q2['RR@10']!, 1 / 2);
  close(q2['AP']!, 1 / 2);
  close(q2['R@2']!, 1);
  close(q2['nDCG@3']!, 1 / Math.log2(3));
  close(r.mean['RR@10']!, 1 / 2);
  close(r.mean['AP']!, ((1 / 2 + 2 / 3) / 3 + 1 / 2) / 2);
  close(r.mean['R@5']!, (2 / 3 + 1) / 2);
});

test('relevance level 2 (trec_eval -l2) changes binary measures only; (rel=N) overrides per measure', () => {
  const r = evaluate(run, qrels, ['RR@10', 'AP', 'R@5', 'nDCG@3', 'R(rel=1)@5'], { relevanceLevel: 2 });
  const q1 = r.perQuery.get('q1')!;
  close(q1['RR@10']!, 1 / 3); // first grade >= 2 is d1 at rank 3
  close(q1['AP']!, 1 / 3 / 2); // relevant: d1 (2), d4 (3)
  close(q1['R@5']!, 1 / 2);
  close(q1['R(rel=1)@5']!, 2 / 3);
  close(q1['nDCG@3']!, (1 / Math.log2(3) + 2 / 2) / (3 + 2 / Math.log2(3) + 1 / 2)); // unchanged
  const q2 = r.perQuery.get('q2')!;
  assert.deepEqual([q2['RR@10'], q2['AP'], q2['R@5']], [0, 0, 0]); // no doc reaches grade 2: still averaged, as 0
  close(r.mean['AP']!, 1 / 6 / 2);
  // Level 0: judged non-relevant docs count too (d2 at rank 4).
  const r0 = evaluate(run, qrels, ['P@5'], { relevanceLevel: 0 });
  close(r0.perQuery.get('q1')!['P@5']!, 3 / 5);
});

test('BEIR self-hit removal drops doc == query id before ranking', () => {
  const q: Qrels = new Map([['q7', new Map([['d', 1]])]]);
  const r: Run = new Map([
    [
      'q7',
      [
        { docId: 'q7', score: 5 },
        { docId: 'd', score: 4 },
      ],
    ],
  ]);
  close(evaluate(r, q, ['RR@10']).mean['RR@10']!, 1 / 2);
  close(evaluate(r, q, ['RR@10'], { removeSelfHits: true }).mean['RR@10']!, 1);
  // A query whose only hit is itself is then absent from the run.
  const only: Run = new Map([['q7', [{ docId: 'q7', score: 5 }]]]);
  assert.equal(evaluate(only, q, ['RR@10'], { removeSelfHits: true }).perQuery.size, 0);
});

test('a duplicate doc within one query is refused; negative grades are judged-not-relevant', () => {
  const dup: Run = new Map([
    [
      'q2',
      [
        { docId: 'a', score: 1 },
        { docId: 'a', score: 0.5 },
      ],
    ],
  ]);
  assert.throws(() => evaluate(dup, qrels, ['AP']), /duplicate doc 'a' in the run for query 'q2'/);
  const neg: Qrels = new Map([
    [
      'q',
      new Map([
        ['a', -1],
        ['b', 2],
      ]),
    ],
  ]);
  const r: Run = new Map([
    [
      'q',
      [
        { docId: 'a', score: 2 },
        { docId: 'b', score: 1 },
      ],
    ],
  ]);
  const v = evaluate(r, neg, ['RR@10', 'nDCG@5']).perQuery.get('q')!;
  close(v['RR@10']!, 1 / 2);
  close(v['nDCG@5']!, 2 / Math.log2(3) / 2);
});

test('integer-valued ties and long ids follow string order, not numeric order', () => {
  // Doc ids "9" and "10" tie: strcmp("9", "10") > 0, so "9" ranks first.
  const q: Qrels = new Map([['q', new Map([['10', 1]])]]);
  const r: Run = new Map([
    [
      'q',
      [
        { docId: '10', score: 1 },
        { docId: '9', score: 1 },
      ],
    ],
  ]);
  close(evaluate(r, q, ['RR@10']).mean['RR@10']!, 1 / 2);
});

test('measure names: ir_measures and trec_eval spellings, canonical output, bad names', () => {
  assert.deepEqual(parseMeasure('nDCG@10'), { name: 'nDCG@10', kind: 'nDCG', cutoff: 10, relLevel: undefined });
  assert.equal(parseMeasure('ndcg_cut_10').name, 'nDCG@10');
  assert.equal(parseMeasure('ndcg_cut.20').name, 'nDCG@20');
  assert.equal(parseMeasure('recall_1000').name, 'R@1000');
  assert.equal(parseMeasure('P_10').name, 'P@10');
  assert.equal(parseMeasure('map').name, 'AP');
  assert.equal(parseMeasure('recip_rank').name, 'RR');
  assert.equal(parseMeasure('MRR@10').name, 'RR@10');
  assert.deepEqual(parseMeasure('R(rel=2)@1000'), { name: 'R(rel=2)@1000', kind: 'R', cutoff: 1000, relLevel: 2 });
  assert.equal(parseMeasure('AP(rel=2)').name, 'AP(rel=2)');
  for (const bad of ['nDCG', 'R', 'AP@10', 'foo@10', 'nDCG(rel=2)@10', 'P@0', '@10'])
    assert.throws(() => parseMeasure(bad), /unknown measure/, bad);
  assert.throws(() => evaluate(run, qrels, ['AP', 'map']), /asked twice/);
});
