/**
 * Block-max pruning (after Mallia, Suel & Tonellotto, "Faster Learned Sparse Retrieval with Block-Max
 * Pruning", SIGIR 2024): documents are cut into blocks of 2^shift consecutive ids; for each term the
 * index stores its largest impact in every block. A query first sums w_t × blockmax_t(b) into an upper
 * bound per block, then scores whole blocks through the block forward index (postings of the block
 * sorted by term, intersected with the sorted query terms by galloping search) in descending bound
 * order, and stops once the next bound is below the k-th best score.
 *
 * Safe: a block is skipped only when its bound is strictly below the current k-th score, and bounds
 * are exact integer sums, so the result equals exhaustive scoring, ties included. With `alpha` < 1 it
 * is approximate: blocks are skipped when alpha × bound < k-th score (fewer blocks, lower recall).
 *
 * After a probe of the best blocks, a cost check compares the blocks still above the k-th score with
 * the query's postings and hands the query to exhaustive scoring when that is cheaper (large k on
 * collections where the k-th score sits in the bulk of the distribution).
 * @module
 */
import type { SparseIndexData, Scratch } from '../sparse/data.ts';
import type { QuantQuery } from '../sparse/quantize.ts';
import { TopK } from '../topk.ts';
import { exhaustive } from './exhaustive.ts';

export const name = 'bmp';

const BUCKETS = 2048;

/** Blocks scored before the cost check. */
const PROBE_BLOCKS = 32;
/**
 * Cost of scoring one block, in exhaustive-posting units per forward posting of the block (measured
 * on the 1M-document synthetic corpus: ~10 µs per 3,840-posting block vs ~15 ns per posting).
 */
const BLOCK_COST_PER_POSTING = 0.2;

export interface BmpStats {
  blocksScored: number;
  blocksWithBound: number;
  /** Whether the cost check handed the query to exhaustive scoring. */
  fellBack: boolean;
}

/**
 * @param alpha 1 for the safe (exact) mode; below 1, approximate.
 * @param fallback hand the query to exhaustive scoring when the cost check predicts that pays.
 */
export function bmp(
  d: SparseIndexData,
  q: QuantQuery,
  k: number,
  s: Scratch,
  alpha = 1,
  stats?: BmpStats,
  fallback = true,
): TopK {
  const ub = s.ub;
  const nb = d.nDocBlocks;
  const { bmSparseStart, bmSparseBlocks, bmSparseMax, bmDenseIndex, bmDense } = d;
  const qt = q.terms;
  const qw = q.weights;
  const m = qt.length;

  // 1. upper bound of every document block
  for (let j = 0; j < m; j++) {
    const t = qt[j]!;
    const w = qw[j]!;
    const di = bmDenseIndex[t]!;
    if (di >= 0) {
      const base = di * nb;
      for (let b = 0; b < nb; b++) ub[b] = ub[b]! + w * bmDense[base + b]!;
    } else {
      const e1 = bmSparseStart[t + 1]!;
      for (let e = bmSparseStart[t]!; e < e1; e++) {
        const b = bmSparseBlocks[e]!;
        ub[b] = ub[b]! + w * bmSparseMax[e]!;
      }
    }
  }

  // 2. blocks into buckets of similar bounds (counting sort), highest bucket first
  let maxUb = 0;
  for (let b = 0; b < nb; b++) if (ub[b]! > maxUb) maxUb = ub[b]!;
  const top = new TopK(k);
  if (maxUb === 0) return top;
  const inv = (BUCKETS - 1) / maxUb;
  const counts = new Int32Array(BUCKETS + 1);
  const bucketMax = new Float64Array(BUCKETS);
  let nonzero = 0;
  for (let b = 0; b < nb; b++) {
    const u = ub[b]!;
    if (u === 0) continue;
    const h = Math.floor(u * inv);
    counts[h + 1]!++;
    if (u > bucketMax[h]!) bucketMax[h] = u;
    nonzero++;
  }
  for (let h = 0; h < BUCKETS; h++) counts[h + 1]! += counts[h]!;
  const order = new Int32Array(nonzero);
  const fillAt = counts.slice(0, BUCKETS);
  for (let b = 0; b < nb; b++) {
    const u = ub[b]!;
    if (u === 0) continue;
    order[fillAt[Math.floor(u * inv)]!++] = b;
  }

  // 3. score blocks until no remaining bound can enter the top k
  const { fwdBlockStart, fwdTerms, fwdLocal, fwdImpacts, N } = d;
  const acc = s.blockAcc;
  const shift = d.docBlockShift;
  const slack = 1 / alpha;
  let scored = 0;
  let th = -Infinity; // the k-th score, scaled by 1/alpha
  let checked = !fallback;
  outer: for (let h = BUCKETS - 1; h >= 0; h--) {
    if (counts[h + 1] === counts[h]) continue;
    if (bucketMax[h]! < th) break;
    for (let i = counts[h]!; i < counts[h + 1]!; i++) {
      const b = order[i]!;
      if (ub[b]! < th) continue;
      if (!checked && scored === PROBE_BLOCKS) {
        // The k-th score only rises, so blocks with a bound at or above the current one bound the work
        // left. When that costs more than scoring every posting, exhaustive TAAT is cheaper (and exact).
        checked = true;
        let left = nonzero;
        if (th > -Infinity) {
          const hb = Math.min(BUCKETS - 1, Math.floor(th * inv));
          left = nonzero - counts[hb]!;
        }
        let df = 0;
        for (let j = 0; j < m; j++) df += d.termStart[qt[j]! + 1]! - d.termStart[qt[j]!]!;
        const perBlock = fwdBlockStart[nb]! / nb;
        if (left * perBlock * BLOCK_COST_PER_POSTING > df + N / 4) {
          ub.fill(0);
          acc.fill(0);
          if (stats) Object.assign(stats, { blocksScored: scored, blocksWithBound: nonzero, fellBack: true });
          return exhaustive(d, q, k, s);
        }
      }
      scored++;
      // intersect the block's term-sorted postings with the query terms
      let p = fwdBlockStart[b]!;
      const pe = fwdBlockStart[b + 1]!;
      for (let j = 0; j < m && p < pe; j++) {
        const t = qt[j]!;
        if (fwdTerms[p]! < t) {
          // gallop to the first posting with term ≥ t
          let lo = p;
          let step = 1;
          while (p + step < pe && fwdTerms[p + step]! < t) {
            lo = p + step;
            step <<= 1;
          }
          let hi = p + step < pe ? p + step : pe;
          while (lo + 1 < hi) {
            const mid = (lo + hi) >>> 1;
            if (fwdTerms[mid]! < t) lo = mid;
            else hi = mid;
          }
          p = hi;
        }
        if (p < pe && fwdTerms[p] === t) {
          const w = qw[j]!;
          do {
            const l = fwdLocal[p]!;
            acc[l] = acc[l]! + w * fwdImpacts[p]!;
            p++;
          } while (p < pe && fwdTerms[p] === t);
        }
      }
      const d0 = b << shift;
      const n = Math.min(N - d0, 1 << shift);
      for (let l = 0; l < n; l++) {
        const sc = acc[l]!;
        if (sc > 0) {
          acc[l] = 0;
          if (top.push(sc, d0 + l) && top.size === k) th = top.threshold * slack;
        }
      }
      // every later block is bounded by this bucket's max: stop as soon as it falls below
      if (th > bucketMax[h]!) break outer;
    }
  }
  if (stats) Object.assign(stats, { blocksScored: scored, blocksWithBound: nonzero, fellBack: false });
  ub.fill(0);
  return top;
}
