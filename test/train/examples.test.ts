// Bad training input: a clear error, or a logged skip where the paper's pipeline skips.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolveExamples } from '../../src/train/retrieval.ts';
import type { TrainingExample } from '../../src/data/training.ts';

const corpus = new Map([['d1', 'one'], ['d2', 'two'], ['d3', 'three'], ['d4', 'four']]);
const ex = (pos: string[], neg: string[], scores?: { p: number[]; n: number[] }): TrainingExample => ({
  query: { text: 'q' },
  positives: pos.map((id) => ({ id })),
  negatives: neg.map((id) => ({ id })),
  ...(scores ? { positiveScores: scores.p, negativeScores: scores.n } : {}),
});

test('a document missing from the corpus is an error naming the file, example and id', () => {
  assert.throws(() => resolveExamples([ex(['d1'], ['d2']), ex(['d9'], ['d2'])], corpus, { minNegatives: 1, needTeacher: false, file: 'train.jsonl' }), /train\.jsonl: example 2 names document 'd9', which is not in the corpus/);
});

test('queries without a positive, or with too few negatives, are skipped and counted', () => {
  const r = resolveExamples([ex([], ['d2']), ex(['d1'], ['d2']), ex(['d1'], ['d2', 'd3', 'd4'])], corpus, { minNegatives: 2, needTeacher: false, file: 'f' });
  assert.equal(r.examples.length, 1);
  assert.deepEqual(r.skipped, { noPositive: 1, fewNegatives: 1, noTeacher: 0 });
  assert.deepEqual(r.examples[0], { query: 'q', positive: 'one', negatives: ['two', 'three', 'four'], positiveScore: undefined, negativeScores: undefined });
});

test('teacher scores of the wrong length are an error; missing ones are skipped for KD', () => {
  assert.throws(() => resolveExamples([ex(['d1'], ['d2', 'd3'], { p: [1], n: [0.5] })], corpus, { minNegatives: 1, needTeacher: true, file: 'kd.jsonl' }), /kd\.jsonl: example 1 has 1\+1 teacher scores for 1\+2 documents/);
  const r = resolveExamples([ex(['d1'], ['d2']), ex(['d1'], ['d2'], { p: [2], n: [1] })], corpus, { minNegatives: 1, needTeacher: true, file: 'f' });
  assert.equal(r.skipped.noTeacher, 1);
  assert.equal(r.examples[0]!.positiveScore, 2);
});
