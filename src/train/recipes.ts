/**
 * The training recipes behind `lion pretrain`, `lion mntp` and `lion train`: load the model, build the
 * task, run the loop, export. Library functions with typed options; the CLI only parses flags.
 * @module
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { manualSeed, type DType, type Device, type Tensor } from '../torch/index.ts';
import { readTrainingExamples } from '../data/training.ts';
import type { TrainingExample } from '../data/training.ts';
import { Encoder, type Paradigm } from '../model/encoder.ts';
import { evaluateModel } from './evaluate-model.ts';
import { loadBackbone, saveAdapter, type Backbone } from '../model/backbone.ts';
import { applyLora, loraParameters, PAPER_LORA, type LoraConfig } from '../model/lora.ts';
import { saveModel } from '../model/load.ts';
import { runTraining, type LoopConfig, type LoopSummary } from './loop.ts';
import { joinGroup, type Group } from '../parallel/group.ts';
import { pathIdentity, textsIdentity } from '../formats/identity.ts';
import { CausalLmTask, MntpTask } from './lm-tasks.ts';
import { packBlocks } from './masking.ts';
import { RetrievalTask, resolveExamples } from './retrieval.ts';
import type { Objective } from './objectives.ts';

export type Tuning = { kind: 'lora'; lora: LoraConfig } | { kind: 'full' };

export interface CommonTrainOptions {
  model: string;
  /** Continue this PEFT adapter (the paper trains the MNTP adapter further in fine-tuning). */
  adapter?: string;
  output: string;
  steps: number;
  batchSize: number;
  gradAccum?: number;
  lr: number;
  warmupRatio?: number;
  weightDecay?: number;
  clip?: number;
  seed?: number;
  saveEvery?: number;
  validateEvery?: number;
  flopsBudget?: number;
  maxSeconds?: number;
  /** Mixed precision (the paper trains with bf16 autocast over f32 weights). */
  autocast?: 'bf16';
  tuning: Tuning;
  printEvery?: number;
  /** Progress after each step (see ProgressEvent); the CLI passes a bar. */
  onProgress?: LoopConfig['onProgress'];
  /** Where the model trains; weights, inputs, LoRA weights, optimizer state and RNG live there. */
  device?: Device;
  /** dtype of the (frozen) base weights; LoRA weights and AdamW's moments stay f32. Default f32. */
  dtype?: DType;
  /** Recompute each decoder layer in the backward pass instead of keeping its activations. */
  gradCheckpointing?: boolean;
  /** Data-parallel ranks; default: joined from torchrun's environment (see parallel/group.ts), else alone. */
  group?: Group;
}

/** The backbone a training recipe starts from, on its device and in its dtype. */
function loadForTraining(o: CommonTrainOptions, paradigm: Paradigm | 'lm'): Backbone {
  const b = loadBackbone({ model: o.model, adapter: o.adapter, paradigm, device: o.device, dtype: o.dtype });
  b.model.model.gradientCheckpointing = o.gradCheckpointing ?? false;
  return b;
}

/** Makes the parameters that should train trainable (and only those); returns them with names. */
function trainable(b: Backbone, tuning: Tuning): [string, Tensor][] {
  if (tuning.kind === 'full') {
    if (b.adapter) throw new Error('lion: full fine-tuning with an adapter: merge the adapter into the model first, or train the adapter (LoRA)');
    // AdamW's moments and updates in 8-bit-mantissa weights would stall training: train f32 weights
    // under --bf16 autocast instead (the paper's recipe).
    if (b.model.dtype !== 'f32' && b.model.dtype !== 'f64') throw new Error(`lion: full fine-tuning of ${b.model.dtype} weights; hint: load f32 weights (--dtype f32) and add --bf16 for bf16 compute, or train LoRA over the ${b.model.dtype} base`);
    const all = b.model.namedParameters();
    for (const [, p] of all) p.requiresGrad_(true);
    return all;
  }
  if (!b.adapter) applyLora(b.model, tuning.lora);
  for (const [n, p] of b.model.namedParameters()) p.requiresGrad_(/\.lora_[AB]\.weight$/.test(n));
  return loraParameters(b.model);
}

function exporter(b: Backbone, tuning: Tuning, layout: 'sparse' | 'dense'): (dir: string) => void {
  if (tuning.kind === 'full') {
    const tok = b.tokenizer.kind === 'hf' ? b.tokenizer.path : undefined;
    return (dir) => saveModel(dir, b.model, b.config, tok);
  }
  const cfg = b.adapter ? { r: b.adapter.config.r, alpha: b.adapter.config.lora_alpha, dropout: b.adapter.config.lora_dropout } : { r: tuning.lora.r, alpha: tuning.lora.alpha, dropout: tuning.lora.dropout };
  return (dir) => saveAdapter(dir, b.model, { ...cfg, layout, baseModel: path.resolve(b.dir) });
}

