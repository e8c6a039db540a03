/**
 * TensorSource: named tensors read one at a time from a checkpoint (a safetensors file, a sharded
 * checkpoint, a torch `.bin`, a llama2.c file), so that a multi-GB model is never held twice.
 * @module
 */
import type { RawDType, RawTensor } from './raw-tensor.ts';

/** What a checkpoint says about one tensor, without reading it. */
export interface TensorInfo {
  dtype: RawDType;
  shape: number[];
  /** Bytes the tensor takes once read (numel × dtype size). */
  byteLength: number;
}

export interface TensorSource {
  /** The file or folder it reads. */
  readonly path: string;
  /** Tensor names, in file order. */
  names(): string[];
  has(name: string): boolean;
  /** dtype and shape without reading data; throws a FormatError naming the tensor when absent. */
  info(name: string): TensorInfo;
  /** Reads one tensor from disk into its own buffer (`data.byteOffset` is 0). */
  read(name: string): RawTensor;
  /**
   * Reads bytes [offset, offset + into.byteLength) of one tensor's data into `into` and returns it,
   * so that a loader can stream a multi-GB tensor through one small reused buffer instead of holding
   * it whole in JS memory (where the GC frees it late). Sources that cannot do this leave it out;
   * callers fall back to read().
   */
  readBytes?(name: string, offset: number, into: Uint8Array): Uint8Array;
  /** Reads tensors lazily, one per step, in file order. */
  entries(): IterableIterator<[string, RawTensor]>;
}

/** Tensors given to a writer: a Map, a plain record, or any iterable of pairs. */
export type TensorEntries = ReadonlyMap<string, RawTensor> | Readonly<Record<string, RawTensor>> | Iterable<readonly [string, RawTensor]>;

/** Normalises TensorEntries to an array of pairs. */
export function tensorEntries(t: TensorEntries): [string, RawTensor][] {
  if (t instanceof Map) return [...(t as ReadonlyMap<string, RawTensor>).entries()];
  if (typeof (t as Iterable<unknown>)[Symbol.iterator] === 'function') return [...(t as Iterable<readonly [string, RawTensor]>)].map(([k, v]) => [k, v]);
  return Object.entries(t as Readonly<Record<string, RawTensor>>);
}

/** Reads every tensor of a source into a Map (for small checkpoints and tests). */
export function readAll(source: TensorSource): Map<string, RawTensor> {
  return new Map(source.entries());
}
