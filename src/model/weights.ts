/**
 * RawTensor (bytes from a checkpoint file) <-> libtorch Tensor.
 * @module
 */
import { Tensor, type DType, type Device } from '../torch/index.ts';
import type { RawDType, RawTensor } from '../formats/raw-tensor.ts';

const TO_LION: Partial<Record<RawDType, DType>> = { F32: 'f32', F16: 'f16', BF16: 'bf16', F64: 'f64', I64: 'i64', I32: 'i32', U8: 'u8', BOOL: 'bool' };
const TO_RAW: Record<DType, RawDType> = { f32: 'F32', f16: 'F16', bf16: 'BF16', f64: 'F64', i64: 'I64', i32: 'I32', u8: 'U8', bool: 'BOOL' };

function typedView(dt: DType, bytes: Uint8Array): Float32Array | Float64Array | Uint16Array | BigInt64Array | Int32Array | Uint8Array {
  // Typed arrays need aligned offsets; copy the rare unaligned view.
  const size = { f32: 4, f16: 2, bf16: 2, f64: 8, i64: 8, i32: 4, u8: 1, bool: 1 }[dt];
  const b = bytes.byteOffset % size === 0 ? bytes : bytes.slice();
  const n = b.byteLength / size;
  switch (dt) {
    case 'f32': return new Float32Array(b.buffer, b.byteOffset, n);
    case 'f64': return new Float64Array(b.buffer, b.byteOffset, n);
    case 'f16':
    case 'bf16': return new Uint16Array(b.buffer, b.byteOffset, n);
    case 'i64': return new BigInt64Array(b.buffer, b.byteOffset, n);
    case 'i32': return new Int32Array(b.buffer, b.byteOffset, n);
    case 'u8':
    case 'bool': return new Uint8Array(b.buffer, b.byteOffset, n);
  }
}

/** Where and how a loaded tensor lives: its dtype (default: the file's) and device (default: cpu). */
export interface Placement {
  dtype?: DType;
  device?: Device;
}

/**
 * A checkpoint tensor as a libtorch tensor on `to.device`, converted to `to.dtype` when given, in one
 * copy from the file's bytes (no intermediate f32 or host tensor). `name` is for errors.
 */
export function rawToTensor(raw: RawTensor, name: string, to: DType | Placement = {}): Tensor {
  const { dtype, device } = typeof to === 'string' ? { dtype: to, device: undefined } : to;
  const dt = TO_LION[raw.dtype];
  if (!dt) throw new Error(`lion: tensor '${name}' has dtype ${raw.dtype}, which Lion does not load`);
  const view = typedView(dt, raw.data);
  const bad = firstNonFinite(dt, view);
  if (bad >= 0)
    throw new Error(`lion: tensor '${name}' holds a NaN or infinite value (element ${bad} of ${view.length}); hint: the weights are corrupted or the training that wrote them diverged: use another checkpoint or copy the file again`);
  return Tensor.from(view, raw.shape, dt, device ?? 'cpu', dtype ?? dt);
}

/**
 * The index of the first NaN or ±Inf in a float tensor's values, or -1. Checked at load because one
 * such weight turns every output into NaN (empty sparse vectors, null dense ones) without an error.
 */
export function firstNonFinite(dt: DType, v: ReturnType<typeof typedView>): number {
  if (dt === 'f32' || dt === 'f64') {
    const a = v as Float32Array | Float64Array;
    for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i]!)) return i;
  } else if (dt === 'f16' || dt === 'bf16') {
    // All exponent bits set is Inf or NaN in both 16-bit formats.
    const exp = dt === 'f16' ? 0x7c00 : 0x7f80;
    const a = v as Uint16Array;
    for (let i = 0; i < a.length; i++) if ((a[i]! & exp) === exp) return i;
  }
  return -1;
}

/** A libtorch tensor as checkpoint bytes (copied to the CPU). */
export function tensorToRaw(t: Tensor): RawTensor {
  const arr = t.toArray();
  return { dtype: TO_RAW[t.dtype], shape: t.shape, data: new Uint8Array(arr.buffer, arr.byteOffset, arr.byteLength) };
}
