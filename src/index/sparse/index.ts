/**
 * A sparse index loaded for search: its arrays (one read per file, checksummed), its document ids, and
 * the entry points of the query algorithms.
 * @module
 */
import { join } from 'node:path';
import type { SparseVector, VectorIdentity } from '../types.ts';
import { parseContainer, sectionOf } from '../format.ts';
import { checkIdentity, readChecked, readManifest, type IndexManifest } from '../manifest.ts';
import type { ImpactArray, Scratch, SparseIndexData } from './data.ts';
import { makeScratch } from './data.ts';
import { invertPermutation } from './reorder.ts';
import { quantizeQuery, type QuantQuery } from './quantize.ts';
import { exhaustive } from '../query/exhaustive.ts';
import { bmp, type BmpStats } from '../query/bmp.ts';
import { maxscore } from '../query/maxscore.ts';
import type { TopK } from '../topk.ts';

/** Query algorithms by the name used in CLI flags, manifests and tests. */
export const SPARSE_ALGORITHMS = ['exhaustive', 'bmp', 'maxscore'] as const;
export type SparseAlgorithm = (typeof SPARSE_ALGORITHMS)[number];

export interface SparseSearchOptions {
  /** Default 'bmp' (safe block-max pruning); 'exhaustive' is the exact reference. */
  algorithm?: SparseAlgorithm;
  /**
   * Approximation for 'bmp': skip blocks whose bound × alpha is below the k-th score. 1 (default) is
   * safe (exact); smaller is faster with lower recall.
   */
  alpha?: number;
  /** For 'bmp': allow the cost-based hand-over to exhaustive scoring (default true). */
  fallback?: boolean;
}

/** The files of a sparse index, read as raw buffers (shareable with worker threads). */
export interface SparseBuffers {
  postings: ArrayBuffer | SharedArrayBuffer;
  forward: ArrayBuffer | SharedArrayBuffer;
  blockmax: ArrayBuffer | SharedArrayBuffer;
}

export function readSparseBuffers(dir: string, m: IndexManifest, shared = false): SparseBuffers {
  return {
    postings: readChecked(dir, m, 'postings.bin', shared),
    forward: readChecked(dir, m, 'forward.bin', shared),
    blockmax: readChecked(dir, m, 'blockmax.bin', shared),
  };
}

/** Views the arrays of an index over its file buffers (no copies). */
export function sparseData(m: IndexManifest, b: SparseBuffers, dir = '.'): SparseIndexData {
  const p = m.sparse;
  if (!p || m.paradigm !== 'sparse') throw new Error(`lion: index '${dir}' is a ${m.paradigm} index, not a sparse one`);
  const imp = p.bits === 8 ? 'u8' : 'u16';
  const P = parseContainer(b.postings, join(dir, 'postings.bin'));
  const F = parseContainer(b.forward, join(dir, 'forward.bin'));
  const B = parseContainer(b.blockmax, join(dir, 'blockmax.bin'));
  const lp = join(dir, 'postings.bin');
  const lf = join(dir, 'forward.bin');
  const lb = join(dir, 'blockmax.bin');
  const N = m.counts.docs;
  const shift = Math.log2(p.docBlock);
  return {
    N,
    V: p.vocabSize,
    vocabDeclared: p.vocabDeclared ?? false,
    bits: p.bits,
    scale: p.scale,
    termStart: sectionOf(P, 'termStart', 'u32', lp),
    termBlockStart: sectionOf(P, 'termBlockStart', 'u32', lp),
    termMax: sectionOf(P, 'termMax', imp, lp) as ImpactArray,
    blockLastDoc: sectionOf(P, 'blockLastDoc', 'u32', lp),
    blockWidth: sectionOf(P, 'blockWidth', 'u8', lp),
    blockWordStart: sectionOf(P, 'blockWordStart', 'u32', lp),
    blockMax: sectionOf(P, 'blockMax', imp, lp) as ImpactArray,
    words: sectionOf(P, 'words', 'u32', lp),
    impacts: sectionOf(P, 'impacts', imp, lp) as ImpactArray,
    fwdBlockStart: sectionOf(F, 'blockStart', 'u32', lf),
    fwdTerms: sectionOf(F, 'terms', 'u32', lf),
    fwdLocal: sectionOf(F, 'local', 'u8', lf),
    fwdImpacts: sectionOf(F, 'impacts', imp, lf) as ImpactArray,
    origDoc: p.reorder === 'bp' ? sectionOf(F, 'origDoc', 'u32', lf) : null,
    docBlockShift: shift,
    nDocBlocks: Math.ceil(N / p.docBlock),
    bmSparseStart: sectionOf(B, 'sparseStart', 'u32', lb),
    bmSparseBlocks: sectionOf(B, 'sparseBlocks', 'u32', lb),
    bmSparseMax: sectionOf(B, 'sparseMax', imp, lb) as ImpactArray,
    bmDenseIndex: sectionOf(B, 'denseIndex', 'i32', lb),
    bmDense: sectionOf(B, 'dense', imp, lb) as ImpactArray,
  };
}

export function readDocIds(dir: string, m: IndexManifest): string[] {
  const buf = readChecked(dir, m, 'docids.jsonl');
  const text = Buffer.from(buf).toString('utf8');
  const ids = text.length
    ? text
        .trimEnd()
        .split('\n')
        .map((l) => JSON.parse(l) as string)
    : [];
  if (ids.length !== m.counts.docs)
    throw new Error(
      `lion: index '${dir}' lists ${ids.length} document ids but its manifest counts ${m.counts.docs}; hint: rebuild the index`,
    );
  return ids;
}

