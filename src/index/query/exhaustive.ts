/**
 * Exhaustive term-at-a-time scoring: every posting of every query term adds into a per-document
 * accumulator, then one scan selects the top k. The reference every other algorithm must match, and
 * Lion's one exact sparse scorer: `lion search` runs it over an index's integer impacts, validation
 * during training over the float weights of an in-memory index (`MemorySparseIndex`).
 * @module
 */
import type { SparseIndexData, Scratch } from '../sparse/data.ts';
import type { QuantQuery } from '../sparse/quantize.ts';
import { accumulateBlock } from '../codec/bitpack.ts';
import { TopK, offerAscending } from '../topk.ts';

/**
 * What the exhaustive scan reads: the posting lists of an index. Impacts are integers in a file-backed
 * index and float weights in an in-memory one; the scan is the same.
 */
export type PostingLists = Pick<
  SparseIndexData,
  'N' | 'termStart' | 'termBlockStart' | 'blockWidth' | 'blockWordStart' | 'words' | 'origDoc'
> & { impacts: SparseIndexData['impacts'] | Float32Array };

/** A query as the scan reads it: term ids below the index's vocabulary size, and their weights. */
export type ScanQuery = Pick<QuantQuery, 'terms' | 'weights'>;

export const name = 'exhaustive';

/** From this k on, the scan first bounds the k-th score from a histogram (measured: k=1000). */
const SELECT_FROM_K = 64;
const HIST = 1024;

/**
 * A score that at least k documents exceed, or 0: just below the lower edge of the highest histogram
 * bucket of scores in (0, max] at which the count from the top reaches k. The bucket of a score,
 * ⌊v × inv⌋, never decreases as v grows (IEEE multiplication is monotone), so once the edge itself
 * maps below bucket h, every score of bucket h or above exceeds it, and so does the true k-th score.
 * That holds for integer and float scores alike, at any magnitude.
 */
export function kthLowerBound(acc: Float64Array, N: number, k: number): number {
  let max = 0;
  for (let i = 0; i < N; i++) if (acc[i]! > max) max = acc[i]!;
  if (max === 0) return 0;
  const inv = (HIST - 1) / max;
  const counts = new Int32Array(HIST);
  let nz = 0;
  for (let i = 0; i < N; i++) {
    const v = acc[i]!;
    if (v > 0) {
      counts[(v * inv) | 0]!++;
      nz++;
    }
  }
  if (nz <= k) return 0;
  let c = 0;
  let h = HIST - 1;
  for (; h > 0; h--) if ((c += counts[h]!) >= k) break;
  // bucket h's lower edge, stepped down past the rounding of h / inv until it maps below h (one or two
  // relative steps of 2^-40, far above an ulp and far below a bucket; MIN_VALUE for subnormals)
  let edge = h / inv;
  while (edge > 0 && ((edge * inv) | 0) >= h) edge -= Math.max(edge * 2 ** -40, Number.MIN_VALUE);
  return Math.max(0, edge);
}

export function exhaustive(d: PostingLists, q: ScanQuery, k: number, s: Pick<Scratch, 'acc' | 'docBuf'>): TopK {
  const acc = s.acc;
  const buf = s.docBuf;
  const { termStart, termBlockStart, blockWidth, blockWordStart, words, impacts } = d;
  for (let j = 0; j < q.terms.length; j++) {
    const t = q.terms[j]!;
    const w = q.weights[j]!;
    const b0 = termBlockStart[t]!;
    const b1 = termBlockStart[t + 1]!;
    const p0 = termStart[t]!;
    const df = termStart[t + 1]! - p0;
    let prev = -1;
    for (let b = b0; b < b1; b++) {
      const off = (b - b0) * 128;
      const n = df - off < 128 ? df - off : 128;
      prev = accumulateBlock(words, blockWordStart[b]!, n, blockWidth[b]!, prev, acc, impacts, p0 + off, w, buf);
    }
  }
  const top = new TopK(k);
  const N = d.N;
  // Start the scan at a score the k-th best surely reaches, so that only ~k documents go through the
  // queue instead of every document that beats a slowly rising k-th score (large k).
  let th = k >= SELECT_FROM_K ? kthLowerBound(acc, N, k) : 0;
  const od = d.origDoc;
  if (od === null) offerAscending(top, acc, 0, th, N);
  else {
    // Reordered: input numbers arrive in no order, so an equal score may still enter (the queue decides).
    for (let doc = 0; doc < N; doc++) {
      const v = acc[doc]!;
      if (v >= th && v > 0) {
        top.push(v, od[doc]!);
        if (top.size === k) th = top.threshold;
      }
    }
  }
  acc.fill(0);
  return top;
}
