/**
 * Loading and saving Lion backbones in Hugging Face layout: config.json, model.safetensors (single or
 * sharded) or pytorch_model.bin, tokenizer.json. Tensors are read one at a time and replace the
 * randomly initialised parameters, so a checkpoint is never held twice in memory.
 * @module
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync, copyFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { Tensor, noGrad, tidy, type DType, type Device } from '../torch/index.ts';
import { readLlamaConfig, writeLlamaConfig, type LlamaConfig } from '../formats/hf-config.ts';
import { writeSafetensorsCheckpoint } from '../formats/safetensors.ts';
import { openCheckpoint } from '../formats/checkpoint.ts';
import type { TensorSource } from '../formats/tensor-source.ts';
import { RAW_DTYPE_BYTES } from '../formats/raw-tensor.ts';
import { HfTokenizer } from '../text/hf-tokenizer.ts';
import type { Tokenizer } from '../text/tokenizer.ts';
import { LlamaForCausalLM } from './llama.ts';
import { rawToTensor, tensorToRaw, type Placement } from './weights.ts';

export interface LoadOptions {
  dtype?: DType;
  device?: Device;
  /** Build and load the LM head (needed by the sparse head and MNTP). Default true. */
  lmHead?: boolean;
}

export interface ModelIdentity {
  /** Folder name of the base model. */
  name: string;
  /** sha256 over config.json and the weight files' names and sizes (cheap, and changes with the weights). */
  fingerprint: string;
  tokenizer: string;
}

export interface LoadedModel {
  config: LlamaConfig;
  model: LlamaForCausalLM;
  tokenizer: Tokenizer;
  identity: ModelIdentity;
  dir: string;
}

/**
 * The parameter path a checkpoint key maps to, or null for keys the model does not use. LlamaModel
 * checkpoints (no `model.` prefix, as the paper's dense models save) are accepted as well.
 */
export function parameterPath(key: string): string | null {
  if (key.endsWith('rotary_emb.inv_freq')) return null;
  if (key === 'lm_head.weight' || key.startsWith('model.')) return key;
  if (key.startsWith('layers.') || key === 'embed_tokens.weight' || key === 'norm.weight') return `model.${key}`;
  return key;
}

/** Tensors above this many bytes are streamed through a buffer of this size (see readPlaced). */
const STREAM_BYTES = 64 << 20;
let streamBuffer: Uint8Array | null = null;

/**
 * One checkpoint tensor as a tensor placed and converted as `place` says. A large tensor (an 8B
 * model's 1 GB embedding) is streamed in 64 MiB pieces into its final storage, so loading holds the
 * model plus one piece, never a second copy of a tensor in JS memory.
 */
function readPlaced(source: TensorSource, key: string, place: Placement): Tensor {
  const name = `${source.path}:${key}`;
  const info = source.info(key);
  if (!source.readBytes || info.byteLength <= STREAM_BYTES) return rawToTensor(source.read(key), name, place);
  const elt = RAW_DTYPE_BYTES[info.dtype];
  const out = Tensor.empty(info.shape, place.dtype ?? 'f32', place.device ?? 'cpu');
  try {
    tidy(() => {
      const flat = out.view([-1]);
      streamBuffer ??= new Uint8Array(STREAM_BYTES);
      const step = Math.floor(STREAM_BYTES / elt) * elt;
      for (let off = 0; off < info.byteLength; off += step) {
        const len = Math.min(step, info.byteLength - off);
        const bytes = source.readBytes!(key, off, streamBuffer.subarray(0, len));
        tidy(() => void flat.narrow(0, off / elt, len / elt).copy_(rawToTensor({ dtype: info.dtype, shape: [len / elt], data: bytes }, name, place)));
      }
    });
  } catch (e) {
    out.dispose();
    throw e;
  }
  return out;
}

/**
 * Loads every tensor of `source` into `model` by name, each converted to `to.dtype` (default f32) and
 * placed on `to.device` (default: where the model is) as it is read; lists what did not fit.
 */
