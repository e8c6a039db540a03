import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compareCases, PARITY_LEVELS, PARITY_MEASURES } from '../../scripts/trec-eval-parity/compare.ts';
import { generateCase } from '../../scripts/trec-eval-parity/generate.ts';
import { trecEval } from '../../scripts/trec-eval-parity/oracle.ts';

test('the trec_eval transcription (oracle) gives the hand-computed values', () => {
  // Same case as measures.test.ts, as trec_eval files. q1 ranked: d5 d3 d1 d2 d9 (grades -,1,2,0,-).
  const qrels = 'q1 0 d1 2\nq1 0 d2 0\nq1 0 d3 1\nq1 0 d4 3\nq2 0 a 1\nq3 0 x 1\n';
  const run =
    'q1 Q0 d2 1 1 r\nq1 Q0 d1 2 2 r\nq1 Q0 d9 3 0.5 r\nq1 Q0 d5 4 3 r\nq1 Q0 d3 5 2 r\nq2 Q0 a 1 1 r\nq2 Q0 b 2 1 r\nq4 Q0 z 1 1 r\n';
  const ap = trecEval(qrels, run, { name: 'map', level: 1 });
  assert.deepEqual([...ap.perQuery.keys()], ['q1', 'q2']);
  assert.ok(Math.abs(ap.perQuery.get('q1')! - (1 / 2 + 2 / 3) / 3) < 1e-12);
  const nd = trecEval(qrels, run, { name: 'ndcg_cut', cutoff: 3, level: 1 });
  assert.ok(Math.abs(nd.perQuery.get('q1')! - (1 / Math.log2(3) + 1) / (3 + 2 / Math.log2(3) + 0.5)) < 1e-12);
  const rr = trecEval(qrels, run, { name: 'recip_rank', level: 2, maxDocs: 2 });
  assert.equal(rr.perQuery.get('q1'), 0); // -M2 keeps d5, d3: neither has grade >= 2
  const p = trecEval(qrels, run, { name: 'P', cutoff: 10, level: 1 });
  assert.equal(p.perQuery.get('q1'), 0.2);
});

test('300 random qrels/run pairs: Lion equals the trec_eval transcription for every measure, level and query', async () => {
  const { mismatches, values, cases } = await compareCases(300, 1);
  assert.equal(cases, 300);
  assert.ok(values > 40_000, `${values} values compared`);
  assert.deepEqual(mismatches.slice(0, 5), []);
  assert.equal(PARITY_MEASURES.length * PARITY_LEVELS.length, 36);
});

test('the generator covers the corner cases it promises', () => {
  let ties = 0;
  let runOnly = 0;
  let qrelsOnly = 0;
  let unjudged = 0;
  let graded = 0;
  for (let i = 0; i < 300; i++) {
    const c = generateCase(100_003 + i);
    const q = new Map<string, Set<string>>();
    for (const l of c.qrels.trim().split('\n')) {
      const [qid, , doc, g] = l.split(' ');
      if (!q.has(qid!)) q.set(qid!, new Set());
      q.get(qid!)!.add(doc!);
      if (Number(g) >= 2) graded++;
    }
    const scores = new Map<string, string[]>();
    for (const l of c.run.trim().split('\n')) {
      const [qid, , doc, , s] = l.split(' ');
      if (!scores.has(qid!)) scores.set(qid!, []);
      scores.get(qid!)!.push(s!);
      if (q.has(qid!) && !q.get(qid!)!.has(doc!)) unjudged++;
    }
    for (const [qid, s] of scores) {
      if (new Set(s.map(Number)).size < s.length) ties++;
      if (!q.has(qid)) runOnly++;
    }
    for (const qid of q.keys()) if (!scores.has(qid)) qrelsOnly++;
  }
  for (const [name, n] of Object.entries({ ties, runOnly, qrelsOnly, unjudged, graded }))
    assert.ok(n > 50, `${name}: ${n}`);
});
