/**
 * Language-model tasks over packed token blocks: causal pre-training (to build small backbones from
 * scratch) and MNTP (docs/paper.md §2: bidirectional attention, masked tokens predicted from position t−1).
 * @module
 */
import { Tensor, crossEntropy, tidy, type Device } from '../torch/index.ts';
import type { LlamaForCausalLM } from '../model/llama.ts';
import { flopsPerToken } from './budget.ts';
import type { MicroResult, TrainTask } from './loop.ts';
import { maskTokens, type MaskingOptions } from './masking.ts';
import { batchIndices, mixSeed } from '../util/random.ts';
import { SOLO, shareOf, type Group } from '../parallel/group.ts';

export interface LmTaskOptions {
  model: LlamaForCausalLM;
  blocks: readonly Int32Array[];
  batchSize: number;
  seed: number;
  /** Which parameters train: LoRA adapters only, or everything. */
  params: [string, Tensor][];
  exportTo?: (dir: string) => void;
  validationBlocks?: readonly Int32Array[];
  /** Data-parallel ranks: each trains on its share of the global batch of `batchSize` blocks. */
  group?: Group;
}

/**
 * Shifted cross-entropy: logits at t−1 predict labels at t (HF's causal-LM loss, which MNTP inherits).
 * logits [B, L, V], labels [B, L] (−100 = ignore) -> mean over counted targets (or their sum).
 */
export function shiftedCrossEntropy(logits: Tensor, labels: Tensor, reduction: 'mean' | 'sum' = 'mean'): Tensor {
  return tidy(() => {
    const [B, L, V] = logits.shape as [number, number, number];
    const pred = logits.narrow(1, 0, L - 1).reshape([B * (L - 1), V]);
    const target = labels.narrow(1, 1, L - 1).reshape([B * (L - 1)]);
    return crossEntropy(pred, target, { ignoreIndex: -100, reduction });
  });
}

function blockBatch(blocks: readonly Int32Array[], idx: number[]): { ids: Int32Array; L: number } {
  const L = blocks[0]!.length;
  const ids = new Int32Array(idx.length * L);
  idx.forEach((b, r) => ids.set(blocks[b]!, r * L));
  return { ids, L };
}

const i64 = (a: Int32Array, shape: number[], device: Device): Tensor => Tensor.from(BigInt64Array.from(a, (v) => BigInt(v)), shape, 'i64', device);

abstract class BlockTask implements TrainTask {
  readonly params: [string, Tensor][];
  readonly exportTo?: (dir: string) => void;
  protected readonly fpt: number;
  constructor(protected readonly o: LmTaskOptions) {
    if (o.blocks.length === 0) throw new Error('lion: no training blocks; is the corpus shorter than one block?');
    this.params = o.params;
    this.exportTo = o.exportTo;
    this.fpt = flopsPerToken(o.model.arch, { lmHead: true, seqLen: o.blocks[0]!.length });
  }
  train(on: boolean): void {
    this.o.model.train(on);
  }
  /** The model's input and labels (−100: not a target) for blocks `ids`, and its attention. */
  protected abstract inputs(ids: Int32Array, seed: number): { input: Int32Array; labels: Int32Array };
  protected abstract readonly attention: 'causal' | 'bidirectional';
  /**
   * The batch's mean loss over its targets, restricted to rows [start, start+count): the sum over
   * those rows divided by the target count of all B rows, so that the ranks' shares add up to it.
   */
  protected lossOf(ids: Int32Array, B: number, L: number, seed: number, rows = { start: 0, count: B }): Tensor {
    const { input, labels } = this.inputs(ids, seed);
    let targets = 0;
    for (let r = 0; r < B; r++) for (let t = 1; t < L; t++) if (labels[r * L + t] !== -100) targets++;
    const mine = (a: Int32Array): Int32Array => a.subarray(rows.start * L, (rows.start + rows.count) * L);
    return tidy(() => {
      const device = this.o.model.device;
      const logits = this.o.model.forward(i64(mine(input), [rows.count, L], device), Tensor.ones([rows.count, L], 'i64', device), this.attention);
      return shiftedCrossEntropy(logits, i64(mine(labels), [rows.count, L], device), 'sum').div(Math.max(1, targets));
    });
  }
  micro(u: number): MicroResult {
    const idx = batchIndices(u, this.o.batchSize, this.o.blocks.length, this.o.seed);
    const { ids, L } = blockBatch(this.o.blocks, idx);
    // Masking is drawn over the whole global batch, then each rank takes its rows.
    const rows = shareOf(this.o.group ?? SOLO, idx.length, `batch of ${idx.length} blocks`);
    const tokens = rows.count * L;
    return { loss: this.lossOf(ids, idx.length, L, mixSeed(this.o.seed, 7, u), rows), tokens, flops: tokens * this.fpt };
  }
  validate(): Record<string, number> {
    const v = this.o.validationBlocks;
    if (!v || v.length === 0) return {};
    let sum = 0;
    for (let s = 0; s < v.length; s += this.o.batchSize) {
      const idx = Array.from({ length: Math.min(this.o.batchSize, v.length - s) }, (_, i) => s + i);
      const { ids, L } = blockBatch(v, idx);
      sum += tidy(() => this.lossOf(ids, idx.length, L, mixSeed(this.o.seed, 11, s)).item()) * idx.length;
    }
    const loss = sum / v.length;
    return { loss, perplexity: Math.exp(loss) };
  }
}

/** Causal language modelling: next-token cross-entropy with a causal mask. */
export class CausalLmTask extends BlockTask {
  protected readonly attention = 'causal';
  protected inputs(ids: Int32Array): { input: Int32Array; labels: Int32Array } {
    return { input: ids, labels: ids };
  }
}

/** MNTP: bidirectional attention over a masked block; position t−1 predicts the masked token at t. */
export class MntpTask extends BlockTask {
  protected readonly attention = 'bidirectional';
  constructor(o: LmTaskOptions, readonly masking: MaskingOptions) {
    super(o);
  }
  protected inputs(ids: Int32Array, seed: number): { input: Int32Array; labels: Int32Array } {
    return maskTokens(ids, this.masking, seed);
  }
}
