/**
 * Retrieval fine-tuning (docs/paper.md §5): Lion-SP or Lion-DS with CL, KD (MarginMSE) or CL+KD, plus the
 * FLOPS regulariser for sparse. One micro-batch = B queries, each with one positive and n sampled hard
 * negatives (CL, CL+KD) or one negative (KD), all encoded with gradients through the same model.
 * @module
 */
import { Tensor, tidy } from '../torch/index.ts';
import type { TrainingExample } from '../data/training.ts';
import type { Tokenizer } from '../text/tokenizer.ts';
import type { LlamaForCausalLM } from '../model/llama.ts';
import { denseHead, sparseHead } from '../model/heads.ts';
import type { Paradigm } from '../model/encoder.ts';
import { flopsPerToken } from './budget.ts';
import type { MicroResult, TrainTask } from './loop.ts';
import { PAPER_FLOPS, TEMPERATURE, contrastiveLoss, flops, flopsWeight, klLoss, marginMseLoss, type Objective } from './objectives.ts';
import { batchIndices, mixSeed, sampleWithoutReplacement } from '../util/random.ts';
import { SOLO, gatherWithGrad, shareOf, type Group } from '../parallel/group.ts';
import { GradCache } from './grad-cache.ts';

/** A training example resolved to texts, teacher scores aligned with `negatives`. */
export interface ResolvedExample {
  query: string;
  positive: string;
  negatives: string[];
  positiveScore?: number;
  negativeScores?: number[];
}

export interface ResolveReport {
  examples: ResolvedExample[];
  /** Skipped, as the paper's pipeline skips them: no positive, or too few negatives. */
  skipped: { noPositive: number; fewNegatives: number; noTeacher: number };
}

/**
 * Turns examples with ids into texts. A document id missing from the corpus is an error (it means the
 * files do not belong together); examples without a positive, with fewer than `minNegatives`
 * negatives, or without teacher scores when `needTeacher`, are skipped and counted.
 */
export function resolveExamples(
  examples: readonly TrainingExample[],
  corpus: ReadonlyMap<string, string>,
  o: { minNegatives: number; needTeacher: boolean; file: string },
): ResolveReport {
  const skipped = { noPositive: 0, fewNegatives: 0, noTeacher: 0 };
  const out: ResolvedExample[] = [];
  const text = (r: { id?: string; text?: string }, what: string, i: number): string => {
    if (r.text !== undefined) return r.text;
    const t = r.id === undefined ? undefined : corpus.get(r.id);
    if (t === undefined) throw new Error(`lion: ${o.file}: example ${i + 1} names ${what} '${r.id}', which is not in the corpus; hint: pass the corpus these training files were made from`);
    return t;
  };
  examples.forEach((ex, i) => {
    if (ex.positives.length === 0) return void skipped.noPositive++;
    if (ex.negatives.length < o.minNegatives) return void skipped.fewNegatives++;
    if (o.needTeacher) {
      const ok = ex.positiveScores?.length === ex.positives.length && ex.negativeScores?.length === ex.negatives.length;
      if (!ok) {
        if (ex.positiveScores || ex.negativeScores) {
          throw new Error(`lion: ${o.file}: example ${i + 1} has ${ex.positiveScores?.length ?? 0}+${ex.negativeScores?.length ?? 0} teacher scores for ${ex.positives.length}+${ex.negatives.length} documents; hint: scores must align with pos and neg ids`);
        }
        return void skipped.noTeacher++;
      }
    }
    out.push({
      query: text(ex.query, 'query', i),
      positive: text(ex.positives[0]!, 'document', i),
      negatives: ex.negatives.map((n) => text(n, 'document', i)),
      positiveScore: ex.positiveScores?.[0],
      negativeScores: ex.negativeScores,
    });
  });
  return { examples: out, skipped };
}

