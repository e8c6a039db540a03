/**
 * Combining runs: reciprocal-rank fusion and a normalised linear combination (for hybrid sparse +
 * dense search, and for fusing BM25 with a learned retriever).
 * @module
 */
import { compareHits, type Hit, type Run } from '../data/types.ts';

export interface FusionOptions {
  /** Keep this many hits per query in the fused run (default: all). */
  depth?: number;
}

function finish(scores: Map<string, Map<string, number>>, depth: number | undefined): Run {
  const out: Run = new Map();
  for (const [qid, docs] of scores) {
    const hits: Hit[] = [...docs].map(([docId, score]) => ({ docId, score }));
    hits.sort(compareHits);
    out.set(qid, depth === undefined ? hits : hits.slice(0, depth));
  }
  return out;
}

function queryIds(runs: readonly Run[]): string[] {
  const ids = new Set<string>();
  for (const r of runs) for (const q of r.keys()) ids.add(q);
  return [...ids];
}

/**
 * Reciprocal-rank fusion (Cormack et al., 2009): score(d) = Σ_runs 1 / (k + rank_run(d)), ranks
 * 1-based in trec_eval order (score desc, doc id desc). A doc absent from a run adds nothing.
 */
export function rrf(runs: readonly Run[], k = 60, opts: FusionOptions = {}): Run {
  if (runs.length === 0) throw new Error('lion: rrf needs at least one run; hint: pass the runs to fuse');
  const scores = new Map<string, Map<string, number>>();
  for (const qid of queryIds(runs)) {
    const acc = new Map<string, number>();
    for (const run of runs) {
      const hits = [...(run.get(qid) ?? [])].sort(compareHits);
      hits.forEach((h, i) => acc.set(h.docId, (acc.get(h.docId) ?? 0) + 1 / (k + i + 1)));
    }
    scores.set(qid, acc);
  }
  return finish(scores, opts.depth);
}

/** How each run's scores are put on a common scale, per query, before weighting. */
export type Normalisation = 'none' | 'minmax' | 'zscore' | 'max';

function normalise(hits: readonly Hit[], how: Normalisation): Map<string, number> {
  const out = new Map<string, number>();
  if (hits.length === 0) return out;
  const s = hits.map((h) => h.score);
  let f: (x: number) => number = (x) => x;
  if (how === 'minmax') {
    const lo = s.reduce((a, b) => Math.min(a, b));
    const hi = s.reduce((a, b) => Math.max(a, b));
    f = hi > lo ? (x) => (x - lo) / (hi - lo) : () => 1; // one distinct score: every hit is "the best"
  } else if (how === 'zscore') {
    const mean = s.reduce((a, b) => a + b, 0) / s.length;
    const sd = Math.sqrt(s.reduce((a, b) => a + (b - mean) ** 2, 0) / s.length);
    f = sd > 0 ? (x) => (x - mean) / sd : () => 0;
  } else if (how === 'max') {
    const hi = s.reduce((a, b) => Math.max(a, Math.abs(b)), 0);
    f = hi > 0 ? (x) => x / hi : (x) => x;
  }
  for (const h of hits) out.set(h.docId, f(h.score));
  return out;
}

/**
 * Linear fusion: score(d) = Σ_i weights[i] · norm_i(score_i(d)), each run normalised per query.
 * A doc missing from run i contributes 0 for that run (with min-max, the value of that run's worst
 * hit). Typical hybrid: `fuseLinear([sparse, dense], [0.5, 0.5], 'minmax')`.
 */
export function fuseLinear(
  runs: readonly Run[],
  weights: readonly number[],
  normalisation: Normalisation = 'minmax',
  opts: FusionOptions = {},
): Run {
  if (runs.length === 0 || runs.length !== weights.length) {
    throw new Error(
      `lion: fuseLinear needs one weight per run, got ${runs.length} runs and ${weights.length} weights; hint: pass e.g. [0.5, 0.5] for two runs`,
    );
  }
  const scores = new Map<string, Map<string, number>>();
  for (const qid of queryIds(runs)) {
    const acc = new Map<string, number>();
    runs.forEach((run, i) => {
      for (const [docId, v] of normalise(run.get(qid) ?? [], normalisation))
        acc.set(docId, (acc.get(docId) ?? 0) + weights[i]! * v);
    });
    scores.set(qid, acc);
  }
  return finish(scores, opts.depth);
}
