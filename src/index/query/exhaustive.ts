/**
 * Exhaustive term-at-a-time scoring: every posting of every query term adds into a per-document
 * accumulator, then one scan selects the top k. The reference every other algorithm must match, and
 * Lion's one exact sparse scorer: `lion search` runs it over an index's integer impacts, validation
 * during training over the float weights of an in-memory index (`MemorySparseIndex`).
 * @module
 */
import type { SparseIndexData, Scratch } from '../sparse/data.ts';
import type { QuantQuery } from '../sparse/quantize.ts';
import { accumulateBlock, type Weights } from '../codec/bitpack.ts';
import { TopK, offerAscending, offerMapped } from '../topk.ts';

/**
 * What the exhaustive scan reads: the posting lists of an index. Impacts are integers in a file-backed
 * index and float weights in an in-memory one; the scan is the same.
 */
export type PostingLists = Pick<
  SparseIndexData,
  'N' | 'termStart' | 'termBlockStart' | 'blockWidth' | 'blockWordStart' | 'words' | 'origDoc'
> & { impacts: Weights };

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
  // Four running maxima and four interleaved histograms, so that neither pass waits on its previous
  // element (one compare chain; runs of scores in one bucket incrementing one count): 0.95 → 0.50 ms
  // over 300k scores.
  let m0 = 0;
  let m1 = 0;
  let m2 = 0;
  let m3 = 0;
  let i = 0;
  for (; i + 4 <= N; i += 4) {
    if (acc[i]! > m0) m0 = acc[i]!;
    if (acc[i + 1]! > m1) m1 = acc[i + 1]!;
    if (acc[i + 2]! > m2) m2 = acc[i + 2]!;
    if (acc[i + 3]! > m3) m3 = acc[i + 3]!;
  }
  for (; i < N; i++) if (acc[i]! > m0) m0 = acc[i]!;
  const max = Math.max(m0, m1, m2, m3);
  if (max === 0) return 0;
  const inv = (HIST - 1) / max;
  const c4 = new Int32Array(4 * HIST);
  let nz = 0;
  let j = 0;
  for (; j + 4 <= N; j += 4) {
    const a = acc[j]!;
    const b = acc[j + 1]!;
    const c = acc[j + 2]!;
    const e = acc[j + 3]!;
    if (a > 0) c4[((a * inv) | 0) << 2]!++;
    if (b > 0) c4[(((b * inv) | 0) << 2) + 1]!++;
    if (c > 0) c4[(((c * inv) | 0) << 2) + 2]!++;
    if (e > 0) c4[(((e * inv) | 0) << 2) + 3]!++;
  }
  for (; j < N; j++) if (acc[j]! > 0) c4[((acc[j]! * inv) | 0) << 2]!++;
  const counts = new Int32Array(HIST);
  for (let h = 0; h < HIST; h++) {
    counts[h] = c4[4 * h]! + c4[4 * h + 1]! + c4[4 * h + 2]! + c4[4 * h + 3]!;
    nz += counts[h]!;
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
  const th = k >= SELECT_FROM_K ? kthLowerBound(acc, N, k) : 0;
  if (d.origDoc === null) offerAscending(top, acc, 0, th, N);
  else offerMapped(top, acc, d.origDoc, th, N); // reordered: internal numbers → input numbers
  acc.fill(0);
  return top;
}
