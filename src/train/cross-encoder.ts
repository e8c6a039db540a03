/**
 * A cross-encoder reranker that Lion trains and runs, as the KD teacher (docs/paper.md §5: the authors' teacher
 * is unknown; their earlier pipeline used a cross-encoder). A Llama backbone reads
 * `query: {q} document: {d}` followed by EOS, and a score head (`score.weight` [1, d], HF's
 * LlamaForSequenceClassification name) maps the final state of the last token to a relevance score.
 * Training: cross-entropy over each query's positive (target) and its negatives, a listwise loss.
 *
 * Saved as the backbone's HF folder (or PEFT adapter) plus `score.safetensors` beside it.
 * @module
 */
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { Linear, Tensor, crossEntropy, manualSeed, noGrad, tidy, type DType, type Device } from '../torch/index.ts';
import type { Tokenizer } from '../text/tokenizer.ts';
import { padLeft } from '../text/tokenizer.ts';
import type { LlamaForCausalLM } from '../model/llama.ts';
import type { AttentionMode } from '../model/mask.ts';
import { loadBackbone, saveAdapter } from '../model/backbone.ts';
import { applyLora, loraParameters, PAPER_LORA } from '../model/lora.ts';
import { saveModel } from '../model/load.ts';
import { rawToTensor, tensorToRaw } from '../model/weights.ts';
import { SafetensorsFile, writeSafetensors } from '../formats/safetensors.ts';
import { readAll } from '../formats/tensor-source.ts';
import { flopsPerToken } from './budget.ts';
import { pathIdentity, textsIdentity } from '../formats/identity.ts';
import { runTraining, type LoopConfig, type LoopSummary, type MicroResult, type TrainTask } from './loop.ts';
import { batchIndices, mixSeed, sampleWithoutReplacement } from '../util/random.ts';
import type { ResolvedExample } from './retrieval.ts';
import type { Teacher } from './teacher.ts';

export const SCORE_FILE = 'score.safetensors';

export class CrossEncoder {
  readonly head: Linear;
  constructor(
    readonly model: LlamaForCausalLM,
    readonly tokenizer: Tokenizer,
    readonly o: { maxLength: number; mode: AttentionMode },
  ) {
    // The head trains in f32 on the model's device, whatever dtype the backbone is held in.
    this.head = new Linear(model.model.sizes.d, 1, { bias: false, device: model.device });
  }

  /** Token ids of one pair: BOS, the pair's text cut to fit, then EOS (the position that is scored). */
  pairIds(query: string, doc: string): number[] {
    const ids = this.tokenizer.encode(`query: ${query} document: ${doc}`, this.o.maxLength - 1);
    return [...ids, this.tokenizer.eosId];
  }

  /** Scores [N] of (query, doc) pairs, with grad when enabled. */
  scores(pairs: readonly (readonly [string, string])[]): { scores: Tensor; padded: number; seqLen: number } {
    const b = padLeft(pairs.map(([q, d]) => this.pairIds(q, d)), this.tokenizer.padId);
    return tidy(() => {
      const device = this.model.device;
      const ids = Tensor.from(BigInt64Array.from(b.ids, (v) => BigInt(v)), [b.batch, b.seqLen], 'i64', device);
      const mask = Tensor.from(Int32Array.from(b.attentionMask), [b.batch, b.seqLen], 'i32', device);
      const h = this.model.model.forward(ids, mask, this.o.mode); // [N, T, d]
      // Left padding puts every pair's EOS at the last position.
      let last = h.narrow(1, b.seqLen - 1, 1).squeeze(1); // [N, d]
      if (last.dtype !== this.head.weight.dtype) last = last.to(this.head.weight.dtype);
      return { scores: this.head.forward(last).squeeze(1), padded: b.batch * b.seqLen, seqLen: b.seqLen };
    });
  }

  /** A Teacher: scores a query's candidates in batches, without grad. */
  teacher(batchSize = 32): Teacher {
    return (query, docs) => {
      const out: number[] = [];
      for (let s = 0; s < docs.length; s += batchSize) {
        const part = docs.slice(s, s + batchSize).map((d) => [query, d] as const);
        out.push(...noGrad(() => tidy(() => this.scores(part).scores.toList())));
      }
      return out;
    };
  }

  saveHead(dir: string): void {
    mkdirSync(dir, { recursive: true });
    writeSafetensors(path.join(dir, SCORE_FILE), [['score.weight', tensorToRaw(this.head.weight)]], { metadata: { maxLength: String(this.o.maxLength), mode: this.o.mode } });
  }

  loadHead(dir: string): void {
    const f = SafetensorsFile.open(path.join(dir, SCORE_FILE));
    const raw = readAll(f).get('score.weight');
    if (!raw) throw new Error(`lion: ${f.path} has no 'score.weight'`);
    this.head.setParameter('weight', rawToTensor(raw, `${f.path}:score.weight`, { dtype: 'f32', device: this.model.device }));
  }

  dispose(): void {
    this.head.dispose();
  }
}

