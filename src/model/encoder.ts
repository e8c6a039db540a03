/**
 * Texts -> retrieval vectors by the paper's rules (docs/paper.md §1, §3, §4): BOS prepended, no EOS, pad = EOS,
 * left padding, bidirectional attention, per-kind maximum lengths; BEIR documents as title + " " + text.
 * @module
 */
import { Tensor, autocast, deviceType, noGrad, tidy } from '../torch/index.ts';
import type { Tokenizer } from '../text/tokenizer.ts';
import type { LlamaForCausalLM } from './llama.ts';
import { denseHead, sparseHead } from './heads.ts';
import type { Paradigm, SparseVector } from '../index/types.ts';

export type { Paradigm, SparseVector };
export type TextKind = 'query' | 'doc';

export interface MaxLengths {
  query: number;
  doc: number;
}
/** MS MARCO evaluation lengths (docs/paper.md §1: `eval_*.py` defaults) and BEIR's (`scripts/beir`). */
export const MSMARCO_LENGTHS: MaxLengths = { query: 64, doc: 192 };
export const BEIR_LENGTHS: MaxLengths = { query: 512, doc: 512 };

export interface EncoderOptions {
  paradigm: Paradigm;
  maxLength?: Partial<MaxLengths>;
  /** Texts per forward pass. */
  batchSize?: number;
  /** Keep only the k largest weights of each sparse vector (the paper keeps all). */
  topK?: number;
  /** Positions per chunk in the sparse head (bounds its memory). */
  chunk?: number;
  /**
   * Autocast the forward pass in this dtype over the loaded weights. With f32 weights this is the
   * paper's inference precision (spec: f32 weights, bf16 autocast), which keeps dense *queries* in pure
   * f32 as the authors' eval_dense.py does; set `autocastDenseQueries` to autocast those too.
   */
  autocast?: 'bf16' | 'f16';
  autocastDenseQueries?: boolean;
}

/**
 * How a document with a title field becomes one text to encode.
 * - `authors` (default): `title + " " + text` whenever the document has a title field, even an empty
 *   one, so an untitled BEIR document starts with a space. This is the authors' BEIR encoder, and the
 *   released models' BEIR numbers were produced this way.
 * - `clean`: the title and a space only when the title is not empty.
 * Documents without a title field (MS MARCO passages) are their text under both rules.
 */
export type DocTextRule = 'authors' | 'clean';
export const DOC_TEXT_RULES: readonly DocTextRule[] = ['authors', 'clean'];

/** A document's text as `rule` encodes it (see {@link DocTextRule}). */
export function beirDocText(doc: { title?: string; text: string }, rule: DocTextRule = 'authors'): string {
  if (doc.title === undefined || (rule === 'clean' && doc.title === '')) return doc.text;
  return `${doc.title} ${doc.text}`;
}

/** Nonzero entries of a dense weight row, ascending, optionally the top k by weight. */
export function toSparse(row: Float32Array, topK?: number): SparseVector {
  let idx: number[] = [];
  for (let j = 0; j < row.length; j++) if (row[j]! > 0) idx.push(j);
  if (topK !== undefined && idx.length > topK) {
    idx = idx.sort((a, b) => row[b]! - row[a]! || a - b).slice(0, topK).sort((a, b) => a - b);
  }
  return { indices: Uint32Array.from(idx), values: Float32Array.from(idx, (j) => row[j]!) };
}

export class Encoder {
  readonly paradigm: Paradigm;
  readonly maxLength: MaxLengths;
  readonly batchSize: number;
  readonly #o: EncoderOptions;

  constructor(
    readonly model: LlamaForCausalLM,
    readonly tokenizer: Tokenizer,
    o: EncoderOptions,
  ) {
    this.#o = o;
    this.paradigm = o.paradigm;
    this.maxLength = { ...MSMARCO_LENGTHS, ...o.maxLength };
    this.batchSize = o.batchSize ?? 32;
    if (o.paradigm === 'sparse' && !model.hasLmHead) throw new Error('lion: the sparse paradigm needs a model loaded with its LM head');
  }

  /** Vector dimension: vocabulary size for sparse, hidden size for dense. */
  get dim(): number {
    return this.paradigm === 'sparse' ? this.model.model.sizes.vocab : this.model.model.sizes.d;
  }

  /**
   * Encodes one batch of texts into a [B, dim] f32 matrix (row-major), in input order. Lengths are
   * sorted by the caller for speed when it wants to (see encodeAll).
   */
  encodeMatrix(texts: readonly string[], kind: TextKind): { data: Float32Array; tokens: number } {
    const batch = this.tokenizer.encodeBatch(texts, this.maxLength[kind]);
    const data = noGrad(() =>
      tidy(() => {
        const device = this.model.device;
        const ids = Tensor.from(BigInt64Array.from(batch.ids, (v) => BigInt(v)), [batch.batch, batch.seqLen], 'i64', device);
        const mask = Tensor.from(Int32Array.from(batch.attentionMask), [batch.batch, batch.seqLen], 'i32', device);
        const run = (): Tensor => {
          const hidden = this.model.model.forward(ids, mask, 'bidirectional'); // [B, T, d]
          return this.paradigm === 'sparse' ? sparseHead(hidden, mask, this.model.lmHeadWeight, { chunk: this.#o.chunk }) : denseHead(hidden, mask);
        };
        const ac = this.#o.autocast;
        const pureF32 = this.paradigm === 'dense' && kind === 'query' && !this.#o.autocastDenseQueries;
        const out = ac && !pureF32 ? autocast(ac, run, deviceType(device)) : run();
        return out.toFloat32Array();
      }),
    );
    return { data, tokens: batch.lengths.reduce((a, b) => a + b, 0) };
  }

  /**
   * Encodes any number of texts in batches of similar length (sorted, then restored to input order),
   * calling `onBatch` with progress. Returns sparse vectors or dense Float32Arrays.
   */
  encodeAll(texts: readonly string[], kind: TextKind, onBatch?: (done: number, tokens: number) => void): SparseVector[] | Float32Array[] {
    const lengths = texts.map((t) => t.length);
    const order = texts.map((_, i) => i).sort((a, b) => lengths[b]! - lengths[a]! || a - b);
    const out: (SparseVector | Float32Array)[] = new Array(texts.length);
    const dim = this.dim;
    for (let s = 0; s < order.length; s += this.batchSize) {
      const idx = order.slice(s, s + this.batchSize);
      const { data, tokens } = this.encodeMatrix(idx.map((i) => texts[i]!), kind);
      idx.forEach((i, r) => {
        const row = data.subarray(r * dim, (r + 1) * dim);
        out[i] = this.paradigm === 'sparse' ? toSparse(row, this.#o.topK) : row.slice();
      });
      onBatch?.(Math.min(s + this.batchSize, order.length), tokens);
    }
    return out as SparseVector[] | Float32Array[];
  }
}
