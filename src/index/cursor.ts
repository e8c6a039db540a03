/**
 * A posting cursor over one term's bp128-compressed list: the contract the document-at-a-time
 * algorithms use (doc, next, nextGeq, score, block max), as in PISA's posting cursors.
 * @module
 */
import type { SparseIndexData } from './sparse/data.ts';
import { unpackDocIds } from './codec/bitpack.ts';

export class PostingCursor {
  /** Current document, or N once exhausted. */
  doc = 0;
  /** Query weight × the term's largest impact: the most this term adds to any document. */
  readonly maxScore: number;
  readonly w: number;
  readonly #d: SparseIndexData;
  readonly #b0: number;
  readonly #bEnd: number;
  readonly #p0: number;
  readonly #df: number;
  readonly #buf = new Uint32Array(128);
  /** Current block (may run ahead of the decoded one after a shallow move). */
  #b: number;
  #decoded = -1;
  #i = 0;
  #n = 0;

  constructor(d: SparseIndexData, t: number, w: number) {
    this.#d = d;
    this.w = w;
    this.#b0 = d.termBlockStart[t]!;
    this.#bEnd = d.termBlockStart[t + 1]!;
    this.#p0 = d.termStart[t]!;
    this.#df = d.termStart[t + 1]! - this.#p0;
    this.maxScore = w * d.termMax[t]!;
    this.#b = this.#b0;
    if (this.#b < this.#bEnd) {
      this.#load(this.#b);
      this.doc = this.#buf[0]!;
    } else {
      this.doc = d.N;
    }
  }

  #load(b: number): void {
    const d = this.#d;
    const off = (b - this.#b0) * 128;
    this.#n = this.#df - off < 128 ? this.#df - off : 128;
    const prev = b === this.#b0 ? -1 : d.blockLastDoc[b - 1]!;
    unpackDocIds(d.words, d.blockWordStart[b]!, this.#n, d.blockWidth[b]!, prev, this.#buf);
    this.#decoded = b;
    this.#i = 0;
  }

  next(): void {
    if (++this.#i === this.#n) {
      if (++this.#b === this.#bEnd) {
        this.doc = this.#d.N;
        return;
      }
      this.#load(this.#b);
    }
    this.doc = this.#buf[this.#i]!;
  }

  /** Moves to the first document ≥ target. */
  nextGeq(target: number): void {
    if (this.doc >= target && this.#decoded === this.#b) return;
    const last = this.#d.blockLastDoc;
    let b = this.#b;
    while (b < this.#bEnd && last[b]! < target) b++;
    this.#b = b;
    if (b === this.#bEnd) {
      this.doc = this.#d.N;
      return;
    }
    if (this.#decoded !== b) this.#load(b);
    const buf = this.#buf;
    let i = this.#i;
    while (buf[i]! < target) i++;
    this.#i = i;
    this.doc = buf[i]!;
  }

  /** Query weight × impact of the current posting (integer). */
  score(): number {
    return this.w * this.#d.impacts[this.#p0 + (this.#b - this.#b0) * 128 + this.#i]!;
  }

  /**
   * Moves the block pointer (without decoding) to the block that may hold `target` and returns the
   * most this term adds to any document of that block (0 past the end).
   */
  blockMaxAt(target: number): number {
    const last = this.#d.blockLastDoc;
    let b = this.#b;
    while (b < this.#bEnd && last[b]! < target) b++;
    this.#b = b;
    return b === this.#bEnd ? 0 : this.w * this.#d.blockMax[b]!;
  }
}
