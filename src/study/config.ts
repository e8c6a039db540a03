/**
 * The scaling study's configuration: the model sizes, the budget per grid cell, and the evaluation
 * sets. Presets: `smoke` (every cell of one tiny size, a few minutes: CI), `demo` (two sizes, minutes on
 * a 2-core CPU), `nano` (the full nano grid), `paper`
 * (the authors' hyper-parameters, docs/paper.md §5–6, for real Llama-3 backbones on GPUs).
 * @module
 */
import type { Paradigm } from '../model/encoder.ts';
import type { Device } from '../torch/index.ts';
import type { Objective } from '../train/objectives.ts';

export interface NanoSize {
  name: string;
  hidden: number;
  layers: number;
  heads: number;
  intermediate: number;
}

export interface EvalSet {
  /** Dataset registry id. */
  id: string;
  label: string;
  metric: string;
  domain: 'in' | 'out';
}

export interface StudyConfig {
  preset: string;
  /** Backbones Lion builds (pre-trains) itself; ignored when `backbones` is given. */
  sizes: NanoSize[];
  /** Existing HF model folders (e.g. Llama-3.2-1B, 3B, Llama-3-8B): then no pre-training. */
  backbones?: string[];
  /**
   * Where every stage's model runs (default cpu), the dtype of its base weights (full-weight stages
   * need f32) and whether training recomputes layers in the backward pass.
   */
  run?: { device?: Device; dtype?: 'f32' | 'bf16' | 'f16'; gradCheckpointing?: boolean };
  paradigms: Paradigm[];
  objectives: Objective[];
  tokenizer: { vocabSize: number };
  pretrain: { steps: number; batchSize: number; block: number; lr: number };
  mntp: { steps: number; batchSize: number; block: number; lr: number };
  /**
   * 'lora' (the paper: r16/α32 on all projections, MNTP adapter continued in fine-tuning) or 'full'
   * (nano backbones: a 1M-parameter model learns far faster with all weights free, and its embeddings,
   * which the sparse head reads, can move).
   */
  tuning: 'lora' | 'full';
  finetune: {
    /** Training FLOPs per grid cell, the same for every size and objective (docs/paper.md §6: a fixed budget). */
    flopsPerCell: number;
    batchSize: number;
    negatives: number;
    lr: number;
    warmupRatio: number;
    maxLength: { query: number; doc: number };
    flopsLambda: { query: number; doc: number };
  };
  /** Lengths at evaluation time (docs/paper.md §1: BEIR 512/512; MS MARCO 64/192). */
  evalMaxLength: { query: number; doc: number };
  /** In-domain training data (train split) and the evaluation sets. */
  trainSet: { queries: string; id: string };
  evalSets: EvalSet[];
  /** Corpora whose documents (never queries or judgements) form the LM pre-training text. */
  pretrainCorpora: string[];
  /** Hits per query for evaluation (the paper: 1000 on MS MARCO, 100 on BEIR). */
  depth: number;
  seed: number;
}

const EVAL_SETS: EvalSet[] = [
  { id: 'beir/scifact/test', label: 'SciFact', metric: 'nDCG@10', domain: 'in' },
  { id: 'msmarco-passage/dl19-mini', label: 'DL19-mini', metric: 'nDCG@10', domain: 'out' },
  { id: 'cranfield', label: 'Cranfield', metric: 'nDCG@10', domain: 'out' },
];

const NANO: NanoSize[] = [
  { name: 'nano-S', hidden: 64, layers: 2, heads: 2, intermediate: 192 },
  { name: 'nano-M', hidden: 128, layers: 4, heads: 4, intermediate: 384 },
  { name: 'nano-L', hidden: 256, layers: 4, heads: 4, intermediate: 768 },
];

const base: Omit<StudyConfig, 'preset' | 'sizes'> = {
  paradigms: ['sparse', 'dense'],
  objectives: ['cl', 'kd', 'cl+kd'],
  tokenizer: { vocabSize: 4096 },
  pretrain: { steps: 300, batchSize: 8, block: 128, lr: 2e-3 },
  mntp: { steps: 60, batchSize: 8, block: 128, lr: 5e-4 },
  tuning: 'full',
  finetune: { flopsPerCell: 1.0e12, batchSize: 16, negatives: 3, lr: 1e-3, warmupRatio: 0.04, maxLength: { query: 32, doc: 64 }, flopsLambda: { query: 0.05, doc: 0.04 } },
  evalMaxLength: { query: 64, doc: 128 },
  trainSet: { queries: 'beir/scifact/train', id: 'beir/scifact/train' },
  evalSets: EVAL_SETS,
  pretrainCorpora: ['beir/scifact/test', 'msmarco-passage/dl19-mini'],
  depth: 100,
  seed: 0,
};

export const PRESETS: Record<string, StudyConfig> = {
  demo: { ...base, preset: 'demo', sizes: NANO.slice(0, 2) },
  // Every paradigm × objective cell end to end in a few minutes (CI runs it): one tiny size, tiny
  // budgets, short texts; the numbers mean nothing, the point is that every cell completes.
  smoke: {
    ...base,
    preset: 'smoke',
    sizes: [{ name: 'nano-XS', hidden: 32, layers: 1, heads: 2, intermediate: 64 }],
    tokenizer: { vocabSize: 1024 },
    pretrain: { steps: 30, batchSize: 8, block: 64, lr: 2e-3 },
    mntp: { steps: 10, batchSize: 8, block: 64, lr: 5e-4 },
    finetune: { ...base.finetune, flopsPerCell: 2e10, batchSize: 8 },
    evalMaxLength: { query: 32, doc: 64 },
    evalSets: EVAL_SETS.filter((s) => s.id !== 'msmarco-passage/dl19-mini'),
    pretrainCorpora: ['beir/scifact/test'],
  },
  nano: {
    ...base,
    preset: 'nano',
    sizes: NANO,
    pretrain: { ...base.pretrain, steps: 800 },
    mntp: { ...base.mntp, steps: 150 },
    finetune: { ...base.finetune, flopsPerCell: 6e12 },
  },
  // The authors' settings (docs/paper.md §2, §5, §6) for real Llama-3 backbones: no pre-training, MNTP 10k
  // steps, 16 negatives, lr 1e-4, MS MARCO lengths. The budget is the 1B CL run's compute.
  paper: {
    ...base,
    preset: 'paper',
    sizes: [],
    tokenizer: { vocabSize: 0 },
    mntp: { steps: 10000, batchSize: 32, block: 512, lr: 5e-5 },
    tuning: 'lora',
    finetune: { flopsPerCell: 6 * 1.24e9 * 33250 * 112 * (64 + 17 * 128), batchSize: 28, negatives: 16, lr: 1e-4, warmupRatio: 0.04, maxLength: { query: 64, doc: 128 }, flopsLambda: { query: 0.05, doc: 0.04 } },
    evalMaxLength: { query: 512, doc: 512 },
  },
};

export function presetConfig(name: string): StudyConfig {
  const c = PRESETS[name];
  if (!c) throw new Error(`lion study: unknown preset '${name}'; hint: one of ${Object.keys(PRESETS).join(', ')}`);
  return structuredClone(c);
}