export interface RetrievalTaskOptions {
  model: LlamaForCausalLM;
  tokenizer: Tokenizer;
  paradigm: Paradigm;
  objective: Objective;
  examples: readonly ResolvedExample[];
  batchSize: number;
  /** Hard negatives per query for CL and CL+KD (the paper: 16). */
  negatives: number;
  maxLength: { query: number; doc: number };
  seed: number;
  totalSteps: number;
  /** FLOPS weights (sparse only); the paper's 0.05 / 0.04 by default. */
  flopsLambda?: { query: number; doc: number };
  params: [string, Tensor][];
  exportTo?: (dir: string) => void;
  /** Validation metrics (e.g. nDCG@10 on a small dev collection). */
  validate?: () => Record<string, number>;
  /**
   * Data-parallel ranks: each encodes its share of the global batch (`batchSize` queries), and the
   * loss is taken on the all-gathered representations, as the authors train on 4 GPUs.
   */
  group?: Group;
  /** Gradient cache: encode this many texts per forward pass, the loss on the whole batch (GradCache). */
  gradCache?: number;
}

export class RetrievalTask implements TrainTask {
  readonly params: [string, Tensor][];
  readonly exportTo?: (dir: string) => void;
  readonly validate?: () => Record<string, number>;
  readonly #T: number;
  readonly #lambda: { query: number; doc: number };

  constructor(readonly o: RetrievalTaskOptions) {
    if (o.examples.length === 0) throw new Error('lion: no usable training examples');
    this.params = o.params;
    this.exportTo = o.exportTo;
    this.validate = o.validate;
    this.#T = TEMPERATURE[o.paradigm];
    this.#lambda = o.flopsLambda ?? PAPER_FLOPS;
  }

  train(on: boolean): void {
    this.o.model.train(on);
  }

