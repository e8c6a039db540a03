/**
 * IEEE 754 half-precision conversion (Node 20 has no Float16Array). Round to nearest even; values
 * beyond the half range become ±Infinity.
 * @module
 */

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

export function toHalf(v: number): number {
  f32[0] = v;
  const x = u32[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0); // Inf / NaN
  let e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign; // underflow to zero
    mant |= 0x800000;
    const shift = 14 - e;
    let h = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rem > half || (rem === half && h & 1)) h++;
    return sign | h;
  }
  let h = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && h & 1)) h++; // may carry into the exponent: still correct
  e = h;
  return sign | e;
}

const TABLE = new Float32Array(65536);
for (let h = 0; h < 65536; h++) {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  TABLE[h] =
    exp === 0
      ? sign * mant * 2 ** -24
      : exp === 0x1f
        ? mant
          ? NaN
          : sign * Infinity
        : sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

/** Half bits → float, by table. */
export function fromHalf(h: number): number {
  return TABLE[h & 0xffff]!;
}

export function halfTable(): Float32Array {
  return TABLE;
}
