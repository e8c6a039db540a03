/**
 * One entry point for "the model a command runs": an HF folder or a llama2.c checkpoint, plus an
 * optional PEFT adapter in either released layout (docs/paper.md §11), for a paradigm.
 * @module
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { noGrad, type DType, type Device } from '../torch/index.ts';
import { Llama2cCheckpoint } from '../formats/llama2c.ts';
import { LORA_TARGETS, checkAdapterFitsModel, loraScaling, readPeftAdapter, writePeftAdapter, type LoraConfig as PeftLoraConfig, type LoraPair, type PeftLayout } from '../formats/peft.ts';
import { Llama2cTokenizer } from '../text/llama2c-tokenizer.ts';
import { LlamaForCausalLM } from './llama.ts';
import { AdaptableLinear, loraDtype } from './lora.ts';
import { loadModel, loadWeights, type LoadedModel } from './load.ts';
import { rawToTensor, tensorToRaw } from './weights.ts';
import type { Paradigm } from './encoder.ts';

export interface BackboneSpec {
  /** HF model folder, or a llama2.c checkpoint file (`*.bin`). */
  model: string;
  /** PEFT adapter folder. */
  adapter?: string;
  paradigm: Paradigm | 'lm';
  /** Tokenizer file for llama2.c checkpoints (default: tokenizer.bin or tok*.bin beside the file). */
  tokenizer?: string;
  dtype?: DType;
  device?: Device;
}

export interface Backbone extends LoadedModel {
  /** `fingerprint`: sha256 of the adapter's config and weight file, so vectors name the weights, not the folder. */
  adapter: { dir: string; layout: PeftLayout; config: PeftLoraConfig; fingerprint: string } | null;
}

function llama2cTokenizerBeside(file: string): string {
  const dir = path.dirname(file);
  const cand = ['tokenizer.bin', ...readdirSync(dir).filter((f) => /^tok.*\.bin$/.test(f))].find((f) => existsSync(path.join(dir, f)));
  if (!cand) throw new Error(`lion: no tokenizer.bin or tok*.bin beside ${file}; hint: pass the tokenizer file explicitly`);
  return path.join(dir, cand);
}

/** Loads a llama2.c checkpoint as a Llama model with its SentencePiece tokenizer. */
export function loadLlama2c(file: string, o: { tokenizer?: string; dtype?: DType; device?: Device; lmHead?: boolean } = {}): LoadedModel {
  const ckpt = Llama2cCheckpoint.open(file);
  const tokenizer = Llama2cTokenizer.fromFile(o.tokenizer ?? llama2cTokenizerBeside(file));
  const model = new LlamaForCausalLM(ckpt.config, { dtype: o.dtype, device: o.device, lmHead: o.lmHead, init: 'empty' });
  loadWeights(model, ckpt, { dtype: o.dtype, device: o.device });
  return { config: ckpt.config, model: model.eval(), tokenizer, dir: path.dirname(file), identity: { name: path.basename(file), fingerprint: `llama2c:${statSync(file).size}`, tokenizer: tokenizer.fingerprint } };
}

/** Adds the adapter's LoRA weights to `model` (layout and shapes checked against its config). */
export function attachAdapter(loaded: LoadedModel, dir: string): Backbone['adapter'] & object {
  const adapter = readPeftAdapter(dir);
  checkAdapterFitsModel(adapter, loaded.config);
  const scale = loraScaling(adapter.config);
  const byPath = new Map(loaded.model.namedModules());
  noGrad(() => {
    for (const [modulePath, pair] of adapter.modules) {
      const m = byPath.get(modulePath);
      if (!(m instanceof AdaptableLinear)) throw new Error(`lion: ${adapter.file}: the adapter wraps '${modulePath}', which the model does not have`);
      m.addLora(adapter.config.r, scale, adapter.config.lora_dropout);
      const place = { dtype: loraDtype(m.weight.dtype), device: m.weight.device };
      m.setParameter('lora_A.weight', rawToTensor(pair.A, `${adapter.file}:${modulePath}.lora_A`, place));
      m.setParameter('lora_B.weight', rawToTensor(pair.B, `${adapter.file}:${modulePath}.lora_B`, place));
    }
  });
  const fingerprint = createHash('sha256')
    .update(readFileSync(path.join(dir, 'adapter_config.json')))
    .update(readFileSync(adapter.file))
    .digest('hex');
  return { dir, layout: adapter.layout, config: adapter.config, fingerprint };
}

