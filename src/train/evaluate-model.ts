/**
 * Exact retrieval with a model over a small collection, for validation during training and quick
 * experiments: every document is encoded and scored against every query (dense by libtorch matmul,
 * sparse through an in-memory inverted index), then trec_eval-exact measures. Large collections go
 * through src/index instead.
 * @module
 */
import { Tensor, noGrad, tidy } from '../torch/index.ts';
import type { Qrels, Run, Hit } from '../data/types.ts';
import { evaluate } from '../eval/index.ts';
import type { Encoder, SparseVector } from '../model/encoder.ts';

/** The k best docs by score (ties by doc id descending, as trec_eval); `positiveOnly` drops zero scores. */
function topK(scores: Float32Array, ids: readonly string[], k: number, positiveOnly = false): Hit[] {
  const order = Array.from(scores.keys()).filter((i) => (positiveOnly ? scores[i]! > 0 : !Number.isNaN(scores[i]!)));
  order.sort((a, b) => scores[b]! - scores[a]! || (ids[a]! < ids[b]! ? 1 : -1));
  return order.slice(0, k).map((i) => ({ docId: ids[i]!, score: scores[i]! }));
}

/** Ranks `docs` for every query with `encoder`; returns the top-k run. */
export function exactRun(encoder: Encoder, queries: ReadonlyMap<string, string>, docs: ReadonlyMap<string, string>, k = 100): Run {
  const docIds = [...docs.keys()];
  const qIds = [...queries.keys()];
  const dv = encoder.encodeAll([...docs.values()], 'doc');
  const qv = encoder.encodeAll([...queries.values()], 'query');
  const run: Run = new Map();
  if (encoder.paradigm === 'dense') {
    const d = encoder.dim;
    noGrad(() =>
      tidy(() => {
        const D = Tensor.from(concat(dv as Float32Array[], d), [docIds.length, d]);
        const Q = Tensor.from(concat(qv as Float32Array[], d), [qIds.length, d]);
        const S = Q.matmul(D.T).toFloat32Array(); // [Nq, Nd]
        qIds.forEach((q, i) => run.set(q, topK(S.subarray(i * docIds.length, (i + 1) * docIds.length), docIds, k)));
      }),
    );
    return run;
  }
  // Sparse: postings term -> (doc, weight), then term-at-a-time accumulation per query.
  const postings = new Map<number, { doc: number[]; w: number[] }>();
  (dv as SparseVector[]).forEach((v, doc) => {
    v.indices.forEach((t, j) => {
      let p = postings.get(t);
      if (!p) postings.set(t, (p = { doc: [], w: [] }));
      p.doc.push(doc);
      p.w.push(v.values[j]!);
    });
  });
  const acc = new Float32Array(docIds.length);
  (qv as SparseVector[]).forEach((v, i) => {
    acc.fill(0);
    v.indices.forEach((t, j) => {
      const p = postings.get(t);
      if (!p) return;
      const qw = v.values[j]!;
      for (let x = 0; x < p.doc.length; x++) acc[p.doc[x]!] = acc[p.doc[x]!]! + qw * p.w[x]!;
    });
    // As the authors' search: only documents with a positive score are retrieved.
    run.set(qIds[i]!, topK(acc, docIds, k, true));
  });
  return run;
}

function concat(rows: Float32Array[], d: number): Float32Array {
  const out = new Float32Array(rows.length * d);
  rows.forEach((r, i) => out.set(r, i * d));
  return out;
}

/** nDCG@10, RR@10 and R@100 of `encoder` on a small collection. */
export function evaluateModel(encoder: Encoder, queries: ReadonlyMap<string, string>, docs: ReadonlyMap<string, string>, qrels: Qrels): Record<string, number> {
  const run = exactRun(encoder, queries, docs, 100);
  return evaluate(run, qrels, ['nDCG@10', 'RR@10', 'R@100'], { removeSelfHits: true }).mean;
}