/**
 * Options that only decide when to stop, save, validate or print, or where to write: free to change
 * when a run is resumed (the loop records its own optimisation settings beside the rest).
 */
// gradCheckpointing changes memory and time only: the recomputed layers replay the same RNG draws.
const RESUME_FREE = new Set(['output', 'saveEvery', 'validateEvery', 'flopsBudget', 'maxSeconds', 'printEvery', 'onProgress', 'log', 'validation', 'gradCheckpointing', 'group', 'gradCache']);
/** Inputs recorded by identity (size and hashes), not by value or path. */
const INPUTS = new Set(['model', 'adapter', 'texts', 'examples', 'corpus', 'trainFile']);

/**
 * The whole recorded configuration of a run: every option not listed above, plus the identity of
 * each input (base model and adapter folders, training file, corpus texts), so that a resume with
 * any changed setting or input is refused.
 */
function recordedSettings(task: string, o: CommonTrainOptions & Record<string, unknown>, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const settings: Record<string, unknown> = { task };
  for (const [k, v] of Object.entries(o)) if (!RESUME_FREE.has(k) && !INPUTS.has(k) && v !== undefined) settings[k] = v;
  const identity: Record<string, string | null> = { model: pathIdentity(o.model), adapter: o.adapter ? pathIdentity(o.adapter) : null };
  if (typeof o.trainFile === 'string') identity.train = pathIdentity(o.trainFile);
  if (o.corpus instanceof Map) identity.corpus = textsIdentity(o.corpus as Map<string, string>);
  if (Array.isArray(o.texts)) identity.corpus = textsIdentity(o.texts as string[]);
  return { ...settings, ...extra, identity };
}

function loopConfig(o: CommonTrainOptions, config: Record<string, unknown>) {
  return {
    outDir: o.output,
    steps: o.steps,
    gradAccum: o.gradAccum ?? 1,
    lr: o.lr,
    warmup: Math.round((o.warmupRatio ?? 0) * o.steps),
    weightDecay: o.weightDecay ?? 0,
    clip: o.clip ?? 1,
    saveEvery: o.saveEvery ?? Math.max(1, Math.ceil(o.steps / 10)),
    validateEvery: o.validateEvery,
    flopsBudget: o.flopsBudget,
    maxSeconds: o.maxSeconds,
    autocast: o.autocast,
    device: o.device,
    group: o.group ?? joinGroup(o.device ?? 'cpu'),
    seed: o.seed ?? 0,
    config: o.autocast ? { ...config, autocast: o.autocast } : config,
    printEvery: o.printEvery,
    onProgress: o.onProgress,
  };
}

// ---- language-model training --------------------------------------------------------------------

export interface LmTrainOptions extends CommonTrainOptions {
  /** Texts to train on (corpus passages). */
  texts: readonly string[];
  blockSize: number;
  /** Fraction of blocks held out for validation loss. */
  validationFraction?: number;
}

function lmBlocks(b: Backbone, o: LmTrainOptions): { train: Int32Array[]; val: Int32Array[] } {
  const blocks = packBlocks((function* () { for (const t of o.texts) yield b.tokenizer.encode(t); })(), o.blockSize);
  const nVal = Math.floor(blocks.length * (o.validationFraction ?? 0.01));
  return { train: blocks.slice(0, blocks.length - nVal), val: blocks.slice(blocks.length - nVal) };
}

/** Causal-LM pre-training (full weights by default): builds small backbones from scratch. */
export function pretrain(o: LmTrainOptions): LoopSummary {
  // libtorch seeds its generator differently in every process: seed before anything is initialised.
  manualSeed(o.seed ?? 0);
  const b = loadForTraining(o, 'lm');
  try {
    const params = trainable(b, o.tuning);
    const { train, val } = lmBlocks(b, o);
    const task = new CausalLmTask({ model: b.model, blocks: train, validationBlocks: val, batchSize: o.batchSize, seed: o.seed ?? 0, params, exportTo: exporter(b, o.tuning, 'sparse'), group: o.group ?? joinGroup(o.device ?? 'cpu') });
    return runTraining(task, loopConfig(o, recordedSettings('pretrain', o as LmTrainOptions & Record<string, unknown>, { seed: o.seed ?? 0 })));
  } finally {
    b.model.dispose();
  }
}

export interface MntpOptions extends LmTrainOptions {
  /** The mask token's text ("_" in the paper, an existing vocabulary entry). */
  maskToken?: string;
  probability?: number;
}

