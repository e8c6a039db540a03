/**
 * Hard-negative mining with BM25: the top-ranked documents of each training query that are not
 * judged relevant, the usual source of "hard" negatives for contrastive training.
 * @module
 */
import type { Hit, Qrels, Run } from '../data/types.ts';
import type { TrainingExample } from '../data/training.ts';
import type { Bm25Index } from './bm25.ts';

export interface MiningOptions {
  /** How many BM25 hits to look at per query (default 100). */
  depth?: number;
  /** Skip this many top hits before taking negatives (some recipes skip the first few; default 0). */
  skip?: number;
  /** Keep at most this many negatives per query (default: all found). */
  count?: number;
  /** Grades >= this are positives and never negatives (default 1). */
  relevanceLevel?: number;
  /** Also exclude docs judged below the level (judged non-relevant) — default false: they make good negatives. */
  excludeJudged?: boolean;
}

/** A query's candidates minus its positives (and judged docs with `excludeJudged`), in rank order. */
function negativesFrom(hits: readonly Hit[], judged: ReadonlyMap<string, number>, opts: MiningOptions): string[] {
  const level = opts.relevanceLevel ?? 1;
  const negs: string[] = [];
  for (const h of hits.slice(opts.skip ?? 0)) {
    const g = judged.get(h.docId);
    if (g !== undefined && (g >= level || opts.excludeJudged)) continue;
    negs.push(h.docId);
    if (opts.count !== undefined && negs.length >= opts.count) break;
  }
  return negs;
}

/** For each query, its BM25 top-`depth` candidates minus its positives, in rank order. */
export function mineHardNegatives(
  index: Bm25Index,
  queries: Map<string, string>,
  qrels: Qrels,
  opts: MiningOptions = {},
): Map<string, string[]> {
  const depth = opts.depth ?? 100;
  const out = new Map<string, string[]>();
  for (const [qid, text] of queries) out.set(qid, negativesFrom(index.search(text, depth), qrels.get(qid) ?? new Map(), opts));
  return out;
}

/** One example per (query, positive) pair, each with the query's negatives; queries without a positive are skipped. */
function toExamples(queries: Map<string, string>, qrels: Qrels, negatives: ReadonlyMap<string, string[]>, opts: MiningOptions): TrainingExample[] {
  const level = opts.relevanceLevel ?? 1;
  const out: TrainingExample[] = [];
  for (const [qid, text] of queries) {
    for (const [docId, g] of qrels.get(qid) ?? []) {
      if (g < level) continue;
      out.push({ query: { id: qid, text }, positives: [{ id: docId }], negatives: (negatives.get(qid) ?? []).map((id) => ({ id })) });
    }
  }
  return out;
}

/**
 * Training examples (docs/paper.md §7 CL shape) from qrels and BM25 negatives: one example per (query,
 * positive) pair, each with the query's mined negatives. Queries without a positive are skipped.
 */
export function mineTrainingExamples(
  index: Bm25Index,
  queries: Map<string, string>,
  qrels: Qrels,
  opts: MiningOptions = {},
): TrainingExample[] {
  return toExamples(queries, qrels, mineHardNegatives(index, queries, qrels, opts), opts);
}

/** The same, with negatives from any ranking (e.g. a trained Lion model's run) instead of BM25. */
export function examplesFromRun(run: Run, queries: Map<string, string>, qrels: Qrels, opts: MiningOptions = {}): TrainingExample[] {
  const negatives = new Map([...queries.keys()].map((qid) => [qid, negativesFrom(run.get(qid) ?? [], qrels.get(qid) ?? new Map(), opts)]));
  return toExamples(queries, qrels, negatives, opts);
}
