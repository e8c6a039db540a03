/**
 * Validation of CLI flag values: typed values out, `lion <cmd>: …; hint: …` errors for bad ones. A bad
 * flag value is a usage error (exit 2, like an unknown flag or a bad choice); see main.ts.
 * @module
 */

/** A mistake in how a command was called (exit status 2), as opposed to a failure while running (1). */
export class UsageError extends Error {
  override name = 'UsageError';
  readonly exitCode = 2;
}

function usage(cmd: string, flag: string, what: string, value: string, hint?: string): UsageError {
  return new UsageError(`lion ${cmd}: ${flag} must be ${what}, got '${value}'${hint ? `; hint: ${hint}` : ''}`);
}

export function positiveInt(cmd: string, flag: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw usage(cmd, flag, 'a positive integer', value, `e.g. ${flag} 32`);
  return n;
}

export function nonNegativeInt(cmd: string, flag: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw usage(cmd, flag, 'a non-negative integer', value, `e.g. ${flag} 0`);
  return n;
}

/**
 * A finite number in a range: `[min, max]`, with either end open when `minOpen` / `maxOpen` is set
 * (e.g. dropout in [0, 1): `numberIn(cmd, '--lora-dropout', v, { min: 0, max: 1, maxOpen: true })`).
 */
export function numberIn(
  cmd: string,
  flag: string,
  value: string,
  r: { min?: number; max?: number; minOpen?: boolean; maxOpen?: boolean; hint?: string },
): number {
  const n = value.trim() === '' ? NaN : Number(value);
  const lo = r.min === undefined || (r.minOpen ? n > r.min : n >= r.min);
  const hi = r.max === undefined || (r.maxOpen ? n < r.max : n <= r.max);
  if (!Number.isFinite(n) || !lo || !hi) {
    const range =
      r.min !== undefined && r.max !== undefined
        ? `a number in ${r.minOpen ? '(' : '['}${r.min}, ${r.max}${r.maxOpen ? ')' : ']'}`
        : r.min !== undefined
          ? `a number ${r.minOpen ? '>' : '>='} ${r.min}`
          : r.max !== undefined
            ? `a number ${r.maxOpen ? '<' : '<='} ${r.max}`
            : 'a finite number';
    throw usage(cmd, flag, range, value, r.hint);
  }
  return n;
}

export function nonNegativeNumber(cmd: string, flag: string, value: string): number {
  return numberIn(cmd, flag, value, { min: 0 });
}

export function positiveNumber(cmd: string, flag: string, value: string, hint?: string): number {
  return numberIn(cmd, flag, value, { min: 0, minOpen: true, hint });
}

/** A gradient-clipping threshold: a number > 0, or "none" (no clipping: Infinity). */
export function clipNorm(cmd: string, value: string): number {
  if (value === 'none') return Infinity;
  return positiveNumber(cmd, '--clip', value, "0 would zero every update; give a norm such as 1, or 'none' to turn clipping off");
}

/** Refuses a combination of flags that cannot be used together (or one that needs another). */
export function usageError(cmd: string, problem: string, hint?: string): UsageError {
  return new UsageError(`lion ${cmd}: ${problem}${hint ? `; hint: ${hint}` : ''}`);
}

