/**
 * Why a document matched a sparse query: its score split into one contribution per shared term.
 *
 * The index scores with quantised weights (integer query levels × integer impacts, times one float
 * scale per query; see src/index/sparse/quantize.ts), so the contributions are computed the same way:
 * each is (query level × impact) × scale, and their sum is the search score up to float64 rounding of
 * the additions. The float weights shown beside them are the query's as sent and the document's as
 * stored (impact × impact scale).
 * @module
 */
import type { SparseVector } from '../index/types.ts';
import type { SparseIndex } from '../index/sparse/index.ts';

export interface TermContribution {
  /** Term id. */
  id: number;
  /** The vocabulary entry, as the tokenizer file spells it (or `#id` without a tokenizer). */
  token: string;
  query_weight: number;
  doc_weight: number;
  contribution: number;
}

export interface SparseExplanation {
  /** The document's score for the query, as search computes it. */
  score: number;
  /** Shared terms, largest contribution first. */
  terms: TermContribution[];
}

/** Term id → token string. */
export type TokenName = (id: number) => string;

/** Explains internal document `doc`'s score for `query` (a query already validated for the index). */
export function explainSparse(index: SparseIndex, query: SparseVector, doc: number, token: TokenName): SparseExplanation {
  const q = index.quantize(query);
  const d = index.document(doc);
  const unit = index.data.scale;
  const terms: TermContribution[] = [];
  let levels = 0;
  // both term lists ascend: one merge
  for (let i = 0, j = 0, s = 0; i < q.terms.length && j < d.indices.length; ) {
    const t = q.terms[i]!;
    const u = d.indices[j]!;
    if (t < u) i++;
    else if (u < t) j++;
    else {
      // the stored weight is impact × unit; the impact itself is what the index multiplies
      const impact = Math.round(d.values[j]! / unit);
      const product = q.weights[i]! * impact;
      levels += product;
      while (query.indices[s]! < t) s++;
      terms.push({ id: t, token: token(t), query_weight: query.values[s]!, doc_weight: d.values[j]!, contribution: product * q.scoreScale });
      i++;
      j++;
    }
  }
  terms.sort((a, b) => b.contribution - a.contribution || a.id - b.id);
  return { score: levels * q.scoreScale, terms };
}

/** A sparse query's terms with their weights, largest first (the expansion a sparse model made). */
export function queryTerms(query: SparseVector, token: TokenName): { id: number; token: string; weight: number }[] {
  return Array.from(query.indices, (id, i) => ({ id, token: token(id), weight: query.values[i]! })).sort(
    (a, b) => b.weight - a.weight || a.id - b.id,
  );
}
