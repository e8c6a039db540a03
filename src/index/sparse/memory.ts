/**
 * An exact sparse index held in memory over float weights: the posting lists that the exhaustive scan
 * reads, built from vectors without quantisation. Validation during training ranks through it, so its
 * numbers keep float precision while scoring, selection and the tie rule are those of
 * `lion search --algorithm exhaustive`.
 * @module
 */
import type { SparseVector } from '../types.ts';
import { BP128 } from '../codec/bitpack.ts';
import { exhaustive, type PostingLists } from '../query/exhaustive.ts';
import type { RawHits } from './index.ts';

export class MemorySparseIndex {
  readonly data: PostingLists;
  /** Largest term id + 1. */
  readonly vocabSize: number;
  readonly #scratch: { acc: Float64Array; docBuf: Uint32Array };

  /** Indexes `docs`; doc number i is docs[i]. Each vector's indices must be strictly ascending. */
  constructor(docs: readonly SparseVector[]) {
    const N = docs.length;
    let V = 0;
    docs.forEach((v, doc) => {
      for (let j = 0; j < v.indices.length; j++)
        if (j > 0 && v.indices[j]! <= v.indices[j - 1]!)
          throw new Error(
            `lion: document ${doc} has indices out of order at position ${j} ('${v.indices[j]}'); hint: sparse indices must be strictly ascending`,
          );
      if (v.indices.length) V = Math.max(V, v.indices[v.indices.length - 1]! + 1);
    });
    const termStart = new Uint32Array(V + 1);
    for (const v of docs) for (const t of v.indices) termStart[t + 1]!++;
    for (let t = 0; t < V; t++) termStart[t + 1] = termStart[t + 1]! + termStart[t]!;
    const P = termStart[V]!;
    // Postings in term order, documents ascending within a term (documents are visited in order).
    const postDoc = new Uint32Array(P);
    const impacts = new Float32Array(P);
    const fill = termStart.slice(0, V);
    docs.forEach((v, doc) => {
      for (let j = 0; j < v.indices.length; j++) {
        const at = fill[v.indices[j]!]!++;
        postDoc[at] = doc;
        impacts[at] = v.values[j]!;
      }
    });
    // Blocks of BP128.blockSize gaps stored unpacked (width 32, one word per posting): the scan reads
    // them like any packed block, and memory is not what a validation collection is short of.
    const B = BP128.blockSize;
    const termBlockStart = new Uint32Array(V + 1);
    for (let t = 0; t < V; t++) termBlockStart[t + 1] = termBlockStart[t]! + Math.ceil((termStart[t + 1]! - termStart[t]!) / B);
    const nBlocks = termBlockStart[V]!;
    const blockWordStart = new Uint32Array(nBlocks + 1);
    const words = new Uint32Array(P);
    for (let t = 0; t < V; t++) {
      let prev = -1;
      for (let p = termStart[t]!, b = termBlockStart[t]!; p < termStart[t + 1]!; p++) {
        if ((p - termStart[t]!) % B === 0) blockWordStart[b++] = p;
        words[p] = postDoc[p]! - prev - 1;
        prev = postDoc[p]!;
      }
    }
    blockWordStart[nBlocks] = P;
    this.vocabSize = V;
    this.data = {
      N,
      termStart,
      termBlockStart,
      blockWidth: new Uint8Array(nBlocks).fill(32),
      blockWordStart,
      words,
      impacts,
      origDoc: null,
    };
    this.#scratch = { acc: new Float64Array(N), docBuf: new Uint32Array(B) };
  }

  /**
   * The k best documents for `q` by Σ query weight × document weight (float64), best first, ties by
   * the smaller doc number (the rule in src/index/topk.ts). Only documents scoring above 0 are
   * returned, as in `lion search`; query terms no document holds contribute nothing.
   */
  search(q: SparseVector, k: number): RawHits {
    const terms: number[] = [];
    const weights: number[] = [];
    for (let j = 0; j < q.indices.length; j++)
      if (q.indices[j]! < this.vocabSize && q.values[j] !== 0) {
        terms.push(q.indices[j]!);
        weights.push(q.values[j]!);
      }
    const scan = { terms: Uint32Array.from(terms), weights: Float64Array.from(weights) };
    return exhaustive(this.data, scan, k, this.#scratch).drain();
  }
}
