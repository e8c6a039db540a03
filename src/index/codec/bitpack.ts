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
  if (n === BLOCK) {
    FULL_UNPACK[b]!(words, pos, prev, out);
    return;
  }
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

/** Values in a full block. */
const BLOCK = 128;

/**
 * The source of one full block's decoding at width b: 4 groups of 32 values, each group exactly b
 * words, every shift and mask a constant. `step(v)` is the code run for each gap v in order, after
 * `prev` has become its doc id.
 */
function fullBlockSource(b: number, step: string): string {
  const mask = b === 32 ? 0xffffffff : 2 ** b - 1;
  const lines = ['for (let g = 0; g < 4; g++) {'];
  for (let w = 0; w < b; w++) lines.push(`const w${w} = words[pos + ${w}];`);
  for (let i = 0; i < 32; i++) {
    const bit = i * b;
    const w = bit >>> 5;
    const sh = bit & 31;
    let v: string;
    if (b === 0) v = '0';
    else if (b === 32) v = `(w${w} >>> 0)`;
    else {
      v = sh === 0 ? `w${w}` : `(w${w} >>> ${sh})`;
      if (sh + b > 32) v = `(${v} | (w${w + 1} << ${32 - sh}))`;
      // a value that ends exactly at a word's top needs no mask: >>> already cleared the rest
      if (sh === 0 || sh + b !== 32) v = `(${v} & ${mask})`;
    }
    lines.push(`prev = prev + ${v} + 1; ${step}`);
  }
  lines.push(`pos += ${b};`, '}', 'return prev;');
  return lines.join('\n');
}

type FullUnpack = (words: Uint32Array, pos: number, prev: number, out: Uint32Array) => number;
/** Scores an accumulator can be filled from: integer impacts of a file index, float weights in memory. */
export type Weights = Uint8Array | Uint16Array | Float32Array;
type FullAccumulate = (
  words: Uint32Array,
  pos: number,
  prev: number,
  acc: Float64Array,
  weights: Weights,
  p: number,
  w: number,
) => number;

/*
 * Full blocks are decoded by code generated once per width, with constant shifts and no branches:
 * measured 2.4× faster than the loop of unpackDocIds (0.95 against 2.24 ns per posting, 300k documents,
 * 1.7M postings per query); fused with the accumulation, the scan is 2.1× faster again than decoding
 * into a buffer and then accumulating (2.9 against 6.1 ms per query; 3–4× the generic loop's scan). Generated rather than written out: 33 widths × 128 values from one template, so
 * the bit layout still has one home (`fullBlockSource`, checked against `unpack` at every width).
 */
const FULL_UNPACK: FullUnpack[] = Array.from(
  { length: 33 },
  (_, b) =>
    new Function('words', 'pos', 'prev', 'out', `let o = 0;\n${fullBlockSource(b, 'out[o++] = prev;')}`) as FullUnpack,
);
const FULL_ACCUMULATE: FullAccumulate[] = Array.from(
  { length: 33 },
  (_, b) =>
    new Function(
      'words',
      'pos',
      'prev',
      'acc',
      'weights',
      'p',
      'w',
      fullBlockSource(b, 'acc[prev] = acc[prev] + w * weights[p++];'),
    ) as FullAccumulate,
);

/**
 * Decodes the `n` doc ids of one block (as `unpackDocIds`) and adds w × weights[p + i] into acc at
 * each; `buf` holds a partial block's ids. Returns the block's last doc id. The exhaustive scan's inner
 * loop: the same products and additions, in the same order, as decoding first and adding after.
 */
export function accumulateBlock(
  words: Uint32Array,
  pos: number,
  n: number,
  b: number,
  prev: number,
  acc: Float64Array,
  weights: Weights,
  p: number,
  w: number,
  buf: Uint32Array,
): number {
  if (n === BLOCK) return FULL_ACCUMULATE[b]!(words, pos, prev, acc, weights, p, w);
  unpackDocIds(words, pos, n, b, prev, buf);
  for (let i = 0; i < n; i++) {
    const doc = buf[i]!;
    acc[doc] = acc[doc]! + w * weights[p + i]!;
  }
  return n > 0 ? buf[n - 1]! : prev;
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
