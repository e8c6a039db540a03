/**
 * Top-k selection over (doc index, score) with a binary min-heap on typed arrays: O(n log k), no
 * per-candidate allocation. Ties keep the lower doc index (Lucene's order).
 * @module
 */

/** Keeps the k best (score, doc) pairs seen; "better" = higher score, then lower doc index. */
export class TopK {
  private readonly scores: Float64Array;
  private readonly docs: Uint32Array;
  private n = 0;
  constructor(readonly k: number) {
    this.scores = new Float64Array(k);
    this.docs = new Uint32Array(k);
  }

  /** a is worse than b. */
  private worse(i: number, j: number): boolean {
    const si = this.scores[i]!;
    const sj = this.scores[j]!;
    return si < sj || (si === sj && this.docs[i]! > this.docs[j]!);
  }

  private swap(i: number, j: number): void {
    const s = this.scores[i]!;
    this.scores[i] = this.scores[j]!;
    this.scores[j] = s;
    const d = this.docs[i]!;
    this.docs[i] = this.docs[j]!;
    this.docs[j] = d;
  }

  private down(i: number): void {
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < this.n && this.worse(l, m)) m = l;
      if (r < this.n && this.worse(r, m)) m = r;
      if (m === i) return;
      this.swap(i, m);
      i = m;
    }
  }

  push(doc: number, score: number): void {
    if (this.k === 0) return;
    if (this.n < this.k) {
      let i = this.n++;
      this.scores[i] = score;
      this.docs[i] = doc;
      while (i > 0) {
        const p = (i - 1) >> 1;
        if (!this.worse(i, p)) break;
        this.swap(i, p);
        i = p;
      }
      return;
    }
    const s0 = this.scores[0]!;
    if (score < s0 || (score === s0 && doc > this.docs[0]!)) return; // not better than the worst kept
    this.scores[0] = score;
    this.docs[0] = doc;
    this.down(0);
  }

  /** The kept pairs, best first. */
  sorted(): { doc: number; score: number }[] {
    const out = Array.from({ length: this.n }, (_, i) => ({ doc: this.docs[i]!, score: this.scores[i]! }));
    return out.sort((a, b) => b.score - a.score || a.doc - b.doc);
  }
}
