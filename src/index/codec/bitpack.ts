/**
 * Binary packing of unsigned integers at a fixed bit width: the block codec behind Lion's posting
 * lists ("bp128": blocks of up to 128 doc-id gaps, each block packed at the width of its largest gap,
 * after Lemire & Boytsov's BP128, here as a scalar, non-interleaved layout).
 *
 * Value i of a block occupies bits [i*b, (i+1)*b) of the block's little-endian 32-bit words.
 * @module
 */

/** Bits needed to write `v` (0 for 0). */
export function bitWidth(v: number): number {
  return v === 0 ? 0 : 32 - Math.clz32(v);
}

/** The widest value among `values[start, start+n)`, as a bit count. */
export function maxBitWidth(values: Uint32Array, start: number, n: number): number {
  let or = 0;
  for (let i = start; i < start + n; i++) or |= values[i]!;
  return bitWidth(or >>> 0);
}

/** 32-bit words that `n` values of width `b` occupy. */
export function packedWords(n: number, b: number): number {
  return (n * b + 31) >>> 5;
}

/**
 * Packs `values[start, start+n)` at width `b` into `out` from word `outPos`; returns the words written.
 * `out` must be zero where it writes (fresh arrays are).
 */
export function pack(
  values: Uint32Array,
  start: number,
  n: number,
  b: number,
  out: Uint32Array,
  outPos: number,
): number {
  if (b === 0) return 0;
  let bit = 0;
  for (let i = 0; i < n; i++, bit += b) {
    const v = values[start + i]!;
    const w = outPos + (bit >>> 5);
    const shift = bit & 31;
    out[w] = (out[w]! | (v << shift)) >>> 0;
    // The value spills into the next word when it crosses a 32-bit boundary.
    if (shift + b > 32) out[w + 1] = (out[w + 1]! | (v >>> (32 - shift))) >>> 0;
  }
  return packedWords(n, b);
}

/** Unpacks `n` values of width `b` from `words` at word `pos` into `out[0, n)`. */
export function unpack(words: Uint32Array, pos: number, n: number, b: number, out: Uint32Array): void {
  if (b === 0) {
    out.fill(0, 0, n);
    return;
  }
  const mask = b === 32 ? 0xffffffff : (1 << b) - 1;
  let bit = 0;
  for (let i = 0; i < n; i++, bit += b) {
    const w = pos + (bit >>> 5);
    const shift = bit & 31;
    let v = words[w]! >>> shift;
    if (shift + b > 32) v |= words[w + 1]! << (32 - shift);
    out[i] = (v & mask) >>> 0;
  }
}

/**
 * Unpacks `n` gaps (each stored as `doc[i] - doc[i-1] - 1`) and turns them into doc ids following
 * `prev` (the previous block's last doc id, or -1 for a list's first block).
 */
export function unpackDocIds(
  words: Uint32Array,
  pos: number,
  n: number,
  b: number,
  prev: number,
  out: Uint32Array,
): void {
  if (b === 0) {
    for (let i = 0; i < n; i++) out[i] = ++prev;
    return;
  }
  const mask = b === 32 ? 0xffffffff : (1 << b) - 1;
  let bit = 0;
  for (let i = 0; i < n; i++, bit += b) {
    const w = pos + (bit >>> 5);
    const shift = bit & 31;
    let v = words[w]! >>> shift;
    if (shift + b > 32) v |= words[w + 1]! << (32 - shift);
    prev = prev + ((v & mask) >>> 0) + 1;
    out[i] = prev;
  }
}

/** A named block codec, resolved by the same name in index manifests, CLI flags and tests. */
export interface BlockCodec {
  readonly name: string;
  /** Largest block length. */
  readonly blockSize: number;
}

export const BP128: BlockCodec = { name: 'bp128', blockSize: 128 };

const CODECS: Record<string, BlockCodec> = { bp128: BP128 };

export function codecByName(name: string): BlockCodec {
  const c = CODECS[name];
  if (!c)
    throw new Error(
      `lion index: unknown posting codec '${name}'; hint: this build knows ${Object.keys(CODECS).join(', ')}`,
    );
  return c;
}
