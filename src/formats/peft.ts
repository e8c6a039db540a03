/**
 * PEFT LoRA adapters: `adapter_config.json` plus `adapter_model.safetensors` or `adapter_model.bin`
 * (torch.save; what the released Lion checkpoints ship), read and written.
 *
 * The released adapters use two key layouts (docs/paper.md §11), after the module they wrap:
 * - 'sparse' (Lion-SP, `LlamaBiForMNTP`, which holds the Llama body as `.model`):
 *   `base_model.model.model.layers.{i}.{self_attn|mlp}.{proj}.lora_{A|B}.weight`
 * - 'dense' (Lion-DS, `LlamaBiModel`, the body itself): `base_model.model.layers.{i}...`
 * Both normalise to one form: module path `model.layers.{i}.self_attn.q_proj` → { A [r, in], B [out, r] },
 * and the layout is kept so that an adapter can be written back as it came.
 * @module
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { FormatError } from './errors.ts';
import { writeBytesAtomic } from './file-io.ts';
import type { LlamaConfig } from './hf-config.ts';
import type { RawTensor } from './raw-tensor.ts';
import { SafetensorsFile, writeSafetensors } from './safetensors.ts';
import { readAll, type TensorSource } from './tensor-source.ts';
import { TorchBinFile, writeTorchStateDict } from './torch-bin.ts';

export type PeftLayout = 'sparse' | 'dense';

/** The Llama linears LoRA can wrap, by their short names. */
export const LORA_TARGETS = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'] as const;
export type LoraTarget = (typeof LORA_TARGETS)[number];

/** adapter_config.json, validated; unknown fields are kept as they were. */
export interface LoraConfig {
  peft_type: 'LORA';
  r: number;
  lora_alpha: number;
  lora_dropout: number;
  /** Short module names, or one regular expression (PEFT's full-match form). */
  target_modules: string[] | string;
  base_model_name_or_path: string | null;
  /** `{ base_model_class: 'LlamaBiForMNTP' | 'LlamaBiModel' | ..., parent_library }` or null. */
  auto_mapping: { base_model_class: string; parent_library?: string } | null;
  bias: 'none';
  fan_in_fan_out: false;
  /** Scaling alpha/sqrt(r) instead of alpha/r. */
  use_rslora: boolean;
  task_type: string | null;
  inference_mode: boolean;
  /** Other fields of the file, written back unchanged. */
  [extra: string]: unknown;
}

/** One wrapped linear: A [r, in_features], B [out_features, r]. */
export interface LoraPair {
  A: RawTensor;
  B: RawTensor;
}

export interface PeftAdapter {
  config: LoraConfig;
  /** The key layout the weights used. */
  layout: PeftLayout;
  /** Module path (`model.layers.3.self_attn.q_proj`) → its LoRA pair, sorted by layer then name. */
  modules: Map<string, LoraPair>;
  /** The weights file read. */
  file: string;
}

const configSchema = z.looseObject({
  peft_type: z.string().optional(),
  r: z.number().int().positive(),
  lora_alpha: z.number().positive(),
  lora_dropout: z.number().min(0).lt(1).optional(),
  target_modules: z.union([z.array(z.string()).min(1), z.string().min(1)]),
  base_model_name_or_path: z.string().nullable().optional(),
  auto_mapping: z.looseObject({ base_model_class: z.string(), parent_library: z.string().optional() }).nullable().optional(),
  bias: z.string().optional(),
  fan_in_fan_out: z.boolean().optional(),
  use_rslora: z.boolean().optional(),
  use_dora: z.boolean().optional(),
  rank_pattern: z.record(z.string(), z.unknown()).nullable().optional(),
  alpha_pattern: z.record(z.string(), z.unknown()).nullable().optional(),
  modules_to_save: z.array(z.string()).nullable().optional(),
  task_type: z.string().nullable().optional(),
  inference_mode: z.boolean().optional(),
});