/**
 * Who made a set of vectors: recorded in index manifests and beside `lion encode` output, so an index
 * refuses query vectors from another model or tokenizer.
 */
export function vectorIdentity(b: Backbone, paradigm: 'sparse' | 'dense'): { model: string; modelHash: string; tokenizer: string; tokenizerHash: string; tokenizerFile: string; paradigm: 'sparse' | 'dense' } {
  // the folder's name is for people; the hash is of the adapter's own bytes, so two adapters in
  // folders of the same name differ and a renamed or copied adapter still matches its index
  const adapter = b.adapter ? path.basename(path.resolve(b.adapter.dir)) : null;
  return {
    model: b.identity.name + (adapter ? `+${adapter}` : ''),
    modelHash: b.identity.fingerprint + (b.adapter ? `+adapter:${b.adapter.fingerprint}` : ''),
    tokenizer: path.basename(b.tokenizer.path),
    tokenizerHash: b.tokenizer.fingerprint,
    tokenizerFile: b.tokenizer.path,
    paradigm,
  };
}

/** Loads the model and adapter named by `spec`; the LM head is built for 'sparse' and 'lm' only. */
export function loadBackbone(spec: BackboneSpec): Backbone {
  const lmHead = spec.paradigm !== 'dense';
  const isFile = existsSync(spec.model) && statSync(spec.model).isFile();
  const loaded = isFile
    ? loadLlama2c(spec.model, { tokenizer: spec.tokenizer, dtype: spec.dtype, device: spec.device, lmHead })
    : loadModel(spec.model, { dtype: spec.dtype, device: spec.device, lmHead });
  try {
    const adapter = spec.adapter ? attachAdapter(loaded, spec.adapter) : null;
    loaded.model.eval();
    return { ...loaded, adapter };
  } catch (e) {
    loaded.model.dispose();
    throw e;
  }
}

/**
 * Writes the model's LoRA weights as a PEFT adapter. `layout` 'sparse' keys them as
 * `base_model.model.model.layers…` (LlamaBiForMNTP), 'dense' as `base_model.model.layers…` (LlamaBiModel).
 */
export function saveAdapter(dir: string, model: LlamaForCausalLM, o: { r: number; alpha: number; dropout: number; layout: PeftLayout; baseModel?: string; format?: 'safetensors' | 'bin' }): string[] {
  const modules = new Map<string, LoraPair>();
  for (const [p, m] of model.namedModules()) {
    if (!(m instanceof AdaptableLinear) || !m.hasLora) continue;
    modules.set(p, { A: tensorToRaw(m.childModule('lora_A')!.ownParameter('weight')!), B: tensorToRaw(m.childModule('lora_B')!.ownParameter('weight')!) });
  }
  const targets = [...new Set([...modules.keys()].map((k) => k.slice(k.lastIndexOf('.') + 1)))].filter((t) => (LORA_TARGETS as readonly string[]).includes(t));
  const config = {
    peft_type: 'LORA',
    r: o.r,
    lora_alpha: o.alpha,
    lora_dropout: o.dropout,
    target_modules: targets,
    base_model_name_or_path: o.baseModel ?? null,
    auto_mapping: { base_model_class: o.layout === 'sparse' ? 'LlamaBiForMNTP' : 'LlamaBiModel', parent_library: 'scaling_retriever.modeling.bidirectional_llama' },
    bias: 'none',
    fan_in_fan_out: false,
    use_rslora: false,
    task_type: null,
    inference_mode: true,
  } as PeftLoraConfig;
  return writePeftAdapter(dir, { config, modules, layout: o.layout }, { layout: o.layout, format: o.format });
}

