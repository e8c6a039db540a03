/**
 * A flat dense index: exact inner-product top-k over all rows, in blocks of rows, with either
 * libtorch's matmul (BLAS) or a plain JavaScript loop.
 * @module
 */
import { join } from 'node:path';
import type { VectorIdentity } from '../types.ts';
import { parseContainer, sectionOf } from '../format.ts';
import { checkIdentity, readChecked, readManifest, verifyFile, type IndexManifest } from '../manifest.ts';
import { readDocIds, type RawHits } from '../sparse/index.ts';
import { TopK, offerAscending } from '../topk.ts';
import { halfTable } from './f16.ts';
import type { DenseDtype } from './build.ts';
import type { Tensor as TensorT } from '../../torch/index.ts';
import { ANN_FILE, AnnGraph, DEFAULT_ANN_EF } from './ann.ts';

export type DenseBackend = 'torch' | 'js';

export interface DenseSearchOptions {
  /** 'torch' (default): libtorch matmul; 'js': a plain loop (no libtorch needed). */
  backend?: DenseBackend;
  /** Rows scored per step; default: as many as keep a block's scores within 32 MiB (1024–16384). */
  blockRows?: number;
  /** Score every row even when the index has an HNSW graph; default false. */
  exact?: boolean;
  /** HNSW candidate list size (ef, ≥ k is useful); default 128. Larger: better recall, slower. */
  ef?: number;
  /** Threads for HNSW search; default 1 per call (batches: every core). */
  threads?: number;
}

type TorchModule = typeof import('../../torch/index.ts');
let torchModule: TorchModule | null = null;
async function torch(): Promise<TorchModule> {
  // loaded on first use only: sparse search and the JS path never load libtorch
  torchModule ??= await import('../../torch/index.ts');
  return torchModule;
}

export class DenseIndex {
  readonly dir: string;
  readonly manifest: IndexManifest;
  readonly docIds: string[];
  readonly N: number;
  readonly dim: number;
  readonly dtype: DenseDtype;
  /** Stored rows, row-major [N, dim]. */
  readonly vectors: Float32Array | Uint16Array | Int8Array;
  /** Per-row scales (int8 only). */
  readonly scales: Float32Array | null;
  #graph: Promise<AnnGraph> | null = null;
  #docTensor: TensorT | null = null;
  #scaleTensor: TensorT | null = null;

  private constructor(dir: string, m: IndexManifest, buffer: ArrayBuffer | SharedArrayBuffer, docIds: string[]) {
    this.dir = dir;
    this.manifest = m;
    this.docIds = docIds;
    const p = m.dense!;
    this.N = m.counts.docs;
    this.dim = p.dim;
    this.dtype = p.dtype;
    const label = join(dir, 'vectors.bin');
    const c = parseContainer(buffer, label);
    this.vectors =
      p.dtype === 'f32'
        ? sectionOf(c, 'vectors', 'f32', label)
        : p.dtype === 'f16'
          ? sectionOf(c, 'vectors', 'u16', label)
          : sectionOf(c, 'vectors', 'i8', label);
    this.scales = p.dtype === 'int8' ? sectionOf(c, 'scales', 'f32', label) : null;
    if (this.vectors.length !== this.N * this.dim)
      throw new Error(
        `lion: index file '${label}' holds ${this.vectors.length} values, expected ${this.N} × ${this.dim}; hint: rebuild the index`,
      );
  }

  /** Loads a dense index folder (one checksummed read per file). */
  static load(dir: string): DenseIndex {
    const m = readManifest(dir);
    // (a dense manifest without dense parameters is refused by readManifest)
    if (m.paradigm !== 'dense' || !m.dense)
      throw new Error(
        `lion: index '${dir}' is a ${m.paradigm} index, not a dense one; hint: search it with ${m.paradigm} query vectors, or build a dense index`,
      );
    return new DenseIndex(dir, m, readChecked(dir, m, 'vectors.bin'), readDocIds(dir, m));
  }

