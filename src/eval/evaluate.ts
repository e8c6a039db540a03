/**
 * Evaluation with trec_eval's exact semantics (checked against a transcription of trec_eval 9's
 * `form_res_rels.c` and `m_*.c`, see scripts/trec-eval-parity/):
 *
 * - the run's ranks are ignored: hits are ranked by score descending, then doc id descending;
 * - a doc not in the qrels is not relevant; a negative grade is "judged but unjudged" (not relevant);
 * - only queries present in both the run and the qrels are scored and averaged — including queries
 *   whose judgements are all non-relevant (they score 0);
 * - binary measures count grade >= level as relevant (trec_eval `-l`, default 1); nDCG uses every
 *   positive grade as its gain, whatever the level;
 * - optionally (BEIR), hits whose doc id equals the query id are dropped first; a query left with no
 *   hits then counts as absent from the run.
 * @module
 */
import { compareHits, type Hit, type Qrels, type Run } from '../data/types.ts';
import { parseMeasure, type Measure } from './measures.ts';

export interface EvaluateOptions {
  /** Minimum grade counted as relevant by binary measures (trec_eval `-l`); default 1. */
  relevanceLevel?: number;
  /** Drop hits whose doc id equals the query id (BEIR); default false. */
  removeSelfHits?: boolean;
}

export interface EvaluationResult {
  /** The measures, in the order asked. */
  measures: Measure[];
  /** Mean over the evaluated queries, by measure name. */
  mean: Record<string, number>;
  /** Per-query values, by query id (in qrels order), then by measure name. */
  perQuery: Map<string, Record<string, number>>;
}

/** A query's ranking reduced to what the measures need. */
interface Judged {
  /** Grade of each ranked hit; NaN when the doc is not in the qrels. */
  grades: Float64Array;
  /** Judgements of the query (doc -> grade). */
  judgements: Map<string, number>;
}

/** Number of judged docs with grade >= max(level, 0) (trec_eval's num_rel). */
function numRelevant(judgements: Map<string, number>, level: number): number {
  let n = 0;
  for (const g of judgements.values()) if (g >= 0 && g >= level) n++;
  return n;
}

// Unjudged docs get NaN, and NaN >= level is false for every level, which is what trec_eval's -1/-2
// codes amount to for levels >= 0. For a (rare) negative level, trec_eval would count its -1/-2
// codes as relevant; reproduce that.
function isRel(g: number, level: number): boolean {
  if (Number.isNaN(g)) return level <= -1;
  return g < 0 ? level <= -2 : g >= level;
}

/** Value of one measure for one query. */
export function measureQuery(m: Measure, q: Judged, level: number): number {
  const lvl = m.relLevel ?? level;
  const g = q.grades;
  const n = g.length;
  switch (m.kind) {
    case 'RR': {
      const k = Math.min(n, m.cutoff ?? n);
      for (let i = 0; i < k; i++) if (isRel(g[i]!, lvl)) return 1 / (i + 1);
      return 0;
    }
    case 'P': {
      const k = m.cutoff!;
      let rel = 0;
      for (let i = 0; i < Math.min(n, k); i++) if (isRel(g[i]!, lvl)) rel++;
      return rel / k; // trec_eval fills a short ranking with non-relevant docs
    }
    case 'R': {
      const numRel = numRelevant(q.judgements, lvl);
      if (numRel === 0) return 0;
      let rel = 0;
      for (let i = 0; i < Math.min(n, m.cutoff!); i++) if (isRel(g[i]!, lvl)) rel++;
      return rel / numRel;
    }
    case 'AP': {
      let rel = 0;
      let sum = 0;
      for (let i = 0; i < n; i++) {
        if (isRel(g[i]!, lvl)) {
          rel++;
          sum += rel / (i + 1);
        }
      }
      return rel === 0 ? 0 : sum / numRelevant(q.judgements, lvl);
    }
    case 'nDCG': {
      const k = m.cutoff!;
      let dcg = 0;
      for (let i = 0; i < Math.min(n, k); i++) {
        const gain = g[i]!;
        if (gain > 0) dcg += gain / Math.log2(i + 2);
      }
      const ideal = [...q.judgements.values()].filter((x) => x > 0).sort((a, b) => b - a);
      let idcg = 0;
      for (let i = 0; i < Math.min(ideal.length, k); i++) idcg += ideal[i]! / Math.log2(i + 2);
      return idcg > 0 ? dcg / idcg : dcg;
    }
  }
}

/**
 * Ranks one query's hits as trec_eval does and looks up their grades. Throws on a doc listed twice
 * (trec_eval refuses such runs).
 */
export function judgeQuery(
  qid: string,
  hits: readonly Hit[],
  judgements: Map<string, number>,
  removeSelfHits = false,
): Judged {
  const kept = removeSelfHits ? hits.filter((h) => h.docId !== qid) : [...hits];
  kept.sort(compareHits);
  const grades = new Float64Array(kept.length);
  const seen = new Set<string>();
  for (let i = 0; i < kept.length; i++) {
    const d = kept[i]!.docId;
    if (seen.has(d))
      throw new Error(
        `lion: duplicate doc '${d}' in the run for query '${qid}'; hint: list each doc at most once per query (trec_eval refuses this too)`,
      );
    seen.add(d);
    grades[i] = judgements.get(d) ?? Number.NaN;
  }
  return { grades, judgements };
}

/** Evaluates `run` against `qrels` with each measure. See the module doc for the exact semantics. */
export function evaluate(
  run: Run,
  qrels: Qrels,
  measures: readonly (string | Measure)[],
  opts: EvaluateOptions = {},
): EvaluationResult {
  const ms = measures.map((m) => (typeof m === 'string' ? parseMeasure(m) : m));
  const names = new Set<string>();
  for (const m of ms) {
    if (names.has(m.name)) throw new Error(`lion: measure '${m.name}' asked twice; hint: name each measure once`);
    names.add(m.name);
  }
  const level = opts.relevanceLevel ?? 1;
  const perQuery = new Map<string, Record<string, number>>();
  const sums: Record<string, number> = Object.fromEntries(ms.map((m) => [m.name, 0]));
  for (const [qid, judgements] of qrels) {
    const hits = run.get(qid);
    if (!hits || hits.length === 0) continue;
    const q = judgeQuery(qid, hits, judgements, opts.removeSelfHits);
    if (q.grades.length === 0) continue; // every hit was a self-hit
    const values: Record<string, number> = {};
    for (const m of ms) {
      values[m.name] = measureQuery(m, q, level);
      sums[m.name]! += values[m.name]!;
    }
    perQuery.set(qid, values);
  }
  const n = perQuery.size;
  const mean = Object.fromEntries(ms.map((m) => [m.name, n === 0 ? 0 : sums[m.name]! / n]));
  return { measures: ms, mean, perQuery };
}
