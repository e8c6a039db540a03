/**
 * RawTensor: a tensor as bytes, the currency between file formats and the model code.
 *
 * The format readers stay free of libtorch; the model turns a RawTensor into a libtorch tensor
 * itself. Bytes are little-endian, row-major and contiguous. `data` may be a view into a larger
 * buffer (check `byteOffset`), so copy before handing it to code that assumes offset 0.
 * @module
 */

/** Element types, spelled as safetensors spells them. */
export type RawDType = 'F32' | 'F16' | 'BF16' | 'F64' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';

/** A tensor as contiguous little-endian bytes. */
export interface RawTensor {
  dtype: RawDType;
  shape: number[];
  data: Uint8Array;
}

export const RAW_DTYPES: readonly RawDType[] = ['F32', 'F16', 'BF16', 'F64', 'I64', 'I32', 'I16', 'I8', 'U8', 'BOOL'];

/** Bytes per element of each dtype. */
export const RAW_DTYPE_BYTES: Readonly<Record<RawDType, number>> = {
  F32: 4, F16: 2, BF16: 2, F64: 8, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1,
};

export function isRawDType(s: unknown): s is RawDType {
  return typeof s === 'string' && (RAW_DTYPES as readonly string[]).includes(s);
}

/** Number of elements of a shape (1 for a scalar, shape []). */
export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Byte size of a tensor of this dtype and shape. */
export function byteSize(dtype: RawDType, shape: readonly number[]): number {
  return numel(shape) * RAW_DTYPE_BYTES[dtype];
}

// One shared scratch word for the float bit conversions below.
const scratch = new DataView(new ArrayBuffer(4));

/** f32 → bf16 bits, rounding to nearest even (as torch does); NaN stays a quiet NaN. */
export function f32ToBf16Bits(x: number): number {
  scratch.setFloat32(0, x, true);
  const bits = scratch.getUint32(0, true);
  if ((bits & 0x7f800000) === 0x7f800000 && (bits & 0x007fffff) !== 0) return ((bits >>> 16) | 0x0040) & 0xffff;
  const rounding = 0x7fff + ((bits >>> 16) & 1);
  return ((bits + rounding) >>> 16) & 0xffff;
}

/** bf16 bits → f32 (exact). */
export function bf16BitsToF32(b: number): number {
  scratch.setUint32(0, (b & 0xffff) << 16, true);
  return scratch.getFloat32(0, true);
}

/** f32 → IEEE half bits, round to nearest even, overflow to ±Inf, subnormals kept. */
export function f32ToF16Bits(x: number): number {
  scratch.setFloat32(0, x, true);
  const bits = scratch.getUint32(0, true);
  const sign = (bits >>> 16) & 0x8000;
  const exp = (bits >>> 23) & 0xff;
  const mant = bits & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant !== 0 ? 0x200 : 0);
  let e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    // Subnormal half (or zero): shift the implicit-1 mantissa right and round to nearest even.
    if (e < -10) return sign;
    const m = mant | 0x800000;
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    let r = m >>> shift;
    const rest = m & ((1 << shift) - 1);
    if (rest > half || (rest === half && (r & 1) === 1)) r++;
    return sign | r;
  }
  let r = mant >>> 13;
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && (r & 1) === 1)) {
    r++;
    if (r === 0x400) {
      r = 0;
      e++;
      if (e >= 0x1f) return sign | 0x7c00;
    }
  }
  return sign | (e << 10) | r;
}

/** IEEE half bits → f32 (exact). */
export function f16BitsToF32(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant ? NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

/** A RawTensor of dtype F32 from numbers (copied). */
export function rawFromF32(values: ArrayLike<number>, shape: readonly number[]): RawTensor {
  checkCount(values.length, shape);
  const f = Float32Array.from(values);
  return { dtype: 'F32', shape: [...shape], data: new Uint8Array(f.buffer) };
}

/** A RawTensor of a float dtype (F32, F16, BF16, F64) from numbers, rounding as torch does. */
export function rawFromNumbers(values: ArrayLike<number>, shape: readonly number[], dtype: 'F32' | 'F16' | 'BF16' | 'F64'): RawTensor {
  checkCount(values.length, shape);
  const n = values.length;
  const data = new Uint8Array(n * RAW_DTYPE_BYTES[dtype]);
  const view = new DataView(data.buffer);
  for (let i = 0; i < n; i++) {
    const v = values[i] as number;
    if (dtype === 'F32') view.setFloat32(i * 4, v, true);
    else if (dtype === 'F64') view.setFloat64(i * 8, v, true);
    else if (dtype === 'BF16') view.setUint16(i * 2, f32ToBf16Bits(v), true);
    else view.setUint16(i * 2, f32ToF16Bits(v), true);
  }
  return { dtype, shape: [...shape], data };
}

/** Every element as a JS number (floats widened to f32 values, ints as numbers; I64 beyond 2^53 loses precision). */
export function rawToNumbers(t: RawTensor): Float64Array {
  const n = numel(t.shape);
  const need = n * RAW_DTYPE_BYTES[t.dtype];
  if (t.data.byteLength !== need) throw new Error(`lion: tensor data has ${t.data.byteLength} bytes, its ${t.dtype}[${t.shape.join(', ')}] needs ${need}`);
  const v = new DataView(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    switch (t.dtype) {
      case 'F32': out[i] = v.getFloat32(i * 4, true); break;
      case 'F64': out[i] = v.getFloat64(i * 8, true); break;
      case 'F16': out[i] = f16BitsToF32(v.getUint16(i * 2, true)); break;
      case 'BF16': out[i] = bf16BitsToF32(v.getUint16(i * 2, true)); break;
      case 'I64': out[i] = Number(v.getBigInt64(i * 8, true)); break;
      case 'I32': out[i] = v.getInt32(i * 4, true); break;
      case 'I16': out[i] = v.getInt16(i * 2, true); break;
      case 'I8': out[i] = v.getInt8(i); break;
      case 'U8': case 'BOOL': out[i] = v.getUint8(i); break;
    }
  }
  return out;
}

/** The elements of a float tensor as a fresh Float32Array (F16/BF16/F64 converted). */
export function rawToFloat32(t: RawTensor): Float32Array {
  if (t.dtype === 'F32') {
    // Copy: `data` may be unaligned or a view into a larger buffer.
    const out = new Float32Array(numel(t.shape));
    new Uint8Array(out.buffer).set(t.data.subarray(0, out.byteLength));
    if (t.data.byteLength !== out.byteLength) throw new Error(`lion: tensor data has ${t.data.byteLength} bytes, its F32[${t.shape.join(', ')}] needs ${out.byteLength}`);
    return out;
  }
  if (t.dtype !== 'F16' && t.dtype !== 'BF16' && t.dtype !== 'F64') throw new Error(`lion: rawToFloat32 needs a float tensor, got ${t.dtype}`);
  return Float32Array.from(rawToNumbers(t));
}

/** True when both tensors have the same dtype, shape and bytes. */
export function rawEqual(a: RawTensor, b: RawTensor): boolean {
  if (a.dtype !== b.dtype || a.shape.length !== b.shape.length || a.shape.some((d, i) => d !== b.shape[i])) return false;
  if (a.data.byteLength !== b.data.byteLength) return false;
  for (let i = 0; i < a.data.byteLength; i++) if (a.data[i] !== b.data[i]) return false;
  return true;
}

function checkCount(n: number, shape: readonly number[]): void {
  if (n !== numel(shape)) throw new Error(`lion: ${n} values do not fill shape [${shape.join(', ')}] (${numel(shape)} elements)`);
}