  checkIdentity(identity: VectorIdentity | undefined): void {
    checkIdentity(this.manifest.identity, identity, this.dir);
  }

  /** Rows [start, end) as f32 (a view for f32 storage, a converted copy otherwise). */
  rows(start: number, end: number): Float32Array {
    const d = this.dim;
    if (this.vectors instanceof Float32Array) return this.vectors.subarray(start * d, end * d);
    const out = new Float32Array((end - start) * d);
    if (this.vectors instanceof Uint16Array) {
      const tab = halfTable();
      const src = this.vectors;
      for (let i = 0, o = start * d; i < out.length; i++) out[i] = tab[src[o + i]!]!;
    } else {
      const src = this.vectors;
      const sc = this.scales!;
      for (let r = start; r < end; r++) {
        const s = sc[r]!;
        const o = r * d;
        const oo = (r - start) * d;
        for (let j = 0; j < d; j++) out[oo + j] = src[o + j]! * s;
      }
    }
    return out;
  }

  #checkQueries(queries: readonly Float32Array[]): void {
    for (let i = 0; i < queries.length; i++)
      if (queries[i]!.length !== this.dim)
        throw new Error(
          `lion search: query ${i} has dimension ${queries[i]!.length} but index '${this.dir}' has ${this.dim}; hint: the query vectors come from another model`,
        );
  }

  /** Whether the index holds an HNSW graph (searches use it unless `exact`). */
  get hasAnn(): boolean {
    return this.manifest.dense!.ann !== undefined;
  }

  /** The graph, opened (checksum verified, then memory-mapped) on first use. */
  #openGraph(): Promise<AnnGraph> {
    const p = this.manifest.dense!.ann!;
    this.#graph ??= (async () => {
      const path = verifyFile(
        this.dir,
        this.manifest,
        ANN_FILE,
        "rebuild the index with 'lion index --ann hnsw', or search with --exact",
      );
      return AnnGraph.open(path, this.dim, p);
    })();
    return this.#graph;
  }

  /**
   * Top-k by inner product for a batch of queries; hits best first, ties by doc number. Exact over
   * every row, or, when the index has an HNSW graph (and not `exact`), over the graph's candidates,
   * each rescored exactly from the stored rows.
   */
  async searchBatch(queries: readonly Float32Array[], k: number, opts: DenseSearchOptions = {}): Promise<RawHits[]> {
    this.#checkQueries(queries);
    const nq = queries.length;
    const tops = queries.map(() => new TopK(k));
    if (nq === 0 || this.N === 0) return tops.map(drain);
    const B = opts.blockRows ?? defaultBlockRows(nq);
    const q = new Float32Array(nq * this.dim);
    queries.forEach((v, i) => q.set(v, i * this.dim));
    if (this.hasAnn && !opts.exact) {
      const ef = opts.ef ?? DEFAULT_ANN_EF;
      const graph = await this.#openGraph();
      const cands = graph.candidates(q, nq, Math.min(this.N, Math.max(k, ef)), ef, opts.threads ?? (nq > 1 ? 0 : 1));
      cands.forEach((c, j) => this.#rescore(c, q, j, tops[j]!));
      return tops.map(drain);
    }
    if ((opts.backend ?? 'torch') === 'torch') await this.#torchScores(q, nq, B, tops);
    else this.#jsScores(q, nq, B, tops);
    return tops.map(drain);
  }

  async #torchScores(q: Float32Array, nq: number, B: number, tops: TopK[]): Promise<void> {
    const { Tensor, tidy } = await torch();
    const d = this.dim;
    // The stored matrix lives in libtorch for the index's life (dispose with close()), in its storage
    // type: f16 and int8 rows are widened to f32 block by block inside libtorch.
    if (!this.#docTensor) {
      const v = this.vectors;
      if (v instanceof Float32Array) this.#docTensor = Tensor.from(v, [this.N, d]).keep();
      else if (v instanceof Uint16Array) this.#docTensor = Tensor.from(v, [this.N, d], 'f16').keep();
      else {
        // int8 travels as its bytes (u8); two's complement is undone after widening
        this.#docTensor = Tensor.from(new Uint8Array(v.buffer, v.byteOffset, v.length), [this.N, d], 'u8').keep();
        this.#scaleTensor = Tensor.from(this.scales!, [this.N, 1]).keep();
      }
    }
    const all = this.#docTensor;
    const Q = Tensor.from(q, [nq, d]);
    const Qv = nq === 1 ? Q.reshape([d]) : null;
    try {
      // The first block only fills the queues (a top-k of every row, the costly path): a short one
      // fills them as well, and from the second block on only scores above each k-th leave libtorch.
      for (let start = 0, end = 0; start < this.N; start = end) {
        end = Math.min(this.N, start + (start === 0 ? Math.min(B, FIRST_BLOCK_ROWS) : B));
        const n = end - start;
        const scores = tidy(
          (): { all: Float32Array } | { above: Above } | { v: Float32Array; i: BigInt64Array; S: TensorT } => {
            let D = all.narrow(0, start, n);
            if (this.dtype === 'f16') D = D.to('f32');
            else if (this.dtype === 'int8') {
              const x = D.to('f32');
              D = x.sub(x.ge(128).to('f32').mul(256)).mul(this.#scaleTensor!.narrow(0, start, n));
            }
            // One query is a matrix-vector product: libtorch's mv reaches BLAS's gemv, 2.7x faster here
            // than the [1, d] x [d, n] gemm (which OpenBLAS runs with its matrix-matrix kernel).
            const S = Qv ? D.matmul(Qv).reshape([1, n]) : Q.matmul(D.transpose(0, 1)); // [nq, n]
            // Once every queue is full, only scores above its k-th can enter: libtorch marks them and
            // only those cross into JavaScript (a few per query after the first blocks), cheaper than
            // a top-k of every row. Earlier blocks (and k ≥ n) take the top-k path below.
            if (tops.every((t) => t.size === t.k)) return { above: this.#above(S, tops, nq, Tensor) };
            // Selection inside libtorch: only k + 1 candidates per query cross into JavaScript instead of
            // the whole block. The extra one tells whether ties cross the k-th place; such a row is then
            // scanned whole so that ties still go to the smaller doc number.
            const kk = Math.min(n, tops[0]!.k + 1);
            if (kk === n) return { all: S.contiguous().toArray() as Float32Array };
            const [v, i] = S.topk(kk, 1, true, true);
            return { v: v.toArray() as Float32Array, i: i.toArray() as BigInt64Array, S };
          },
        );
        if ('all' in scores) select(scores.all, nq, n, start, tops);
        else if ('above' in scores) {
          const { at, values } = scores.above;
          // positions in row-major order: each query's rows ascending, as ties need
          for (let c = 0; c < values.length; c++) {
            const p = at[c]!;
            const qi = Math.floor(p / n);
            tops[qi]!.push(values[c]!, start + (p - qi * n));
          }
        } else {
          try {
            selectTopk(scores.v, scores.i, scores.S, nq, n, start, tops, tidy);
          } finally {
            scores.S.dispose();
          }
        }
      }
    } finally {
      Qv?.dispose();
      Q.dispose();
    }
  }

  /**
   * The flat positions (query × n + row) of `S` [nq, n] scoring above each query's current k-th, and
   * their scores, in one pass inside libtorch's process (`rowsAbove`): measured 3× cheaper than `gt`,
   * the byte mask copied into JavaScript and scanned, and an `indexSelect` (bench/RESULTS.md, issue 15).
   */
  #above(S: TensorT, tops: TopK[], nq: number, Tensor: TorchModule['Tensor']): Above {
    const thr = Tensor.from(
      Float32Array.from(tops, (t) => t.threshold),
      [nq],
    );
    // strictly above: rows of this block come after every held doc, so an equal score cannot enter
    const [at, values] = S.rowsAbove(thr);
    return { at: at.toArray() as Int32Array, values: values.toArray() as Float32Array };
  }

  /** Offers candidate rows `c` (sorted here, in place) to `top` with their exact scores against query j of `q`. */
  #rescore(c: Int32Array, q: Float32Array, j: number, top: TopK): void {
    const d = this.dim;
    const qo = j * d;
    // ascending doc order, as the flat scan offers them, so ties resolve the same way
    for (const doc of c.sort()) {
      const row = this.rows(doc, doc + 1);
      let s = 0;
      for (let x = 0; x < d; x++) s += row[x]! * q[qo + x]!;
      const sc = Math.fround(s);
      if (top.wouldEnter(sc, doc)) top.push(sc, doc);
    }
  }

  #jsScores(q: Float32Array, nq: number, B: number, tops: TopK[]): void {
    const d = this.dim;
    for (let start = 0; start < this.N; start += B) {
      const end = Math.min(this.N, start + B);
      const n = end - start;
      const rows = this.rows(start, end);
      const scores = new Float32Array(nq * n);
      for (let r = 0; r < n; r++) {
        const ro = r * d;
        for (let j = 0; j < nq; j++) {
          const qo = j * d;
          let s = 0;
          for (let x = 0; x < d; x++) s += rows[ro + x]! * q[qo + x]!;
          scores[j * n + r] = s;
        }
      }
      select(scores, nq, n, start, tops);
    }
  }

  /** Frees the libtorch copy of the matrix, if any. */
  close(): void {
    this.#docTensor?.dispose();
    this.#scaleTensor?.dispose();
    this.#docTensor = null;
    this.#scaleTensor = null;
  }
}

