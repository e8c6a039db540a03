/**
 * Validation of CLI flag values: typed values out, `lion <cmd>: …; hint: …` errors for bad ones. A bad
 * flag value is a usage error (exit 2, like an unknown flag or a bad choice); see main.ts.
 * @module
 */
import { Option, type Command } from 'commander';
import { DeviceUnavailableError, parseDevice, requireDevice, type Device } from '../torch/index.ts';

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

// ---- where a model runs: --device, --dtype, --grad-checkpointing ------------------------------------

/** Weight dtypes a command can load a model in. */
export const WEIGHT_DTYPES = ['f32', 'bf16', 'f16'] as const;
export type WeightDType = (typeof WEIGHT_DTYPES)[number];

/** As commander hands them over; absent fields (library callers, tests) mean cpu and f32. */
export interface PlacementFlags {
  device?: string;
  /** --dtype, or --model-dtype on commands whose --dtype means something else (index: storage type). */
  dtype?: string;
  modelDtype?: string;
  gradCheckpointing?: boolean;
}

/** Where and in what precision a command's model runs, validated (the device checked against libtorch). */
export interface Placement {
  device: Device;
  dtype: WeightDType;
}

/**
 * Adds --device and --dtype to a command that runs a model (and --grad-checkpointing when it trains).
 * One definition, so every model command spells and documents them the same way. `dtypeFlag` renames
 * --dtype where a command already uses that name (`lion index --dtype` is the dense storage type).
 */
export function withPlacement(c: Command, o: { training?: boolean; dtypeFlag?: '--dtype' | '--model-dtype'; what?: string } = {}): Command {
  const what = o.what ? ` (${o.what})` : '';
  c.option('--device <d>', `cpu, cuda or cuda:N: where the model${what} runs; \`lion doctor\` lists devices`, 'cpu');
  c.addOption(
    new Option(`${o.dtypeFlag ?? '--dtype'} <t>`, o.training ? 'dtype of the base weights (LoRA weights and optimizer state stay f32)' : `dtype the weights${what} are loaded in`)
      .choices([...WEIGHT_DTYPES])
      .default('f32'),
  );
  if (o.training) c.option('--grad-checkpointing', 'recompute each decoder layer in the backward pass instead of keeping its activations (less memory, one more forward)');
  return c;
}

/** --bf16 on commands that encode: the paper's inference precision over --dtype f32 weights. */
export const BF16_INFERENCE_HELP = 'bf16 autocast over the loaded weights; with f32 weights this is the paper\'s inference precision (dense queries stay pure f32)';

/** Validates --device and --dtype; a device the linked libtorch lacks is a usage error naming CUDA. */
export function placement(cmd: string, f: PlacementFlags): Placement {
  const device = parseDevice(f.device ?? 'cpu');
  const dtypeFlag = f.modelDtype !== undefined ? '--model-dtype' : '--dtype';
  const dtype = f.modelDtype ?? f.dtype ?? 'f32';
  if (device === null) throw usage(cmd, '--device', "'cpu', 'cuda' or 'cuda:N'", f.device ?? '', '`lion doctor` lists the devices this build can use');
  if (!(WEIGHT_DTYPES as readonly string[]).includes(dtype)) throw usage(cmd, dtypeFlag, WEIGHT_DTYPES.join(', '), dtype);
  try {
    return { device: requireDevice(device, `lion ${cmd}`), dtype: dtype as WeightDType };
  } catch (e) {
    if (e instanceof DeviceUnavailableError) throw new UsageError(e.message);
    throw e;
  }
}
