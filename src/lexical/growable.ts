/**
 * An append-only Uint32 buffer that doubles as it fills: index building appends postings without
 * knowing their number in advance.
 * @module
 */
export class GrowableUint32 {
  private buf: Uint32Array;
  length = 0;
  constructor(capacity = 1024) {
    this.buf = new Uint32Array(capacity);
  }

  push(x: number): void {
    if (this.length === this.buf.length) {
      const next = new Uint32Array(this.buf.length * 2);
      next.set(this.buf);
      this.buf = next;
    }
    this.buf[this.length++] = x;
  }

  /** A view of the filled part (shares memory with the buffer). */
  view(): Uint32Array {
    return this.buf.subarray(0, this.length);
  }
}