/** The stored vectors (impacts × scale) of every document in block `b`, in document order. */
export function blockDocuments(d: SparseIndexData, b: number): SparseVector[] {
  const d0 = b << d.docBlockShift;
  const n = Math.min(d.N, d0 + (1 << d.docBlockShift)) - d0;
  const counts = new Uint32Array(n);
  const p0 = d.fwdBlockStart[b]!;
  const p1 = d.fwdBlockStart[b + 1]!;
  for (let p = p0; p < p1; p++) counts[d.fwdLocal[p]!]!++;
  const out = Array.from(counts, (c) => ({ indices: new Uint32Array(c), values: new Float32Array(c) }));
  const fill = new Uint32Array(n);
  // postings are sorted by term, so each document's terms come out ascending
  for (let p = p0; p < p1; p++) {
    const l = d.fwdLocal[p]!;
    const v = out[l]!;
    v.indices[fill[l]!] = d.fwdTerms[p]!;
    v.values[fill[l]!++] = d.fwdImpacts[p]! * d.scale;
  }
  return out;
}

/** Raw top-k: internal doc numbers and float scores, best first. */
export interface RawHits {
  docs: Int32Array;
  scores: Float64Array;
}

/** Runs one algorithm over quantised data; shared by the main thread and workers. */
export function runSparse(
  d: SparseIndexData,
  q: QuantQuery,
  k: number,
  s: Scratch,
  opts: SparseSearchOptions = {},
  stats?: BmpStats,
): RawHits {
  const algo = opts.algorithm ?? 'bmp';
  let top: TopK;
  if (algo === 'exhaustive') top = exhaustive(d, q, k, s);
  else if (algo === 'bmp') top = bmp(d, q, k, s, opts.alpha ?? 1, stats, opts.fallback ?? true);
  else if (algo === 'maxscore') top = maxscore(d, q, k, s);
  else
    throw new Error(`lion search: unknown algorithm '${String(algo)}'; hint: one of ${SPARSE_ALGORITHMS.join(', ')}`);
  const { docs, scores } = top.drain();
  for (let i = 0; i < scores.length; i++) scores[i] = scores[i]! * q.scoreScale;
  return { docs, scores };
}

export class SparseIndex {
  readonly dir: string;
  readonly manifest: IndexManifest;
  readonly data: SparseIndexData;
  readonly buffers: SparseBuffers;
  readonly docIds: string[];
  #scratch: Scratch | null = null;
  /** Input number → internal number (reordered indexes; built on first use). */
  #internalOf: Int32Array | null = null;

  private constructor(dir: string, manifest: IndexManifest, buffers: SparseBuffers, docIds: string[]) {
    this.dir = dir;
    this.manifest = manifest;
    this.buffers = buffers;
    this.data = sparseData(manifest, buffers, dir);
    this.docIds = docIds;
  }

  /**
   * Loads an index folder: each file in one read, checked against the manifest's sha256. `shared`
   * puts the arrays in shared memory so worker threads can search them without copies.
   */
  static load(dir: string, opts: { shared?: boolean } = {}): SparseIndex {
    const m = readManifest(dir);
    if (m.paradigm !== 'sparse') throw new Error(`lion: index '${dir}' is a ${m.paradigm} index, not a sparse one; hint: search it with ${m.paradigm} query vectors, or build a sparse index`);
    return new SparseIndex(dir, m, readSparseBuffers(dir, m, opts.shared ?? false), readDocIds(dir, m));
  }

  get size(): number {
    return this.data.N;
  }

  /** Checks a query batch's identity against the index's (model and tokenizer). */
  checkIdentity(identity: VectorIdentity | undefined): void {
    checkIdentity(this.manifest.identity, identity, this.dir);
  }

  quantize(q: SparseVector, label?: string): QuantQuery {
    return quantizeQuery(q, { size: this.data.V, declared: this.data.vocabDeclared }, this.data.scale, label);
  }

  /** The k best documents for one query (internal numbers and scores). */
  searchRaw(q: SparseVector, k: number, opts: SparseSearchOptions = {}, stats?: BmpStats, label?: string): RawHits {
    this.#scratch ??= makeScratch(this.data);
    return runSparse(this.data, this.quantize(q, label), k, this.#scratch, opts, stats);
  }

  /** The k best documents for one query, with external ids. */
  search(q: SparseVector, k: number, opts: SparseSearchOptions = {}): { docId: string; score: number }[] {
    const { docs, scores } = this.searchRaw(q, k, opts);
    return Array.from(docs, (doc, i) => ({ docId: this.docIds[doc]!, score: scores[i]! }));
  }

  /**
   * Every document's stored vector with its number, in input order (so exports do not depend on the
   * internal order). A reordered index decodes one block per document: ~docBlock× the work of a
   * sequential pass, still small beside writing the vectors out as text.
   */
  *documents(): Generator<[number, SparseVector]> {
    const d = this.data;
    if (d.origDoc === null) {
      for (let b = 0; b < d.nDocBlocks; b++) {
        const docs = blockDocuments(d, b);
        for (let l = 0; l < docs.length; l++) yield [(b << d.docBlockShift) + l, docs[l]!];
      }
      return;
    }
    for (let doc = 0; doc < d.N; doc++) yield [doc, this.document(doc)];
  }

  /** Document `doc`'s stored vector (impacts × scale), from the forward index. */
  document(doc: number): SparseVector {
    const od = this.data.origDoc;
    if (od) this.#internalOf ??= invertPermutation(od);
    const i = this.#internalOf ? this.#internalOf[doc]! : doc;
    return blockDocuments(this.data, i >>> this.data.docBlockShift)[i & ((1 << this.data.docBlockShift) - 1)]!;
  }

  /** Number of postings. */
  get postings(): number {
    return this.data.termStart[this.data.V]!;
  }
}
