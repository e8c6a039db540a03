/**
 * Document reordering by recursive graph bisection ("BP": Dhulipala, Kabiljo, Karrer, Ottaviano,
 * Pupyrev & Shalita, "Compressing Graphs and Indexes with Recursive Graph Bisection", KDD 2016; the
 * variant of PISA and of Mackenzie et al.).
 *
 * Documents that share terms should get nearby numbers: posting gaps shrink (fewer bits per posting)
 * and, which matters more here, a block of consecutive documents then holds documents alike, so
 * block-max bounds become tight and block-max pruning skips most blocks. On a collection in random
 * order every block is a random sample and each term's block maximum sits near its global maximum,
 * so pruning has nothing to skip.
 *
 * The algorithm splits the documents in two halves and, for a fixed number of iterations, computes
 * for every document the gain of moving it to the other half under the log-gap cost model
 * (Σ_t deg_t · log2(n / (deg_t + 1)) per half), sorts each half by gain and swaps the best pairs while
 * their summed gain is positive; then it recurses into both halves down to leaves of `leafSize`
 * documents. Terms held by fewer than `minDf` documents cannot bring documents together and are left
 * out. Memory: the forward index (4 bytes per posting) plus O(documents + terms).
 * @module
 */

export interface BisectOptions {
  /** Swap rounds per bisection; default 20 (as in PISA and the paper). */
  iterations?: number;
  /** Stop splitting at ranges of at most this many documents; default 16. */
  leafSize?: number;
  /** Terms in fewer documents are ignored; default 2. */
  minDf?: number;
  /** Called after each finished range with the documents placed so far. */
  progress?: (placed: number) => void;
}

/**
 * The BP order of N documents given as a CSR forward index (document d's terms are
 * terms[docStart[d] .. docStart[d+1])). Returns `order`: order[newNumber] = old document number.
 * Deterministic: ties keep the current order.
 */
export function bisectOrder(
  docStart: Uint32Array,
  terms: Uint32Array,
  N: number,
  V: number,
  opts: BisectOptions = {},
): Int32Array {
  const iterations = opts.iterations ?? 20;
  const leaf = Math.max(2, opts.leafSize ?? 16);
  const minDf = opts.minDf ?? 2;
  // ---- the forward index restricted to terms that can pair documents --------------------------------
  const df = new Uint32Array(V);
  for (let p = 0; p < docStart[N]!; p++) df[terms[p]!]!++;
  const start = new Uint32Array(N + 1);
  let kept = 0;
  for (let d = 0; d < N; d++) {
    for (let p = docStart[d]!; p < docStart[d + 1]!; p++) if (df[terms[p]!]! >= minDf) kept++;
    start[d + 1] = kept;
  }
  const fwd = new Uint32Array(kept);
  for (let d = 0, o = 0; d < N; d++)
    for (let p = docStart[d]!; p < docStart[d + 1]!; p++) if (df[terms[p]!]! >= minDf) fwd[o++] = terms[p]!;

  const order = new Int32Array(N);
  for (let i = 0; i < N; i++) order[i] = i;
  const log2 = new Float64Array(N + 2);
  for (let i = 1; i < N + 2; i++) log2[i] = Math.log2(i);
  // Working copy of one range: its documents' postings contiguous, terms renumbered densely, so the
  // hot loops read sequentially and touch small tables (one scratch, reused depth first).
  const w: Work = {
    lStart: new Uint32Array(N + 1),
    lTerms: new Uint32Array(kept),
    slot: new Int32Array(N), // position → local document
    gain: new Float64Array(N),
    keys: new Float64Array(N),
    degL: new Int32Array(V),
    degR: new Int32Array(V),
    gainL: new Float64Array(V),
    gainR: new Float64Array(V),
    localOf: new Int32Array(V).fill(-1),
    global: new Uint32Array(V),
    log2,
  };
  let placed = 0;
  const bisect = (lo: number, hi: number): void => {
    const n = hi - lo;
    order.subarray(lo, hi).sort();
    if (n <= leaf) {
      placed += n;
      opts.progress?.(placed);
      return;
    }
    const U = loadRange(w, order, lo, hi, start, fwd);
    const nl = n >> 1;
    for (let it = 0; it < iterations; it++) if (!swapRound(w, n, nl, U)) break;
    // write the new halves back (local document j is order[lo + j] as loaded)
    const docs = order.slice(lo, hi);
    for (let i = 0; i < n; i++) order[lo + i] = docs[w.slot[i]!]!;
    bisect(lo, lo + nl);
    bisect(lo + nl, hi);
  };
  if (N > 0) bisect(0, N);
  return order;
}

