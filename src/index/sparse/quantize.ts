/**
 * Linear quantisation of sparse weights to integer impacts.
 *
 * Documents: impact = max(1, round(w / scale)) with scale = maxWeight / (2^bits − 1), so every stored
 * posting keeps a non-zero impact. Queries: the same rule at 16 bits with a per-query scale. Scores are
 * then sums of integer products, exact in float64 below 2^53 whatever the order of addition, which is
 * why every algorithm returns bit-identical scores for the same document.
 * @module
 */
import type { SparseVector } from '../types.ts';

/** Query weights use 16-bit levels: ≤ 2^-17 relative error per weight, invisible in rankings. */
export const QUERY_LEVELS = 65535;

export function impactLevels(bits: 8 | 16): number {
  return bits === 8 ? 255 : 65535;
}

/** The weight of one impact unit for a collection whose largest weight is `maxWeight`. */
export function impactScale(maxWeight: number, bits: 8 | 16): number {
  return maxWeight > 0 ? maxWeight / impactLevels(bits) : 1;
}

export function quantizeImpact(w: number, scale: number, levels: number): number {
  const q = Math.round(w / scale);
  return q < 1 ? 1 : q > levels ? levels : q;
}

/** A query ready for the algorithms: term ids ascending and integer weights. */
export interface QuantQuery {
  terms: Uint32Array;
  /** Integer weights in [1, QUERY_LEVELS]. */
  weights: Float64Array;
  /** Float score of one unit of Σ weight × impact: query scale × impact scale. */
  scoreScale: number;
}

/**
 * The term ids an index answers for. `declared`: the vocabulary size came from the model or tokenizer
 * that made the vectors, so an id at or beyond it means vectors from another model. Otherwise `size`
 * is only the largest indexed id + 1, and a query term beyond it is a term no document holds.
 */
export interface IndexVocab {
  size: number;
  declared: boolean;
}

/**
 * Quantises a query against an index's vocabulary. A term no document holds contributes nothing;
 * throws on term ids outside a declared vocabulary (vectors from another tokenizer) and on negative
 * weights (impact bounds would not be safe).
 */
export function quantizeQuery(
  q: SparseVector,
  vocab: IndexVocab,
  impactScaleValue: number,
  label = 'query',
): QuantQuery {
  const vocabSize = vocab.size;
  const n = q.indices.length;
  if (q.values.length !== n) throw new Error(`lion search: ${label} has ${n} indices but ${q.values.length} values`);
  let max = 0;
  for (let i = 0; i < n; i++) {
    const t = q.indices[i]!;
    const w = q.values[i]!;
    if (t >= vocabSize && vocab.declared)
      throw new Error(
        `lion search: ${label} has term id '${t}' but the index's vocabulary has ${vocabSize} terms; hint: the query vectors come from another tokenizer or model`,
      );
    if (i > 0 && t <= q.indices[i - 1]!)
      throw new Error(
        `lion search: ${label} has indices out of order at position ${i} ('${t}'); hint: sparse indices must be strictly ascending`,
      );
    if (!(w >= 0))
      throw new Error(
        `lion search: ${label} has weight '${w}' for term ${t}; hint: sparse query weights must be non-negative numbers`,
      );
    if (w > max && t < vocabSize) max = w;
  }
  const qScale = max > 0 ? max / QUERY_LEVELS : 1;
  const terms: number[] = [];
  const weights: number[] = [];
  for (let i = 0; i < n; i++) {
    const w = Math.round(q.values[i]! / qScale);
    if (w > 0 && q.indices[i]! < vocabSize) {
      terms.push(q.indices[i]!);
      weights.push(w);
    }
  }
  return { terms: Uint32Array.from(terms), weights: Float64Array.from(weights), scoreScale: qScale * impactScaleValue };
}
