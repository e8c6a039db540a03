/**
 * The arrays of a loaded sparse index, as the query algorithms see them (the cursor contract of this
 * index: plain typed arrays, read-only, shareable between threads).
 * @module
 */

export type ImpactArray = Uint8Array | Uint16Array;

export interface SparseIndexData {
  /** Documents. */
  N: number;
  /** Vocabulary size. */
  V: number;
  /** Whether V is the model's vocabulary (see `IndexVocab`), rather than the largest indexed id + 1. */
  vocabDeclared: boolean;
  bits: 8 | 16;
  /** Float weight of one impact unit. */
  scale: number;

  // ---- inverted index (postings.bin) -------------------------------------------------------------
  /** Term t's postings are [termStart[t], termStart[t+1]) in posting order. */
  termStart: Uint32Array;
  /** Term t's compressed blocks are [termBlockStart[t], termBlockStart[t+1]). */
  termBlockStart: Uint32Array;
  /** Largest impact of each term. */
  termMax: ImpactArray;
  /** Per compressed block: last doc id, bit width of its gaps, first word, largest impact. */
  blockLastDoc: Uint32Array;
  blockWidth: Uint8Array;
  blockWordStart: Uint32Array;
  blockMax: ImpactArray;
  /** bp128-packed doc-id gaps (gap − 1). */
  words: Uint32Array;
  /** Impacts in posting order. */
  impacts: ImpactArray;

  // ---- forward index by document block (forward.bin) ---------------------------------------------
  /** Block b's postings are [fwdBlockStart[b], fwdBlockStart[b+1]), sorted by term, then local doc. */
  fwdBlockStart: Uint32Array;
  fwdTerms: Uint32Array;
  /** Document number within the block (doc = b × docBlock + local). */
  fwdLocal: Uint8Array;
  fwdImpacts: ImpactArray;
  /**
   * Reordered indexes (`lion index --reorder bp`): internal document number → input number. Algorithms
   * report input numbers and break score ties by them, so results do not depend on the order. Null:
   * internal numbers are input numbers.
   */
  origDoc: Uint32Array | null;

  // ---- block-max filter over document blocks (blockmax.bin) --------------------------------------
  /** log2 of documents per block. */
  docBlockShift: number;
  nDocBlocks: number;
  /** Sparse rows: term t's (block, max) entries are [bmSparseStart[t], bmSparseStart[t+1]). */
  bmSparseStart: Uint32Array;
  bmSparseBlocks: Uint32Array;
  bmSparseMax: ImpactArray;
  /** Dense rows: term t's maxima are bmDense[bmDenseIndex[t] × nDocBlocks …] when bmDenseIndex[t] ≥ 0. */
  bmDenseIndex: Int32Array;
  bmDense: ImpactArray;
}

/** Reusable per-thread working memory for queries on one index. */
export interface Scratch {
  /** Score accumulator per document (exhaustive). */
  acc: Float64Array;
  /** Scores of one document block. */
  blockAcc: Float64Array;
  /** Upper bound per document block (BMP). */
  ub: Float64Array;
  /** BMP: each block's bucket of similar bounds, the blocks in bucket order, and per-bucket counts, maxima and fill positions. */
  bucketOf: Uint16Array;
  /** BMP: per block, a bit for each of the query's first 32 rare terms that the block holds. */
  present: Int32Array;
  order: Int32Array;
  counts: Int32Array;
  bucketMax: Float64Array;
  fillAt: Int32Array;
  /** Decoded doc ids of one compressed block. */
  docBuf: Uint32Array;
  /** BMP: per depth (k and alpha), the probe's hand-overs in a row and the queries sent on since. */
  handovers: Map<number, { streak: number; since: number }>;
}

/** Bound buckets of BMP's counting sort. */
export const BMP_BUCKETS = 2048;

export function makeScratch(d: SparseIndexData): Scratch {
  return {
    acc: new Float64Array(d.N),
    blockAcc: new Float64Array(1 << d.docBlockShift),
    ub: new Float64Array(d.nDocBlocks),
    bucketOf: new Uint16Array(d.nDocBlocks),
    present: new Int32Array(d.nDocBlocks),
    order: new Int32Array(d.nDocBlocks),
    counts: new Int32Array(BMP_BUCKETS),
    bucketMax: new Float64Array(BMP_BUCKETS),
    fillAt: new Int32Array(BMP_BUCKETS),
    docBuf: new Uint32Array(128),
    handovers: new Map(),
  };
}