interface Work {
  lStart: Uint32Array;
  lTerms: Uint32Array;
  slot: Int32Array;
  gain: Float64Array;
  keys: Float64Array;
  degL: Int32Array;
  degR: Int32Array;
  gainL: Float64Array;
  gainR: Float64Array;
  localOf: Int32Array;
  global: Uint32Array;
  log2: Float64Array;
}

/** Copies range [lo, hi) of `order` into the working arrays; returns its number of distinct terms. */
function loadRange(w: Work, order: Int32Array, lo: number, hi: number, start: Uint32Array, fwd: Uint32Array): number {
  const { lStart, lTerms, slot, localOf, global, degL, degR } = w;
  const n = hi - lo;
  const nl = n >> 1;
  let U = 0;
  let o = 0;
  for (let j = 0; j < n; j++) {
    const d = order[lo + j]!;
    lStart[j] = o;
    slot[j] = j;
    for (let p = start[d]!; p < start[d + 1]!; p++) {
      const t = fwd[p]!;
      let u = localOf[t]!;
      if (u < 0) {
        u = localOf[t] = U;
        global[U++] = t;
        degL[u] = 0;
        degR[u] = 0;
      }
      lTerms[o++] = u;
      if (j < nl) degL[u]!++;
      else degR[u]!++;
    }
  }
  lStart[n] = o;
  for (let u = 0; u < U; u++) localOf[global[u]!] = -1;
  return U;
}

/**
 * One round: move gains of every document, then the best pairs swapped while their summed gain is
 * positive. Returns whether anything moved.
 */
function swapRound(w: Work, n: number, nl: number, U: number): boolean {
  const { lStart, lTerms, slot, gain, keys, degL, degR, gainL, gainR, log2 } = w;
  const nr = n - nl;
  const l1 = log2[nl]!;
  const l2 = log2[nr]!;
  // per term: cost before − cost after moving one document out of its side (PISA's expb pair)
  for (let u = 0; u < U; u++) {
    const a = degL[u]!;
    const b = degR[u]!;
    const cur = a * (l1 - log2[a + 1]!) + b * (l2 - log2[b + 1]!);
    gainL[u] = a > 0 ? cur - ((a - 1) * (l1 - log2[a]!) + (b + 1) * (l2 - log2[b + 2]!)) : 0;
    gainR[u] = b > 0 ? cur - ((a + 1) * (l1 - log2[a + 2]!) + (b - 1) * (l2 - log2[b]!)) : 0;
  }
  for (let i = 0; i < n; i++) {
    const j = slot[i]!;
    const tab = i < nl ? gainL : gainR;
    let g = 0;
    for (let p = lStart[j]!, e = lStart[j + 1]!; p < e; p++) g += tab[lTerms[p]!]!;
    gain[i] = g;
  }
  // the c-th best gains of each side (sorted negated, so ascending = best first)
  const kl = keys.subarray(0, nl);
  const kr = keys.subarray(nl, n);
  for (let i = 0; i < n; i++) keys[i] = -gain[i]!;
  kl.sort();
  kr.sort();
  let c = 0;
  const m = Math.min(nl, nr);
  while (c < m && -kl[c]! - kr[c]! > 0) c++;
  if (c === 0) return false;
  const cutL = -kl[c - 1]!;
  const cutR = -kr[c - 1]!;
  // pick c positions per side (gains above the cut, then at it, in position order) and swap them
  let movedL = 0;
  let movedR = 0;
  const moveL = keys; // reused for the two position lists once the cuts are known
  for (let i = 0; i < nl && movedL < c; i++) if (gain[i]! > cutL) moveL[movedL++] = i;
  for (let i = 0; i < nl && movedL < c; i++) if (gain[i]! === cutL) moveL[movedL++] = i;
  const base = c;
  for (let i = nl; i < n && movedR < c; i++) if (gain[i]! > cutR) moveL[base + movedR++] = i;
  for (let i = nl; i < n && movedR < c; i++) if (gain[i]! === cutR) moveL[base + movedR++] = i;
  for (let s = 0; s < c; s++) {
    const pl = moveL[s]!;
    const pr = moveL[base + s]!;
    const a = slot[pl]!;
    const b = slot[pr]!;
    for (let p = lStart[a]!, e = lStart[a + 1]!; p < e; p++) {
      degL[lTerms[p]!]!--;
      degR[lTerms[p]!]!++;
    }
    for (let p = lStart[b]!, e = lStart[b + 1]!; p < e; p++) {
      degL[lTerms[p]!]!++;
      degR[lTerms[p]!]!--;
    }
    slot[pl] = b;
    slot[pr] = a;
  }
  return true;
}

/** The inverse of a permutation: inv[perm[i]] = i. */
export function invertPermutation(perm: Int32Array | Uint32Array): Int32Array {
  const inv = new Int32Array(perm.length);
  for (let i = 0; i < perm.length; i++) inv[perm[i]!] = i;
  return inv;
}