/** Validates an adapter_config.json object. @throws FormatError naming the file and key. */
export function parseLoraConfig(json: unknown, file: string): LoraConfig {
  const parsed = configSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new FormatError(file, `invalid adapter config: ${issue?.message ?? 'unknown problem'}`, issue === undefined ? {} : { key: issue.path.join('.') });
  }
  const c = parsed.data;
  const bad = (key: string, what: string): FormatError => new FormatError(file, what, { key });
  if (c.peft_type !== undefined && c.peft_type !== 'LORA') throw bad('peft_type', `unsupported peft_type '${c.peft_type}'; only LORA adapters are supported`);
  if (c.bias !== undefined && c.bias !== 'none') throw bad('bias', `unsupported bias '${c.bias}'; only 'none'`);
  if (c.fan_in_fan_out === true) throw bad('fan_in_fan_out', 'fan_in_fan_out adapters (GPT-2 Conv1D) are not supported');
  if (c.use_dora === true) throw bad('use_dora', 'DoRA adapters are not supported');
  if (c.rank_pattern != null && Object.keys(c.rank_pattern).length > 0) throw bad('rank_pattern', 'per-module ranks (rank_pattern) are not supported');
  if (c.alpha_pattern != null && Object.keys(c.alpha_pattern).length > 0) throw bad('alpha_pattern', 'per-module alphas (alpha_pattern) are not supported');
  if (c.modules_to_save != null && c.modules_to_save.length > 0) throw bad('modules_to_save', 'adapters that save whole modules (modules_to_save) are not supported');
  if (Array.isArray(c.target_modules)) {
    const unknown = c.target_modules.find((m) => !(LORA_TARGETS as readonly string[]).includes(m));
    if (unknown !== undefined) throw bad('target_modules', `unsupported target module '${unknown}'; LoRA may wrap ${LORA_TARGETS.join(', ')}`);
  }
  return {
    ...c,
    peft_type: 'LORA',
    r: c.r,
    lora_alpha: c.lora_alpha,
    lora_dropout: c.lora_dropout ?? 0,
    target_modules: c.target_modules,
    base_model_name_or_path: c.base_model_name_or_path ?? null,
    auto_mapping: c.auto_mapping == null ? null : { ...c.auto_mapping },
    bias: 'none',
    fan_in_fan_out: false,
    use_rslora: c.use_rslora ?? false,
    task_type: c.task_type ?? null,
    inference_mode: c.inference_mode ?? true,
  };
}

/** Reads adapter_config.json from an adapter folder (or the file itself). */
export function readLoraConfig(pathOrDir: string): LoraConfig {
  const file = pathOrDir.endsWith('.json') ? pathOrDir : join(pathOrDir, 'adapter_config.json');
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new FormatError(file, `cannot read adapter config: ${(e as Error).message}`, { cause: e, hint: 'a PEFT adapter folder holds adapter_config.json' });
  }
  return parseLoraConfig(json, file);
}

/** The LoRA scale: alpha / r, or alpha / sqrt(r) with rsLoRA. */
export function loraScaling(c: Pick<LoraConfig, 'r' | 'lora_alpha' | 'use_rslora'>): number {
  return c.use_rslora ? c.lora_alpha / Math.sqrt(c.r) : c.lora_alpha / c.r;
}

/** The layout Lion's two released base classes imply, or null for another class. */
export function layoutOfBaseClass(baseModelClass: string | undefined): PeftLayout | null {
  return baseModelClass === 'LlamaBiForMNTP' ? 'sparse' : baseModelClass === 'LlamaBiModel' ? 'dense' : null;
}

const KEY = /^base_model\.model\.(model\.)?(layers\.(\d+)\.(?:self_attn\.(?:q|k|v|o)_proj|mlp\.(?:gate|up|down)_proj))\.lora_(A|B)(?:\.default)?\.weight$/;

/** Splits a PEFT weight key into module path, A/B and layout; null when it is not a Llama LoRA key. */
export function parsePeftKey(key: string): { module: string; layer: number; which: 'A' | 'B'; layout: PeftLayout } | null {
  const m = KEY.exec(key);
  if (m === null) return null;
  return { module: `model.${m[2] as string}`, layer: Number(m[3]), which: m[4] as 'A' | 'B', layout: m[1] === undefined ? 'dense' : 'sparse' };
}

/** The PEFT weight key of a module path in a layout (`model.layers.0.mlp.up_proj`, 'B', 'dense' → `base_model.model.layers.0.mlp.up_proj.lora_B.weight`). */
export function peftKey(module: string, which: 'A' | 'B', layout: PeftLayout): string {
  if (!/^model\.layers\.\d+\./.test(module)) throw new RangeError(`lion: '${module}' is not a Llama layer module path (model.layers.{i}....)`);
  const inner = layout === 'sparse' ? module : module.slice('model.'.length);
  return `base_model.model.${inner}.lora_${which}.weight`;
}