/**
 * Rows per block for `nq` queries: the [nq, rows] f32 score block stays under 32 MiB, the largest
 * allocation glibc's malloc keeps reusing from its heap (larger ones are fresh mmaps, page-faulted in
 * again for every block: measured ~5% of a 1000-query batch at 16,384 rows).
 */
function defaultBlockRows(nq: number): number {
  const rows = Math.floor((32 * 2 ** 20 - 2 ** 16) / (4 * nq) / 1024) * 1024;
  return Math.min(16384, Math.max(1024, rows));
}

/** Rows of the first block of a libtorch scan (see #torchScores). */
const FIRST_BLOCK_ROWS = 1024;

/** Block scores above the queues' thresholds: `at` holds flat positions (query × rows + row), `values` their scores. */
interface Above {
  at: Int32Array;
  values: Float32Array;
}

/**
 * Offers each query's top k + 1 of one block ([nq, k + 1] values and row numbers, best first) to its
 * queue; a row whose k-th and (k+1)-th values tie is offered whole from the block's scores `S`.
 */
function selectTopk(
  v: Float32Array,
  idx: BigInt64Array,
  S: TensorT,
  nq: number,
  n: number,
  start: number,
  tops: TopK[],
  tidy: <T>(fn: () => T) => T,
): void {
  const kk = v.length / nq;
  for (let j = 0; j < nq; j++) {
    const top = tops[j]!;
    const o = j * kk;
    if (v[o + kk - 2] === v[o + kk - 1]) {
      select(
        tidy(() => S.narrow(0, j, 1).contiguous().toArray() as Float32Array),
        1,
        n,
        start,
        [top],
      );
      continue;
    }
    for (let r = 0; r < kk - 1; r++) {
      const sc = v[o + r]!;
      if (!top.wouldEnter(sc, start + Number(idx[o + r]!))) {
        // values come best first: an equal value with a larger row number may still follow
        if (sc < top.threshold) break;
        continue;
      }
      top.push(sc, start + Number(idx[o + r]!));
    }
  }
}

/** Offers one block of scores ([nq, n], row j for query j) to each query's queue, rows ascending. */
function select(scores: Float32Array, nq: number, n: number, start: number, tops: TopK[]): void {
  for (let j = 0; j < nq; j++) offerAscending(tops[j]!, scores.subarray(j * n, (j + 1) * n), start);
}

function drain(t: TopK): RawHits {
  return t.drain();
}
