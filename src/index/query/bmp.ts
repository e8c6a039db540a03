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
 * Costs, per query on the 1M-document synthetic corpus (31,250 blocks): the frequent terms' bound sums
 * run four rows per pass; blocks are placed in bound order a range of buckets at a time, so the blocks
 * below the first range are rarely placed at all; and a block's postings are searched only for the rare
 * query terms it holds (a bit per block, set while summing). Together 1.3× faster than the plain
 * algorithm (bench/RESULTS.md).
 *
 * Two cost checks hand a query to exhaustive scoring when that is cheaper: before anything, when the
 * bounds and the probe alone would cost more than scoring every posting (small collections); and after
 * a probe of the best blocks, when the blocks still above the k-th score would (large k on collections
 * where the k-th score sits in the bulk of the distribution).
 * @module
 */
import { BMP_BUCKETS, type ImpactArray, type SparseIndexData, type Scratch } from '../sparse/data.ts';
import type { QuantQuery } from '../sparse/quantize.ts';
import { TopK } from '../topk.ts';
import { exhaustive } from './exhaustive.ts';

export const name = 'bmp';

const BUCKETS = BMP_BUCKETS;
/** Bucket number of a block with a zero bound (never scored). */
const NO_BUCKET = 0xffff;
/** Blocks placed in score order at a time. */
const FILL = 2048;

/** Blocks scored before the cost check. */
const PROBE_BLOCKS = 32;
/**
 * Hand-overs by the probe in a row, at one depth, after which queries at that depth go straight to
 * exhaustive scoring; and one query in RECHECK of those is probed again (a success resets the streak).
 */
const STREAK = 8;
const RECHECK = 16;
/**
 * Cost of scoring one block, in exhaustive-posting units per forward posting of the block. Measured on
 * 300k-document indexes after BP: ~9 µs per 3,744-posting block (2.1–2.6 ns per forward posting)
 * against 1.8–2.7 ns per posting of the exhaustive scan, a ratio of ~1; taken lower because the blocks
 * left at the probe overcount those BMP goes on to score (the k-th score keeps rising). The lower value
 * won on the collections it was tried on (bench/RESULTS.md, issue 15); 0.2 dated from before the
 * exhaustive scan's generated decoders made it 3–4× faster.
 */
const BLOCK_COST_PER_POSTING = 0.6;

export interface BmpStats {
  blocksScored: number;
  blocksWithBound: number;
  /** Whether the cost check handed the query to exhaustive scoring. */
  fellBack: boolean;
}

/**
 * dst[i] += Σ_r ws[r] × src[rows[r] + i] for i < n: the frequent terms' bound sums, four rows per pass
 * so each bound is loaded and stored a quarter as often (measured: 1.9 → 1.2 ms per query over 31k
 * blocks and 24 dense rows).
 */
function addRows(
  dst: Float64Array,
  n: number,
  src: ImpactArray,
  rows: Int32Array,
  ws: Float64Array,
  nRows: number,
): void {
  let r = 0;
  for (; r + 4 <= nRows; r += 4) {
    const a = rows[r]!;
    const b = rows[r + 1]!;
    const c = rows[r + 2]!;
    const e = rows[r + 3]!;
    const wa = ws[r]!;
    const wb = ws[r + 1]!;
    const wc = ws[r + 2]!;
    const we = ws[r + 3]!;
    for (let i = 0; i < n; i++)
      dst[i] = dst[i]! + wa * src[a + i]! + wb * src[b + i]! + wc * src[c + i]! + we * src[e + i]!;
  }
  for (; r < nRows; r++) {
    const a = rows[r]!;
    const wa = ws[r]!;
    for (let i = 0; i < n; i++) dst[i] = dst[i]! + wa * src[a + i]!;
  }
}

