/**
 * Exact retrieval with a model over a small collection, for validation during training and quick
 * experiments: every document is encoded and scored against every query, then trec_eval-exact
 * measures. Dense scores come from one libtorch matmul, sparse ones from the exhaustive scan of an
 * in-memory index over the unquantised weights; both select through the index's top-k queue, so ties
 * follow Lion's one rule (src/index/topk.ts) exactly as `lion search` does. Large collections go
 * through src/index instead.
 * @module
 */
import { Tensor, noGrad, tidy } from '../torch/index.ts';
import type { Qrels, Run, Hit } from '../data/types.ts';
import { evaluate } from '../eval/index.ts';
import type { Encoder, SparseVector } from '../model/encoder.ts';
import { TopK, offerAscending } from '../index/topk.ts';
import { MemorySparseIndex } from '../index/sparse/memory.ts';
import type { RawHits } from '../index/sparse/index.ts';

function hits(top: RawHits, ids: readonly string[]): Hit[] {
  return Array.from(top.docs, (doc, i) => ({ docId: ids[doc]!, score: top.scores[i]! }));
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
        qIds.forEach((q, i) => {
          const top = new TopK(k);
          offerAscending(top, S.subarray(i * docIds.length, (i + 1) * docIds.length));
          run.set(q, hits(top.drain(), docIds));
        });
      }),
    );
    return run;
  }
  // As the authors' search: only documents with a positive score are retrieved.
  const index = new MemorySparseIndex(dv as SparseVector[]);
  (qv as SparseVector[]).forEach((v, i) => run.set(qIds[i]!, hits(index.search(v, k), docIds)));
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
