/**
 * Devices: parsing a device name once at the edge, and refusing one the linked libtorch cannot use.
 * @module
 */
import { native } from './native.ts';
import type { Device } from './tensor.ts';

/** A device the linked libtorch cannot use: a usage error (the CLI exits 2). */
export class DeviceUnavailableError extends Error {
  override name = 'DeviceUnavailableError';
  readonly exitCode = 2;
}

const DEVICE = /^(cpu|cuda|cuda:(0|[1-9]\d*))$/;

/** 'cpu', 'cuda' or 'cuda:N' as a Device, or null for anything else. */
export function parseDevice(s: string): Device | null {
  return DEVICE.test(s) ? (s as Device) : null;
}

/** 'cpu' for the CPU, 'cuda' for any GPU (autocast and RNG speak of device types, not indices). */
export function deviceType(d: Device): 'cpu' | 'cuda' {
  return d === 'cpu' ? 'cpu' : 'cuda';
}

/**
 * `device` as libtorch will name it ('cuda' becomes 'cuda:0'), after checking that the linked libtorch
 * has it. `who` starts the message ("lion encode").
 */
export function requireDevice(device: Device, who = 'lion'): Device {
  if (device === 'cpu') return device;
  const n = native();
  const have = n.devices();
  const want = device === 'cuda' ? 'cuda:0' : device;
  if (have.includes(want)) return want as Device;
  const how =
    'hint: build the addon against a CUDA libtorch (LIBTORCH=<python>/site-packages/torch, or an unpacked CUDA libtorch archive, then npm run build:native) on a machine with an NVIDIA driver; `lion doctor` lists the devices';
  if (!n.cudaBuild()) {
    throw new DeviceUnavailableError(`${who}: --device ${device} needs CUDA, but the linked libtorch ${n.version()} was built without CUDA (devices: ${have.join(', ')}); ${how}`);
  }
  throw new DeviceUnavailableError(`${who}: --device ${device}: CUDA libtorch sees no such GPU (devices: ${have.join(', ')}); ${how}`);
}