/** Adds the query's scores of block b's documents into acc (indexed by document within the block). */
function scoreBlock(
  d: SparseIndexData,
  q: QuantQuery,
  b: number,
  acc: Float64Array,
  termBit: Int32Array,
  present: number,
): void {
  const { fwdBlockStart, fwdTerms, fwdLocal, fwdImpacts } = d;
  const qt = q.terms;
  const qw = q.weights;
  const m = qt.length;
  // intersect the block's term-sorted postings with the query terms
  let p = fwdBlockStart[b]!;
  const pe = fwdBlockStart[b + 1]!;
  for (let j = 0; j < m && p < pe; j++) {
    const bit = termBit[j]!;
    if (bit !== 0 && (present & bit) === 0) continue;
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
}

/**
 * Step 1: the upper bound of every document block into s.ub. Rare terms go through their
 * (block, max) entries, frequent terms (dense rows) four rows per pass. The first 32 rare terms also
 * set a bit in s.present for the blocks that hold them, so that scoring a block searches its postings
 * only for the rare terms it holds (most are absent from any one block). Returns each query term's
 * bit (0 for dense rows and rare terms after the 32nd: searched in every block).
 */
function blockBounds(d: SparseIndexData, q: QuantQuery, s: Scratch): Int32Array {
  const { ub, present } = s;
  const nb = d.nDocBlocks;
  const { bmSparseStart, bmSparseBlocks, bmSparseMax, bmDenseIndex, bmDense } = d;
  const qt = q.terms;
  const qw = q.weights;
  const m = qt.length;
  const rows = new Int32Array(m);
  const ws = new Float64Array(m);
  const termBit = new Int32Array(m);
  let nRows = 0;
  let nRare = 0;
  for (let j = 0; j < m; j++) {
    const t = qt[j]!;
    const w = qw[j]!;
    const di = bmDenseIndex[t]!;
    if (di >= 0) {
      rows[nRows] = di * nb;
      ws[nRows++] = w;
    } else {
      const e1 = bmSparseStart[t + 1]!;
      const bit = nRare < 32 ? 1 << nRare++ : 0;
      termBit[j] = bit;
      for (let e = bmSparseStart[t]!; e < e1; e++) {
        const b = bmSparseBlocks[e]!;
        ub[b] = ub[b]! + w * bmSparseMax[e]!;
        present[b] = present[b]! | bit;
      }
    }
  }
  addRows(ub, nb, bmDense, rows, ws, nRows);
  return termBit;
}

/**
 * Step 2: blocks into buckets of similar bounds (a histogram over (0, maxUb]; each block keeps its
 * bucket number in s.bucketOf, NO_BUCKET for a zero bound). Returns the number of blocks with a bound.
 */
function bucketBlocks(nb: number, s: Scratch, maxUb: number): number {
  const { ub, bucketOf, counts, bucketMax } = s;
  const inv = (BUCKETS - 1) / maxUb;
  counts.fill(0);
  bucketMax.fill(0);
  let nonzero = 0;
  for (let b = 0; b < nb; b++) {
    const u = ub[b]!;
    if (u === 0) {
      bucketOf[b] = NO_BUCKET;
      continue;
    }
    const h = (u * inv) | 0;
    bucketOf[b] = h;
    counts[h]!++;
    if (u > bucketMax[h]!) bucketMax[h] = u;
    nonzero++;
  }
  return nonzero;
}

/**
 * Places the blocks of buckets [hLo, hHi) into s.order, highest bucket first (a counting sort over
 * the bucket numbers kept by bucketBlocks).
 */
function placeBuckets(nb: number, s: Scratch, hLo: number, hHi: number): void {
  const { bucketOf, order, counts, fillAt } = s;
  let at = 0;
  for (let h = hHi - 1; h >= hLo; h--) {
    fillAt[h] = at;
    at += counts[h]!;
  }
  for (let b = 0; b < nb; b++) {
    const h = bucketOf[b]!;
    if (h >= hLo && h < hHi) order[fillAt[h]!++] = b;
  }
}

/**
 * The cost check after the probe: the k-th score only rises, so the blocks with a bound at or above
 * the current one (`th`) bound the work left. When scoring them costs more than scoring every posting
 * of the query, exhaustive TAAT is cheaper (and exact).
 */
function exhaustiveIsCheaper(
  d: SparseIndexData,
  counts: Int32Array,
  th: number,
  inv: number,
  nonzero: number,
  exhaustiveCost: number,
): boolean {
  let left = nonzero;
  if (th > -Infinity) {
    left = 0;
    for (let hb = Math.min(BUCKETS - 1, (th * inv) | 0); hb < BUCKETS; hb++) left += counts[hb]!;
  }
  const nb = d.nDocBlocks;
  const perBlock = d.fwdBlockStart[nb]! / nb;
  return left * perBlock * BLOCK_COST_PER_POSTING > exhaustiveCost;
}

/** Cost of one block-bound update, in exhaustive-posting units (addRows: ~1.6 ns per row entry). */
const BOUND_COST = 0.5;

/**
 * The costs of the two ways, before either starts: exhaustive scoring (the query's postings plus the
 * selection scan) and the least BMP spends (the bounds of every block, then the probe). On a small
 * collection the second can exceed the first (measured: BMP's fixed costs above a whole exhaustive
 * search on 1.4k–5k-document collections), and the query goes straight to exhaustive scoring.
 */
function costs(d: SparseIndexData, q: QuantQuery): { exhaustive: number; bmpAtLeast: number } {
  const qt = q.terms;
  const nb = d.nDocBlocks;
  let df = 0;
  let bounds = 0;
  for (let j = 0; j < qt.length; j++) {
    const t = qt[j]!;
    df += d.termStart[t + 1]! - d.termStart[t]!;
    bounds += d.bmDenseIndex[t]! >= 0 ? nb : d.bmSparseStart[t + 1]! - d.bmSparseStart[t]!;
  }
  const probe = Math.min(PROBE_BLOCKS, nb) * (d.fwdBlockStart[nb]! / nb) * BLOCK_COST_PER_POSTING;
  return { exhaustive: df + d.N / 4, bmpAtLeast: bounds * BOUND_COST + probe };
}

/**
 * The documents of block b with a score in acc into the top k, zeroing acc for the next block.
 * Returns the new k-th score scaled by `slack` (or `th` unchanged while fewer than k are held).
 * `od` maps internal to input numbers in a reordered index (the queue breaks ties by input number).
 */
function collectBlock(
  acc: Float64Array,
  top: TopK,
  d0: number,
  n: number,
  th: number,
  slack: number,
  od: Uint32Array | null,
): number {
  const k = top.k;
  for (let l = 0; l < n; l++) {
    const sc = acc[l]!;
    if (sc > 0) {
      acc[l] = 0;
      if (top.push(sc, od === null ? d0 + l : od[d0 + l]!) && top.size === k) th = top.threshold * slack;
    }
  }
  return th;
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
  const { ub, present } = s;
  const nb = d.nDocBlocks;
  const cost = fallback ? costs(d, q) : null;
  // A depth at which the probe keeps handing queries over (k = 1000 where the k-th score sits in the
  // bulk) skips the bounds and the probe, ~1 ms, re-checking one query in RECHECK.
  const depth = k + alpha / 2; // one number per (integer k, alpha in (0, 1]): no key to allocate
  let memo = s.handovers.get(depth);
  if (fallback && !memo) s.handovers.set(depth, (memo = { streak: 0, since: 0 }));
  const sendOn = memo !== undefined && memo.streak >= STREAK && ++memo.since % RECHECK !== 0;
  if (cost && (sendOn || cost.bmpAtLeast > cost.exhaustive)) {
    if (stats) Object.assign(stats, { blocksScored: 0, blocksWithBound: 0, fellBack: true });
    return exhaustive(d, q, k, s);
  }
  const termBit = blockBounds(d, q, s);
  let maxUb = 0;
  for (let b = 0; b < nb; b++) if (ub[b]! > maxUb) maxUb = ub[b]!;
  const top = new TopK(k);
  if (maxUb === 0) return top;
  const nonzero = bucketBlocks(nb, s, maxUb);
  const inv = (BUCKETS - 1) / maxUb;

  // Step 3: score blocks, highest bucket first, until no remaining bound can enter the top k. Blocks
  // are placed in `order` a range of buckets at a time (about FILL blocks): most queries stop in the
  // first range, so the other blocks are never placed.
  const { order, counts, bucketMax } = s;
  const N = d.N;
  const acc = s.blockAcc;
  /** Leaves the scratch arrays zeroed for the next query, and reports. */
  const finish = (fellBack: boolean) => {
    ub.fill(0);
    present.fill(0);
    if (stats) Object.assign(stats, { blocksScored: scored, blocksWithBound: nonzero, fellBack });
  };
  const shift = d.docBlockShift;
  const slack = 1 / alpha;
  let scored = 0;
  let th = -Infinity; // the k-th score, scaled by 1/alpha
  let checked = !fallback;
  let hHi = BUCKETS; // buckets [hLo, hHi) are in `order`
  outer: while (hHi > 0) {
    let hLo = hHi;
    let placed = 0;
    while (hLo > 0 && placed < FILL) placed += counts[--hLo]!;
    if (placed === 0) break;
    placeBuckets(nb, s, hLo, hHi);
    let i = 0;
    for (let h = hHi - 1; h >= hLo; h--) {
      const end = i + counts[h]!;
      if (end === i) continue;
      if (bucketMax[h]! < th) break outer;
      for (; i < end; i++) {
        const b = order[i]!;
        if (ub[b]! < th) continue;
        if (!checked && scored === PROBE_BLOCKS) {
          checked = true;
          if (exhaustiveIsCheaper(d, counts, th, inv, nonzero, cost!.exhaustive)) {
            memo!.streak++;
            acc.fill(0);
            finish(true);
            return exhaustive(d, q, k, s);
          }
        }
        scored++;
        scoreBlock(d, q, b, acc, termBit, present[b]!);
        const d0 = b << shift;
        th = collectBlock(acc, top, d0, Math.min(N - d0, 1 << shift), th, slack, d.origDoc);
      }
      // every later block is bounded by this bucket's max: stop as soon as it falls below
      if (th > bucketMax[h]!) break outer;
    }
    hHi = hLo;
  }
  if (memo) memo.streak = 0;
  finish(false);
  return top;
}