function moduleOrder(a: string, b: string): number {
  const la = Number(/layers\.(\d+)/.exec(a)?.[1]);
  const lb = Number(/layers\.(\d+)/.exec(b)?.[1]);
  return la - lb || (a < b ? -1 : a > b ? 1 : 0);
}

/**
 * Normalises the weights of an adapter file: every key must be a Llama LoRA key of one layout, each
 * module needs both A and B, 2-D float tensors whose rank matches `config.r` and each other.
 */
export function normalizeLoraWeights(source: TensorSource, config: LoraConfig, file: string): { layout: PeftLayout; modules: Map<string, LoraPair> } {
  const tensors = readAll(source);
  if (tensors.size === 0) throw new FormatError(file, 'adapter has no weights');
  let layout: PeftLayout | undefined;
  let firstKey = '';
  const halves = new Map<string, Partial<LoraPair>>();
  for (const [key, t] of tensors) {
    const k = parsePeftKey(key);
    if (k === null) throw new FormatError(file, 'unexpected key: not a LoRA weight of a Llama layer (base_model.model[.model].layers.{i}.{self_attn|mlp}.{proj}.lora_{A|B}.weight)', { key, keyKind: 'tensor' });
    if (layout === undefined) {
      layout = k.layout;
      firstKey = key;
    } else if (k.layout !== layout) {
      throw new FormatError(file, `mixes key layouts: '${firstKey}' is ${layout}, this one is ${k.layout}`, { key, keyKind: 'tensor' });
    }
    if (t.dtype !== 'F32' && t.dtype !== 'F16' && t.dtype !== 'BF16' && t.dtype !== 'F64') throw new FormatError(file, `LoRA weight has non-float dtype ${t.dtype}`, { key, keyKind: 'tensor' });
    if (t.shape.length !== 2) throw new FormatError(file, `LoRA weight must be 2-D, got shape [${t.shape.join(', ')}]`, { key, keyKind: 'tensor' });
    const rank = k.which === 'A' ? t.shape[0] : t.shape[1];
    if (rank !== config.r) throw new FormatError(file, `lora_${k.which} has rank ${rank} (shape [${t.shape.join(', ')}]) but adapter_config.json says r = ${config.r}`, { key, keyKind: 'tensor' });
    const short = k.module.slice(k.module.lastIndexOf('.') + 1);
    if (Array.isArray(config.target_modules) && !config.target_modules.includes(short)) {
      throw new FormatError(file, `weights for '${short}', which target_modules [${config.target_modules.join(', ')}] does not list`, { key, keyKind: 'tensor' });
    }
    const h = halves.get(k.module) ?? {};
    if (h[k.which] !== undefined) throw new FormatError(file, `lora_${k.which} of ${k.module} appears twice`, { key, keyKind: 'tensor' });
    h[k.which] = t;
    halves.set(k.module, h);
  }
  const modules = new Map<string, LoraPair>();
  for (const name of [...halves.keys()].sort(moduleOrder)) {
    const { A, B } = halves.get(name) as Partial<LoraPair>;
    if (A === undefined || B === undefined) {
      const missing = A === undefined ? 'A' : 'B';
      throw new FormatError(file, `lora_${missing} is missing for this module`, { key: peftKey(name, missing, layout as PeftLayout), keyKind: 'tensor' });
    }
    modules.set(name, { A, B });
  }
  return { layout: layout as PeftLayout, modules };
}

/**
 * Reads a PEFT adapter folder: adapter_config.json and adapter_model.safetensors, else
 * adapter_model.bin. @throws FormatError naming the file and key for anything malformed.
 */
export function readPeftAdapter(dir: string): PeftAdapter {
  const config = readLoraConfig(dir);
  const st = join(dir, 'adapter_model.safetensors');
  const bin = join(dir, 'adapter_model.bin');
  const file = existsSync(st) ? st : existsSync(bin) ? bin : undefined;
  if (file === undefined) throw new FormatError(dir, 'no adapter_model.safetensors or adapter_model.bin in this adapter folder');
  const source = file === st ? SafetensorsFile.open(st) : TorchBinFile.open(bin);
  const { layout, modules } = normalizeLoraWeights(source, config, file);
  return { config, layout, modules, file };
}

