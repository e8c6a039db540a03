/**
 * Validation of CLI flag values: typed values out, `lion <cmd>: …; hint: …` errors for bad ones.
 * @module
 */

export function positiveInt(cmd: string, flag: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`lion ${cmd}: ${flag} must be a positive integer, got '${value}'; hint: e.g. ${flag} 32`);
  return n;
}

export function nonNegativeInt(cmd: string, flag: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`lion ${cmd}: ${flag} must be a non-negative integer, got '${value}'`);
  return n;
}