  /** Encodes texts with gradients: [N, V] sparse weights or [N, d] dense vectors, and padded tokens. */
  #encode(texts: string[], maxLength: number): { reps: Tensor; padded: number; seqLen: number } {
    const b = this.o.tokenizer.encodeBatch(texts, maxLength);
    return tidy(() => {
      const device = this.o.model.device;
      const ids = Tensor.from(BigInt64Array.from(b.ids, (v) => BigInt(v)), [b.batch, b.seqLen], 'i64', device);
      const mask = Tensor.from(Int32Array.from(b.attentionMask), [b.batch, b.seqLen], 'i32', device);
      const h = this.o.model.model.forward(ids, mask, 'bidirectional');
      const reps = this.o.paradigm === 'sparse' ? sparseHead(h, mask, this.o.model.lmHeadWeight) : denseHead(h, mask);
      return { reps, padded: b.batch * b.seqLen, seqLen: b.seqLen };
    });
  }

  /**
   * This rank's representations, with grad or (gradient cache) as leaves to be backpropagated by the
   * cache; tokens and FLOPs are this rank's.
   */
  #represent(queries: string[], docs: string[]): { q: Tensor; d: Tensor; tokens: number; flops: number; cache: GradCache | null } {
    const o = this.o;
    let tokens = 0;
    let flops = 0;
    let counting = true;
    const enc = (texts: string[], maxLength: number): Tensor => {
      const r = this.#encode(texts, maxLength);
      if (counting) {
        tokens += r.padded;
        flops += r.padded * flopsPerToken(o.model.arch, { lmHead: o.paradigm === 'sparse', seqLen: r.seqLen });
      }
      return r.reps;
    };
    if (!o.gradCache) return { q: enc(queries, o.maxLength.query), d: enc(docs, o.maxLength.doc), tokens, flops, cache: null };
    const cache = new GradCache(o.gradCache);
    const q = cache.add(queries.length, (s, c) => enc(queries.slice(s, s + c), o.maxLength.query));
    const d = cache.add(docs.length, (s, c) => enc(docs.slice(s, s + c), o.maxLength.doc));
    counting = false; // the re-encoding with grad, in the loop's backward, is counted below
    // One more forward pass per token than without the cache (2 of the 6 FLOPs per parameter).
    return { q, d, tokens, flops: (flops * 4) / 3, cache };
  }

  micro(u: number, step: number): MicroResult {
    const o = this.o;
    const group = o.group ?? SOLO;
    const idx = batchIndices(u, o.batchSize, o.examples.length, o.seed);
    const exs = idx.map((i) => o.examples[i]!);
    const B = exs.length;
    // Negatives: n sampled without replacement each time an example is read (KD: one), seeded by (u, i).
    const n = o.objective === 'kd' ? 1 : o.negatives;
    const negIdx = exs.map((e, i) => sampleWithoutReplacement(e.negatives.map((_, j) => j), n, mixSeed(o.seed, 3, u, i)));
    const device = o.model.device;
    // This rank's share of the global batch, in the order one process reads it.
    const share = shareOf(group, B, `batch of ${B} queries`);
    const mine = exs.slice(share.start, share.start + share.count);
    const myNeg = negIdx.slice(share.start, share.start + share.count);
    return tidy(() => {
      const local = this.#represent(mine.map((e) => e.query), [...mine.map((e) => e.positive), ...mine.flatMap((e, i) => myNeg[i]!.map((j) => e.negatives[j]!))]);
      // The global batch, laid out as one process would encode it: [queries], [positives, negatives].
      const b = share.count;
      const q = { reps: gatherWithGrad(group, local.q) };
      const d = { reps: group.size === 1 ? local.d : Tensor.cat([gatherWithGrad(group, local.d.narrow(0, 0, b)), gatherWithGrad(group, local.d.narrow(0, b, b * n))], 0) };
      const metrics: Record<string, number> = {};
      let loss: Tensor;
      if (o.objective === 'kd') {
        const pos = d.reps.narrow(0, 0, B);
        const neg = d.reps.narrow(0, B, B);
        const tPos = Tensor.from(exs.map((e) => e.positiveScore!), [B], 'f32', device);
        const tNeg = Tensor.from(exs.map((e, i) => e.negativeScores![negIdx[i]![0]!]!), [B], 'f32', device);
        loss = marginMseLoss(q.reps.mul(pos).sum(1), q.reps.mul(neg).sum(1), tPos, tNeg, this.#T);
      } else {
        const cl = contrastiveLoss(q.reps, d.reps, this.#T);
        metrics.cl = cl.item();
        loss = cl;
        if (o.objective === 'cl+kd') {
          // Each query's own candidates: its positive (column i) and its n negatives (B + i·n + k).
          const own = Int32Array.from({ length: B * (1 + n) }, (_, r) => {
            const i = Math.floor(r / (1 + n));
            const k = r % (1 + n);
            return k === 0 ? i : B + i * n + (k - 1);
          });
          const scores = q.reps.matmul(d.reps.T); // [B, C]
          const student = scores.gather(1, Tensor.from(BigInt64Array.from(own, (v) => BigInt(v)), [B, 1 + n], 'i64', device));
          const teacher = Tensor.from(exs.flatMap((e, i) => [e.positiveScore!, ...negIdx[i]!.map((j) => e.negativeScores![j]!)]), [B, 1 + n], 'f32', device);
          const kl = klLoss(student, teacher, this.#T);
          metrics.kl = kl.item();
          loss = cl.mul(0.5).add(kl.mul(0.5));
        }
      }
      if (o.paradigm === 'sparse') {
        const lq = flopsWeight(this.#lambda.query, step, o.totalSteps);
        const ld = flopsWeight(this.#lambda.doc, step, o.totalSteps);
        const fq = flops(q.reps);
        // MarginMSE's document term is the mean of the positives' and the negatives' FLOPS (docs/paper.md §4).
        const fd = o.objective === 'kd' ? flops(d.reps.narrow(0, 0, B)).add(flops(d.reps.narrow(0, B, B))).mul(0.5) : flops(d.reps);
        metrics.flopsQ = fq.item();
        metrics.flopsD = fd.item();
        metrics.nnzQ = q.reps.gt(0).sum().item() / B;
        metrics.nnzD = d.reps.gt(0).sum().item() / d.reps.size(0);
        loss = loss.add(fq.mul(lq)).add(fd.mul(ld));
      }
      const cache = local.cache;
      const backward = cache ? (scale: number, forward: <T>(f: () => T) => T) => cache.backward(loss, scale, forward) : undefined;
      return { loss, tokens: local.tokens, flops: local.flops, metrics, replicated: true, ...(backward ? { backward } : {}) };
    });
  }
}
