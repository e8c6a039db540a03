/**
 * The global random generator: seeding, and its state for exact resume.
 * @module
 */
import { native } from './native.ts';
import { Tensor } from './tensor.ts';

export function manualSeed(seed: number): void {
  if (!Number.isSafeInteger(seed) || seed < 0) throw new Error(`lion.manualSeed: seed must be a non-negative integer, got ${seed}`);
  native().manualSeed(seed);
}

/** The CPU generator's full state as a u8 tensor (save it in a checkpoint). */
export function getRngState(): Tensor {
  return new Tensor(native().rngState());
}

export function setRngState(state: Tensor): void {
  native().setRngState(state.handle);
}