/** Loads a trained cross-encoder folder (its export: an HF model or adapter, plus score.safetensors). */
export function loadCrossEncoder(dir: string, base?: string, run: { device?: Device; dtype?: DType } = {}): CrossEncoder {
  const file = path.join(dir, SCORE_FILE);
  if (!existsSync(file)) throw new Error(`lion: ${dir} is not a cross-encoder (no ${SCORE_FILE}); hint: train one with 'lion train-reranker'`);
  const meta = SafetensorsFile.open(file).metadata ?? {};
  const isAdapter = existsSync(path.join(dir, 'adapter_config.json'));
  if (isAdapter && !base) throw new Error(`lion: ${dir} holds a LoRA adapter; hint: pass the base model it was trained on`);
  const b = loadBackbone({ model: isAdapter ? base! : dir, adapter: isAdapter ? dir : undefined, paradigm: 'dense', device: run.device, dtype: run.dtype });
  const ce = new CrossEncoder(b.model, b.tokenizer, { maxLength: Number(meta.maxLength ?? 256), mode: (meta.mode as AttentionMode) ?? 'bidirectional' });
  ce.loadHead(dir);
  return ce;
}

export interface RerankerTrainOptions {
  model: string;
  output: string;
  examples: readonly ResolvedExample[];
  negatives: number;
  batchSize: number;
  steps: number;
  lr: number;
  warmupRatio?: number;
  maxLength?: number;
  mode?: AttentionMode;
  full?: boolean;
  seed?: number;
  saveEvery?: number;
  maxSeconds?: number;
  device?: Device;
  /** Weight dtype of the backbone (LoRA and the score head stay f32). */
  dtype?: DType;
  gradCheckpointing?: boolean;
  /** Progress after each step; the CLI passes a bar. */
  onProgress?: LoopConfig['onProgress'];
}

/** Trains a cross-encoder: listwise cross-entropy over [positive, n negatives] per query. */
export function trainReranker(o: RerankerTrainOptions): LoopSummary {
  manualSeed(o.seed ?? 0);
  const b = loadBackbone({ model: o.model, paradigm: 'dense', device: o.device, dtype: o.dtype });
  b.model.model.gradientCheckpointing = o.gradCheckpointing ?? false;
  const ce = new CrossEncoder(b.model, b.tokenizer, { maxLength: o.maxLength ?? 256, mode: o.mode ?? 'bidirectional' });
  try {
    let params: [string, Tensor][];
    if (o.full) {
      params = b.model.namedParameters();
      for (const [, p] of params) p.requiresGrad_(true);
    } else {
      applyLora(b.model, PAPER_LORA);
      params = loraParameters(b.model);
    }
    params = [...params, ['score.weight', ce.head.weight]];
    const n = o.negatives;
    const seed = o.seed ?? 0;
    const fpt = (T: number): number => flopsPerToken(b.config, { lmHead: false, seqLen: T });
    const task: TrainTask = {
      params,
      train: (on) => void b.model.train(on),
      micro(u): MicroResult {
        const idx = batchIndices(u, o.batchSize, o.examples.length, seed);
        const pairs: [string, string][] = [];
        for (const [i, e] of idx.map((j) => o.examples[j]!).entries()) {
          pairs.push([e.query, e.positive]);
          for (const neg of sampleWithoutReplacement(e.negatives, n, mixSeed(seed, 5, u, i))) pairs.push([e.query, neg]);
        }
        return tidy(() => {
          const s = ce.scores(pairs);
          const logits = s.scores.reshape([idx.length, 1 + n]); // [B, 1+n], the positive first
          const loss = crossEntropy(logits, Tensor.zeros([idx.length], 'i64', logits.device));
          return { loss, tokens: s.padded, flops: s.padded * fpt(s.seqLen) };
        });
      },
      exportTo: (dir) => {
        if (o.full) saveModel(dir, b.model, b.config, b.tokenizer.kind === 'hf' ? b.tokenizer.path : undefined);
        else saveAdapter(dir, b.model, { r: PAPER_LORA.r, alpha: PAPER_LORA.alpha, dropout: PAPER_LORA.dropout, layout: 'dense', baseModel: path.resolve(o.model) });
        ce.saveHead(dir);
      },
    };
    return runTraining(task, {
      outDir: o.output,
      steps: o.steps,
      gradAccum: 1,
      lr: o.lr,
      warmup: Math.round((o.warmupRatio ?? 0.04) * o.steps),
      weightDecay: 0,
      clip: 1,
      saveEvery: o.saveEvery ?? Math.max(1, Math.ceil(o.steps / 4)),
      maxSeconds: o.maxSeconds,
      device: b.model.device,
      config: { task: 'reranker', identity: { model: pathIdentity(o.model), examples: textsIdentity(o.examples.map((e) => JSON.stringify(e))) }, warmupRatio: o.warmupRatio ?? null, steps: o.steps, batchSize: o.batchSize, negatives: n, lr: o.lr, maxLength: o.maxLength ?? 256, mode: o.mode ?? 'bidirectional', full: o.full ?? false, seed },
      printEvery: 25,
      onProgress: o.onProgress,
    });
  } finally {
    ce.dispose();
    b.model.dispose();
  }
}