export function loadWeights(model: LlamaForCausalLM, source: TensorSource, to: DType | Placement = {}): void {
  const { dtype, device } = typeof to === 'string' ? { dtype: to, device: undefined } : to;
  const place: Placement = { dtype: dtype ?? 'f32', device: device ?? model.device };
  const own = new Set(model.namedParameters().map(([n]) => n));
  const seen = new Set<string>();
  const unexpected: string[] = [];
  noGrad(() => {
    for (const key of source.names()) {
      const p = parameterPath(key);
      if (p === null) continue;
      if (p === 'lm_head.weight' && !own.has(p)) continue; // tied, or a dense model without a head
      if (!own.has(p)) {
        unexpected.push(key);
        continue;
      }
      const t = readPlaced(source, key, place);
      try {
        model.setParameter(p, t);
      } catch (e) {
        t.dispose();
        throw new Error(`lion: ${source.path}: ${(e as Error).message}`, { cause: e });
      }
      seen.add(p);
    }
  });
  const missing = [...own].filter((n) => !seen.has(n) && !/\.lora_[AB]\.weight$/.test(n));
  if (missing.length || unexpected.length) {
    throw new Error(
      `lion: checkpoint ${source.path} does not fit the model in its config.json: ` +
        `missing [${missing.slice(0, 4).join(', ')}${missing.length > 4 ? `, … ${missing.length} in all` : ''}], ` +
        `unexpected [${unexpected.slice(0, 4).join(', ')}${unexpected.length > 4 ? `, … ${unexpected.length} in all` : ''}]`,
    );
  }
}

function fingerprintOf(dir: string, config: string): string {
  const h = createHash('sha256').update(readFileSync(config));
  for (const f of ['model.safetensors', 'model.safetensors.index.json', 'pytorch_model.bin']) {
    const p = path.join(dir, f);
    if (existsSync(p)) h.update(`${f}:${statSync(p).size}`);
  }
  return h.digest('hex');
}

/** Loads an HF-layout Llama folder (config.json, weights, tokenizer.json). */
export function loadModel(dir: string, o: LoadOptions = {}): LoadedModel {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new Error(`lion: model folder '${dir}' does not exist`);
  const configPath = path.join(dir, 'config.json');
  const config = readLlamaConfig(configPath);
  const tokenizer = HfTokenizer.fromFile(dir);
  if (tokenizer.vocabSize > config.vocab_size) {
    throw new Error(`lion: ${tokenizer.path} has ${tokenizer.vocabSize} tokens but ${configPath} says vocab_size ${config.vocab_size}`);
  }
  // Parameters start uninitialised: each is replaced by its checkpoint tensor as it is read.
  const model = new LlamaForCausalLM(config, { dtype: o.dtype, device: o.device, lmHead: o.lmHead, init: 'empty' });
  try {
    loadWeights(model, openCheckpoint(dir), { dtype: o.dtype, device: o.device });
  } catch (e) {
    model.dispose();
    throw e;
  }
  return { config, model: model.eval(), tokenizer, dir, identity: { name: path.basename(path.resolve(dir)), fingerprint: fingerprintOf(dir, configPath), tokenizer: tokenizer.fingerprint } };
}

/** Writes `model` in HF layout (config.json, model.safetensors, tokenizer.json copied from `tokenizerFile`). */
export function saveModel(dir: string, model: LlamaForCausalLM, config: LlamaConfig, tokenizerFile?: string): void {
  mkdirSync(dir, { recursive: true });
  writeLlamaConfig(path.join(dir, 'config.json'), config);
  const tensors = model.namedParameters().filter(([n]) => !/\.lora_[AB]\.weight$/.test(n)).map(([n, t]) => [n, tensorToRaw(t)] as const);
  writeSafetensorsCheckpoint(dir, tensors, { metadata: { format: 'pt' } });
  if (tokenizerFile) {
    copyFileSync(tokenizerFile, path.join(dir, 'tokenizer.json'));
    const cfg = path.join(path.dirname(tokenizerFile), 'tokenizer_config.json');
    if (existsSync(cfg)) copyFileSync(cfg, path.join(dir, 'tokenizer_config.json'));
  }
}
