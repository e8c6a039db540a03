/**
 * Append-only typed arrays that double when full.
 * @module
 */

type Ctor<T> = { new (n: number): T };

export class Growable<
  T extends Uint8Array | Int8Array | Uint16Array | Uint32Array | Int32Array | Float32Array | Float64Array,
> {
  #a: T;
  length = 0;
  readonly #ctor: Ctor<T>;

  constructor(ctor: Ctor<T>, initial = 1024) {
    this.#ctor = ctor;
    this.#a = new ctor(Math.max(1, initial));
  }

  push(v: number): void {
    if (this.length === this.#a.length) this.#grow(this.length + 1);
    this.#a[this.length++] = v;
  }

  #grow(min: number): void {
    const next = new this.#ctor(Math.max(min, this.#a.length * 2));
    next.set(this.#a.subarray(0, this.length) as unknown as ArrayLike<number>);
    this.#a = next;
  }

  /** The filled part, as a view (valid until the next push). */
  view(): T {
    return this.#a.subarray(0, this.length) as T;
  }
}
