/**
 * Seeded synthetic SPLADE-like collections for tests and benchmarks.
 *
 * Terms are drawn without replacement from a Zipf law over the vocabulary (rank r has probability
 * ∝ r^−s); a fixed random permutation maps ranks to term ids so that frequency does not follow id
 * order. Weights follow what learned sparse models do: rarer terms get larger weights. A term of rank
 * r gets weight exp(N(0, σ²)) × (0.2 + log(1 + r) / log(1 + V)), so stop-word-like head terms are
 * everywhere but weigh little.
 *
 * With `topics` > 0 the collection also has topical structure, as real text does: each topic owns a
 * set of content terms (drawn from the same Zipf law, head excluded) with its own Zipf preference; a
 * document belongs to one topic and takes `topicShare` of its terms from it, the rest from the
 * background law; a query picks a topic the same way. Queries then have documents that really match
 * them, instead of only background overlap. Without topics, queries and documents are independent
 * draws: a worst case for any pruning method, since no document stands out.
 * @module
 */
import type { SparseVector } from './types.ts';
import { rng } from '../util/random.ts';

export { rng };

export interface SyntheticOptions {
  vocabSize?: number;
  /** Zipf exponent; default 1. */
  zipf?: number;
  /** Spread of the log-normal weight noise; default 0.5. */
  sigma?: number;
  seed?: number;
  /** Number of topics (0: none, the default). */
  topics?: number;
  /** Content terms per topic; default 300. */
  topicTerms?: number;
  /** Share of a vector's terms drawn from its topic; default 0.5. */
  topicShare?: number;
  /** Topic terms are drawn from Zipf ranks at or above this (the head is not topical); default 200. */
  topicMinRank?: number;
  /**
   * How topic terms are drawn: 'zipf' (default) from the background law, so they are mostly frequent
   * mid-head terms; 'uniform' uniformly over all ranks at or above topicMinRank, so topics reach across
   * the whole vocabulary (mostly rare terms, as in real topical text).
   */
  topicSpread?: 'zipf' | 'uniform';
}

/** Draws sparse vectors with a given number of non-zeros from one seeded Zipf vocabulary. */
export class SyntheticSparse {
  readonly vocabSize: number;
  readonly #cdf: Float64Array;
  readonly #termOfRank: Uint32Array;
  readonly #rankOfTerm: Uint32Array;
  readonly #sigma: number;
  readonly #rand: () => number;
  readonly #mark: Uint8Array;
  readonly #topics: Uint32Array[] = [];
  readonly #topicCdf: Float64Array;
  readonly #topicShare: number;

  constructor(opts: SyntheticOptions = {}) {
    const V = (this.vocabSize = opts.vocabSize ?? 128_000);
    const s = opts.zipf ?? 1;
    this.#sigma = opts.sigma ?? 0.5;
    this.#rand = rng(opts.seed ?? 1);
    const cdf = new Float64Array(V);
    let acc = 0;
    for (let r = 0; r < V; r++) cdf[r] = acc += 1 / Math.pow(r + 1, s);
    for (let r = 0; r < V; r++) cdf[r] = cdf[r]! / acc;
    this.#cdf = cdf;
    const perm = new Uint32Array(V);
    for (let i = 0; i < V; i++) perm[i] = i;
    for (let i = V - 1; i > 0; i--) {
      const j = Math.floor(this.#rand() * (i + 1));
      const x = perm[i]!;
      perm[i] = perm[j]!;
      perm[j] = x;
    }
    this.#termOfRank = perm;
    this.#rankOfTerm = new Uint32Array(V);
    for (let r = 0; r < V; r++) this.#rankOfTerm[perm[r]!] = r;
    this.#mark = new Uint8Array(V);
    this.#topicShare = opts.topicShare ?? 0.5;
    const T = opts.topics ?? 0;
    const nt = opts.topicTerms ?? 300;
    const minRank = Math.min(opts.topicMinRank ?? 200, V - 1);
    for (let i = 0; i < T; i++) {
      const set = new Set<number>();
      const uniform = opts.topicSpread === 'uniform';
      while (set.size < Math.min(nt, V - minRank)) {
        const r = uniform ? minRank + Math.floor(this.#rand() * (V - minRank)) : this.#rank();
        if (r >= minRank) set.add(r);
      }
      // shuffled, so that a topic's favourite term is not always its most frequent background term
      const ranks = [...set];
      for (let a = ranks.length - 1; a > 0; a--) {
        const b = Math.floor(this.#rand() * (a + 1));
        [ranks[a], ranks[b]] = [ranks[b]!, ranks[a]!];
      }
      this.#topics.push(Uint32Array.from(ranks, (r) => perm[r]!));
    }
    // within a topic, term j is chosen with probability ∝ 1/(j+1)
    this.#topicCdf = new Float64Array(nt);
    let tacc = 0;
    for (let j = 0; j < nt; j++) this.#topicCdf[j] = tacc += 1 / (j + 1);
    for (let j = 0; j < nt; j++) this.#topicCdf[j] = this.#topicCdf[j]! / tacc;
  }

  get topics(): number {
    return this.#topics.length;
  }

  #topicTerm(topic: Uint32Array): number {
    const u = this.#rand();
    const cdf = this.#topicCdf;
    let lo = 0;
    let hi = topic.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cdf[mid]! < u) lo = mid + 1;
      else hi = mid;
    }
    return topic[lo]!;
  }

  #rank(): number {
    const u = this.#rand();
    const cdf = this.#cdf;
    let lo = 0;
    let hi = cdf.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cdf[mid]! < u) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  #gauss(): number {
    const u = 1 - this.#rand();
    const v = this.#rand();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /**
   * One vector with `nnz` distinct terms (fewer only if nnz exceeds the vocabulary); with topics, from
   * topic `topic` (default: a random one).
   */
  vector(nnz: number, topic?: number): SparseVector {
    const n = Math.min(nnz, this.vocabSize);
    const terms = new Uint32Array(n);
    let got = 0;
    if (this.#topics.length > 0) {
      const tp = this.#topics[topic ?? Math.floor(this.#rand() * this.#topics.length)]!;
      const fromTopic = Math.min(Math.round(n * this.#topicShare), tp.length);
      let tries = 0;
      while (got < fromTopic && tries++ < 50 * n) {
        const t = this.#topicTerm(tp);
        if (this.#mark[t]) continue;
        this.#mark[t] = 1;
        terms[got++] = t;
      }
    }
    while (got < n) {
      const t = this.#termOfRank[this.#rank()]!;
      if (this.#mark[t]) continue;
      this.#mark[t] = 1;
      terms[got++] = t;
    }
    terms.sort();
    const values = new Float32Array(n);
    const logV = Math.log(1 + this.vocabSize);
    for (let i = 0; i < n; i++) {
      const t = terms[i]!;
      this.#mark[t] = 0;
      const r = this.#rankOfTerm[t]!;
      values[i] = Math.exp(this.#sigma * this.#gauss()) * (0.2 + Math.log(1 + r) / logV);
    }
    return { indices: terms, values };
  }

  /** A vector whose number of non-zeros varies around `mean` (uniform in [mean/2, 3·mean/2]). */
  vectorAround(mean: number, topic?: number): SparseVector {
    return this.vector(Math.max(1, Math.round(mean * (0.5 + this.#rand()))), topic);
  }
}
