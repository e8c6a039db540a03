/**
 * The global random generator: seeding, and its state for exact resume.
 * @module
 */
import { native } from './native.ts';
import { Tensor, type Device } from './tensor.ts';

export function manualSeed(seed: number): void {
  if (!Number.isSafeInteger(seed) || seed < 0) throw new Error(`lion.manualSeed: seed must be a non-negative integer, got ${seed}`);
  native().manualSeed(seed);
}

/**
 * A device's default generator state as a u8 tensor on the CPU (save it in a checkpoint): the CPU's
 * Mersenne Twister by default, or a GPU's Philox seed and offset for 'cuda:i'.
 */
export function getRngState(device: Device = 'cpu'): Tensor {
  return new Tensor(native().rngState(device));
}

export function setRngState(state: Tensor, device: Device = 'cpu'): void {
  native().setRngState(state.handle, device);
}
