/**
 * Lucene's one-byte document-length norms (`SmallFloat.intToByte4` / `byte4ToInt`). Lucene's
 * BM25Similarity stores each field length lossily in one byte — exact below 24, then 4 significant
 * bits — and scores with the decoded length. Reproducing it keeps Lion's BM25 scores equal to
 * Lucene's (and Anserini's), not just close.
 * @module
 */

/** longToInt4: a 4-bit mantissa float with an implicit leading 1, in an int. */
function longToInt4(i: number): number {
  const numBits = i === 0 ? 0 : Math.floor(Math.log2(i)) + 1;
  if (numBits < 4) return i; // subnormal
  const shift = numBits - 4;
  let encoded = Math.floor(i / 2 ** shift) & 0x07; // drop the implicit bit
  encoded |= (shift + 1) << 3;
  return encoded;
}

function int4ToLong(i: number): number {
  const bits = i & 0x07;
  const shift = (i >>> 3) - 1;
  return shift === -1 ? bits : (bits | 0x08) * 2 ** shift;
}

/** Values below this are stored exactly: 255 - longToInt4(Integer.MAX_VALUE) = 24. */
const NUM_FREE_VALUES = 255 - longToInt4(2 ** 31 - 1);

/** Encodes a field length (a non-negative int) into Lucene's norm byte. */
export function intToByte4(i: number): number {
  if (i < NUM_FREE_VALUES) return i;
  return NUM_FREE_VALUES + longToInt4(i - NUM_FREE_VALUES);
}

/** Decodes a norm byte back to the (rounded-down) length Lucene scores with. */
export function byte4ToInt(b: number): number {
  if (b < NUM_FREE_VALUES) return b;
  return NUM_FREE_VALUES + int4ToLong(b - NUM_FREE_VALUES);
}
