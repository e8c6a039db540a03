/**
 * Intra-op threads and devices.
 * @module
 */
import { native } from './native.ts';

export function getNumThreads(): number {
  return native().getNumThreads();
}
/** libtorch's intra-op (OpenMP) threads; Lion sets the core count at load (LION_NUM_THREADS overrides). */
export function setNumThreads(n: number): void {
  native().setNumThreads(n);
}
/** 'cpu', plus 'cuda:i' for each GPU the linked libtorch can use. */
export function devices(): string[] {
  return native().devices();
}