/** in/out features of each wrapped linear in a Llama config. */
export function loraTargetShape(target: LoraTarget, c: LlamaConfig): { in: number; out: number } {
  const q = c.num_attention_heads * c.head_dim;
  const kv = c.num_key_value_heads * c.head_dim;
  switch (target) {
    case 'q_proj': return { in: c.hidden_size, out: q };
    case 'k_proj': case 'v_proj': return { in: c.hidden_size, out: kv };
    case 'o_proj': return { in: q, out: c.hidden_size };
    case 'gate_proj': case 'up_proj': return { in: c.hidden_size, out: c.intermediate_size };
    case 'down_proj': return { in: c.intermediate_size, out: c.hidden_size };
  }
}

/**
 * Checks that every LoRA pair fits the base model: the layer exists and A is [r, in], B [out, r]
 * for that linear. @throws FormatError naming the adapter file and key of the first misfit.
 */
export function checkAdapterFitsModel(adapter: PeftAdapter, model: LlamaConfig): void {
  for (const [module, { A, B }] of adapter.modules) {
    const k = parsePeftKey(peftKey(module, 'A', adapter.layout));
    const short = module.slice(module.lastIndexOf('.') + 1) as LoraTarget;
    if (k === null) continue;
    if (k.layer >= model.num_hidden_layers) throw new FormatError(adapter.file, `adapter wraps layer ${k.layer} but the base model has ${model.num_hidden_layers} layers`, { key: peftKey(module, 'A', adapter.layout), keyKind: 'tensor' });
    const { in: fin, out: fout } = loraTargetShape(short, model);
    if (A.shape[1] !== fin) throw new FormatError(adapter.file, `shape [${A.shape.join(', ')}] does not fit the base model's ${short} (in_features ${fin}; expected [${adapter.config.r}, ${fin}])`, { key: peftKey(module, 'A', adapter.layout), keyKind: 'tensor', hint: 'is this adapter for another base model? see base_model_name_or_path in adapter_config.json' });
    if (B.shape[0] !== fout) throw new FormatError(adapter.file, `shape [${B.shape.join(', ')}] does not fit the base model's ${short} (out_features ${fout}; expected [${fout}, ${adapter.config.r}])`, { key: peftKey(module, 'B', adapter.layout), keyKind: 'tensor', hint: 'is this adapter for another base model? see base_model_name_or_path in adapter_config.json' });
  }
}

export interface WritePeftOptions {
  /** Key layout to write (default: the adapter's own). */
  layout?: PeftLayout;
  /** 'safetensors' (default) or 'bin' (torch.save, as the released checkpoints). */
  format?: 'safetensors' | 'bin';
}

/**
 * Writes an adapter folder as PEFT does: adapter_config.json (sorted keys, 2-space indent) and
 * adapter_model.safetensors (with `format: pt` metadata) or adapter_model.bin, atomically.
 */
export function writePeftAdapter(dir: string, adapter: { config: LoraConfig; modules: ReadonlyMap<string, LoraPair>; layout?: PeftLayout }, options: WritePeftOptions = {}): string[] {
  const layout = options.layout ?? adapter.layout ?? 'dense';
  const cfgFile = join(dir, 'adapter_config.json');
  const config = parseLoraConfig({ ...adapter.config }, cfgFile);
  mkdirSync(dir, { recursive: true });
  const tensors = new Map<string, RawTensor>();
  for (const name of [...adapter.modules.keys()].sort(moduleOrder)) {
    const { A, B } = adapter.modules.get(name) as LoraPair;
    tensors.set(peftKey(name, 'A', layout), A);
    tensors.set(peftKey(name, 'B', layout), B);
  }
  const format = options.format ?? 'safetensors';
  const weights = join(dir, format === 'bin' ? 'adapter_model.bin' : 'adapter_model.safetensors');
  if (format === 'bin') writeTorchStateDict(weights, tensors);
  else writeSafetensors(weights, tensors, { metadata: { format: 'pt' } });
  const sorted = Object.fromEntries(Object.keys(config).sort().map((k) => [k, config[k]]));
  writeBytesAtomic(cfgFile, `${JSON.stringify(sorted, null, 2)}\n`);
  return [cfgFile, weights];
}