/** MNTP adaptation (docs/paper.md §2): bidirectional attention, 20% masking with 80/10/10, LoRA r16/α32 by default. */
export function mntp(o: MntpOptions): LoopSummary {
  manualSeed(o.seed ?? 0);
  const b = loadForTraining(o, 'lm');
  try {
    const params = trainable(b, o.tuning);
    const maskText = o.maskToken ?? '_';
    const maskIds = b.tokenizer.encodeRaw(maskText);
    if (maskIds.length !== 1) throw new Error(`lion mntp: the mask token '${maskText}' is ${maskIds.length} tokens in this tokenizer; hint: choose one that is a single token`);
    const { train, val } = lmBlocks(b, o);
    const masking = { probability: o.probability ?? 0.2, maskId: maskIds[0]!, vocabSize: b.config.vocab_size, protectedIds: new Set([b.tokenizer.bosId]) };
    const task = new MntpTask({ model: b.model, blocks: train, validationBlocks: val, batchSize: o.batchSize, seed: o.seed ?? 0, params, exportTo: exporter(b, o.tuning, 'sparse'), group: o.group ?? joinGroup(o.device ?? 'cpu') }, masking);
    return runTraining(task, loopConfig(o, recordedSettings('mntp', o as MntpOptions & Record<string, unknown>, { seed: o.seed ?? 0, mask: maskText, probability: masking.probability })));
  } finally {
    b.model.dispose();
  }
}

// ---- retrieval fine-tuning ----------------------------------------------------------------------

export interface RetrieverTrainOptions extends CommonTrainOptions {
  paradigm: Paradigm;
  objective: Objective;
  /** Training examples (docs/paper.md §7 formats), and the file they came from (for messages). */
  examples: readonly TrainingExample[];
  trainFile: string;
  corpus: ReadonlyMap<string, string>;
  negatives: number;
  maxLength?: { query: number; doc: number };
  flopsLambda?: { query: number; doc: number };
  /** Validation on a small dev collection, every validateEvery steps. */
  validation?: { queries: ReadonlyMap<string, string>; docs: ReadonlyMap<string, string>; qrels: import('../data/types.ts').Qrels };
  log?: (line: string) => void;
  /** Gradient cache: texts per forward pass, the loss still on the whole batch (same gradients). */
  gradCache?: number;
}

export async function loadExamples(file: string): Promise<TrainingExample[]> {
  if (!existsSync(file)) throw new Error(`lion train: training file '${file}' does not exist`);
  const out: TrainingExample[] = [];
  for await (const e of readTrainingExamples(file)) out.push(e);
  return out;
}

/** Fine-tunes a Lion-SP or Lion-DS retriever (docs/paper.md §5–6). */
export async function trainRetriever(o: RetrieverTrainOptions): Promise<LoopSummary & { skipped: Record<string, number>; examples: number }> {
  const { examples, skipped } = resolveExamples(o.examples, o.corpus, { minNegatives: o.objective === 'kd' ? 1 : o.negatives, needTeacher: o.objective !== 'cl', file: o.trainFile });
  const skippedTotal = skipped.noPositive + skipped.fewNegatives + skipped.noTeacher;
  if (skippedTotal) (o.log ?? console.error)(`lion train: skipped ${skippedTotal} of ${o.examples.length} examples (${skipped.noPositive} without a positive, ${skipped.fewNegatives} with fewer than ${o.negatives} negatives, ${skipped.noTeacher} without teacher scores), as the paper's pipeline does`);
  manualSeed(o.seed ?? 0);
  const b = loadForTraining(o, o.paradigm);
  try {
    const params = trainable(b, o.tuning);
    const maxLength = o.maxLength ?? { query: 64, doc: 128 };
    const v = o.validation;
    const enc = v ? new Encoder(b.model, b.tokenizer, { paradigm: o.paradigm, maxLength, batchSize: 32 }) : null;
    const validate = v && enc ? () => evaluateModel(enc, v.queries, v.docs, v.qrels) : undefined;
    const task = new RetrievalTask({ model: b.model, tokenizer: b.tokenizer, paradigm: o.paradigm, objective: o.objective, examples, batchSize: o.batchSize, negatives: o.negatives, maxLength, seed: o.seed ?? 0, totalSteps: o.steps, flopsLambda: o.flopsLambda, params, exportTo: exporter(b, o.tuning, o.paradigm), validate, group: o.group ?? joinGroup(o.device ?? 'cpu'), gradCache: o.gradCache });
    const summary = runTraining(task, loopConfig(o, recordedSettings('train', o as RetrieverTrainOptions & Record<string, unknown>, { seed: o.seed ?? 0, maxLength, flopsLambda: o.flopsLambda ?? null })));
    return { ...summary, skipped, examples: examples.length };
  } finally {
    b.model.dispose();
  }
}

export { PAPER_LORA };
