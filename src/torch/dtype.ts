/**
 * Element types. The numeric codes are shared with native/src/registry.h (DtypeCode); keep the order.
 * @module
 */

export const DTYPES = ['f32', 'f16', 'bf16', 'f64', 'i64', 'i32', 'u8', 'bool'] as const;
export type DType = (typeof DTYPES)[number];
export type FloatDType = 'f32' | 'f16' | 'bf16' | 'f64';

export function dtypeCode(d: DType): number {
  const code = DTYPES.indexOf(d);
  if (code < 0) throw new Error(`lion: unknown dtype '${String(d)}'; expected one of ${DTYPES.join(', ')}`);
  return code;
}

export function dtypeFromCode(code: number): DType {
  const d = DTYPES[code];
  if (d === undefined) throw new Error(`lion: unknown dtype code ${code}`);
  return d;
}

/** The typed array that holds each dtype's elements (f16 and bf16 travel as raw 16-bit patterns). */
export interface TypedArrayOf {
  f32: Float32Array;
  f16: Uint16Array;
  bf16: Uint16Array;
  f64: Float64Array;
  i64: BigInt64Array;
  i32: Int32Array;
  u8: Uint8Array;
  bool: Uint8Array;
}
export type AnyTypedArray = TypedArrayOf[DType];

export const BYTES_PER_ELEMENT: Record<DType, number> = { f32: 4, f16: 2, bf16: 2, f64: 8, i64: 8, i32: 4, u8: 1, bool: 1 };

export function isFloat(d: DType): d is FloatDType {
  return d === 'f32' || d === 'f16' || d === 'bf16' || d === 'f64';
}
