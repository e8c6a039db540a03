/**
 * Streaming construction of a sparse index in bounded memory.
 *
 * Documents arrive one at a time. Their postings collect in a fixed-size buffer; when it fills, the
 * buffer is sorted by term (counting sort, stable in document order) and spilled to a temporary run.
 * At the end the runs are merged term by term (each run is read sequentially, in term order, and runs
 * hold increasing document ranges, so concatenation keeps document order). The largest weight is
 * known only then, so quantisation to impacts happens during the merge and the forward index is
 * converted in one sequential pass.
 *
 * Memory: ~20 bytes × `memoryBudget` postings for the buffer, plus O(documents) for ids and offsets,
 * plus one term's postings during the merge.
 * @module
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Labelled, SparseVector, VectorIdentity } from '../types.ts';
import { ContainerWriter, hashFile } from '../format.ts';
import { Growable } from '../growable.ts';
import { RawReader, RawWriter, streamFile, openSync, closeSync } from '../rawio.ts';
import { BP128, maxBitWidth, pack, packedWords } from '../codec/bitpack.ts';
import { impactLevels, impactScale, quantizeImpact } from './quantize.ts';
import { bisectOrder, invertPermutation } from './reorder.ts';
import {
  INDEX_FORMAT,
  INDEX_FORMAT_VERSION,
  writeManifest,
  withAtomicDir,
  type IndexManifest,
  type FileEntry,
} from '../manifest.ts';

/** The largest vocabulary a sparse index takes (2^20 terms; Llama-3 has 128,256). */
export const MAX_VOCAB = 1 << 20;

export interface SparseBuildOptions {
  /** Vocabulary size (the tokenizer's); default: largest term id seen + 1. */
  vocabSize?: number;
  /** Impact width; default 8. */
  bits?: 8 | 16;
  /** Documents per block-max filter block (power of two); default 32. */
  docBlock?: number;
  /** Postings buffered before a spill; default 8M (~160 MB). */
  bufferPostings?: number;
  /** Who made the vectors; recorded in the manifest and checked against queries. */
  identity?: VectorIdentity;
  /** A free-text note of where the vectors came from (a file path). */
  source?: string;
  /** Replace an existing index at the output (never anything else there); default false. */
  overwrite?: boolean;
  /**
   * Document order inside the index: 'none' keeps input order; 'bp' renumbers documents by recursive
   * graph bisection (see reorder.ts) so that similar documents share blocks. Results, external ids,
   * runs and exports do not change: the index keeps each document's input number and reports it.
   * Default 'none'. Costs the forward index in memory (8 bytes per posting) during finish().
   */
  reorder?: DocOrder;
  /** BP swap rounds per bisection; default 20. */
  bpIterations?: number;
}

export const DOC_ORDERS = ['none', 'bp'] as const;
export type DocOrder = (typeof DOC_ORDERS)[number];

interface Run {
  counts: Uint32Array;
  n: number;
  /** In memory (the last buffer) or on disk. */
  docs?: Uint32Array;
  vals?: Float32Array;
  path?: string;
}

/** Builds one sparse index into an (empty, temporary) folder. */
export class SparseIndexBuilder {
  readonly dir: string;
  readonly #tmp: string;
  readonly #bits: 8 | 16;
  readonly #docBlock: number;
  readonly #reorder: DocOrder;
  readonly #bpIterations: number | undefined;
  #declaredVocab: number | undefined;
  /** Who made the vectors (may be completed before finish(), e.g. from a vector file's _meta line). */
  identity: VectorIdentity;
  readonly #source: string | undefined;
  readonly #t0 = performance.now();
  #peakRss = 0;

  readonly #ids: string[] = [];
  readonly #seen = new Set<string>();
  readonly #docStart = new Growable(Uint32Array, 1 << 16);
  readonly #fwdTerms: RawWriter;
  readonly #fwdVals: RawWriter;
  #nnz = 0;
  #maxWeight = 0;
  #maxTerm = -1;

  readonly #cap: number;
  readonly #bufTerm: Uint32Array;
  readonly #bufDoc: Uint32Array;
  readonly #bufVal: Float32Array;
  #fill = 0;
  #bufMaxTerm = -1;
  readonly #runs: Run[] = [];

  constructor(dir: string, opts: SparseBuildOptions = {}) {
    this.dir = dir;
    this.#bits = opts.bits ?? 8;
    if (this.#bits !== 8 && this.#bits !== 16)
      throw new Error(`lion index: --bits must be 8 or 16, got '${String(this.#bits)}'`);
    this.#docBlock = opts.docBlock ?? 32;
    if (!(this.#docBlock >= 1 && this.#docBlock <= 256 && (this.#docBlock & (this.#docBlock - 1)) === 0))
      throw new Error(`lion index: doc block must be a power of two in [1, 256], got '${this.#docBlock}'`);
    if (opts.vocabSize !== undefined) this.declareVocab(opts.vocabSize);
    this.#reorder = opts.reorder ?? 'none';
    if (!DOC_ORDERS.includes(this.#reorder))
      throw new Error(`lion index: --reorder must be one of ${DOC_ORDERS.join(', ')}, got '${String(this.#reorder)}'`);
    this.#bpIterations = opts.bpIterations;
    this.identity = opts.identity ?? {};
    this.#source = opts.source;
    this.#cap = Math.max(1024, opts.bufferPostings ?? 1 << 23);
    this.#bufTerm = new Uint32Array(this.#cap);
    this.#bufDoc = new Uint32Array(this.#cap);
    this.#bufVal = new Float32Array(this.#cap);
    this.#tmp = join(dir, '.build');
    mkdirSync(this.#tmp, { recursive: true });
    this.#fwdTerms = new RawWriter(join(this.#tmp, 'fwd-terms'));
    this.#fwdVals = new RawWriter(join(this.#tmp, 'fwd-vals'));
    this.#docStart.push(0);
  }

  /**
   * States the model's vocabulary size (known late when it comes from a vector file's `_meta` line).
   * Documents already added must lie inside it.
   */
  declareVocab(size: number): void {
    if (!(Number.isInteger(size) && size > 0 && size <= MAX_VOCAB))
      throw new Error(`lion index: vocabulary size must be an integer in [1, ${MAX_VOCAB}], got '${size}'`);
    if (this.#maxTerm >= size)
      throw new Error(
        `lion index: documents hold term id '${this.#maxTerm}' but the vocabulary has ${size} terms; hint: check --vocab-size or the tokenizer`,
      );
    this.#declaredVocab = size;
  }

  get docs(): number {
    return this.#ids.length;
  }

  /** Adds one document; `where` names it in errors (e.g. `file:line`). */
  add(id: string, v: SparseVector, where = `document '${id}'`): void {
    if (this.#seen.has(id))
      throw new Error(`lion index: duplicate document id '${id}' at ${where}; hint: ids must be unique`);
    const { indices, values } = v;
    const n = indices.length;
    if (values.length !== n) throw new Error(`lion index: ${where} has ${n} indices but ${values.length} values`);
    const vocab = this.#declaredVocab ?? MAX_VOCAB;
    const doc = this.#ids.length;
    let prev = -1;
    let kept = 0;
    for (let i = 0; i < n; i++) {
      const t = indices[i]!;
      const w = values[i]!;
      if (t <= prev)
        throw new Error(
          `lion index: ${where} has indices out of order at position ${i} ('${t}'); hint: sparse indices must be strictly ascending`,
        );
      if (t >= vocab)
        throw new Error(
          `lion index: ${where} has term id '${t}' outside the vocabulary of ${vocab} terms; hint: check --vocab-size or the tokenizer`,
        );
      if (!(w >= 0) || w === Infinity)
        throw new Error(
          `lion index: ${where} has weight '${w}' for term ${t}; hint: sparse weights must be finite and non-negative`,
        );
      prev = t;
      if (w === 0) continue;
      if (this.#fill === this.#cap) this.#spill();
      this.#bufTerm[this.#fill] = t;
      this.#bufDoc[this.#fill] = doc;
      this.#bufVal[this.#fill] = w;
      this.#fill++;
      if (t > this.#bufMaxTerm) this.#bufMaxTerm = t;
      if (w > this.#maxWeight) this.#maxWeight = w;
      kept++;
    }
    if (prev > this.#maxTerm) this.#maxTerm = prev;
    // The forward index keeps the same non-zero postings, in term order.
    if (kept === n) {
      this.#fwdTerms.append(indices);
      this.#fwdVals.append(values);
    } else {
      const ti = new Uint32Array(kept);
      const vi = new Float32Array(kept);
      for (let i = 0, j = 0; i < n; i++) {
        if (values[i]! > 0) {
          ti[j] = indices[i]!;
          vi[j++] = values[i]!;
        }
      }
      this.#fwdTerms.append(ti);
      this.#fwdVals.append(vi);
    }
    this.#nnz += kept;
    if (this.#nnz >= 2 ** 32)
      throw new Error('lion index: more than 2^32 postings; hint: split the corpus into several indexes');
    this.#docStart.push(this.#nnz);
    this.#ids.push(id);
    this.#seen.add(id);
  }

  /** Sorts the buffer by term (stable) and keeps it as a run: on disk, or in memory when `last`. */
  #spill(last = false): void {
    const n = this.#fill;
    const vc = this.#bufMaxTerm + 1;
    const counts = new Uint32Array(Math.max(vc, 0));
    const terms = this.#bufTerm;
    for (let i = 0; i < n; i++) counts[terms[i]!]!++;
    const pos = new Uint32Array(vc);
    for (let t = 1; t < vc; t++) pos[t] = pos[t - 1]! + counts[t - 1]!;
    const docs = new Uint32Array(n);
    const vals = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const p = pos[terms[i]!]!++;
      docs[p] = this.#bufDoc[i]!;
      vals[p] = this.#bufVal[i]!;
    }
    if (last) {
      this.#runs.push({ counts, n, docs, vals });
    } else {
      const path = join(this.#tmp, `run-${this.#runs.length}`);
      const w = new RawWriter(path);
      w.append(docs);
      w.append(vals);
      w.close();
      this.#runs.push({ counts, n, path });
    }
    this.#fill = 0;
    this.#bufMaxTerm = -1;
    this.#rss();
  }

  /**
   * Computes the BP order from the forward postings (read back into memory) and the renumbering
   * tables the merge and the forward pass use.
   */
  #reorderDocs(N: number, V: number): Reorder {
    const t0 = performance.now();
    const oldStart = this.#docStart.view();
    const terms = readWholeArray(this.#fwdTerms.path, Uint32Array);
    const vals = readWholeArray(this.#fwdVals.path, Float32Array);
    this.#rss();
    const order = bisectOrder(oldStart, terms, N, V, { iterations: this.#bpIterations });
    const newOf = invertPermutation(order);
    const docStart = new Uint32Array(N + 1);
    for (let i = 0; i < N; i++) docStart[i + 1] = docStart[i]! + oldStart[order[i]! + 1]! - oldStart[order[i]!]!;
    this.#rss();
    return {
      order,
      newOf,
      oldStart,
      docStart,
      terms,
      vals,
      valAt: new Float32Array(N),
      seconds: (performance.now() - t0) / 1000,
    };
  }

  #rss(): void {
    const r = process.memoryUsage().rss;
    if (r > this.#peakRss) this.#peakRss = r;
  }

  /** Merges, quantises and writes every file plus the manifest; returns the manifest. */
  finish(): IndexManifest {
    this.#spill(true);
    this.#fwdTerms.close();
    this.#fwdVals.close();
    const N = this.#ids.length;
    const V = this.#declaredVocab ?? this.#maxTerm + 1;
    const bits = this.#bits;
    const p: FinishPlan = {
      N,
      V,
      bits,
      levels: impactLevels(bits),
      scale: impactScale(this.#maxWeight, bits),
      // one code path for both widths; the casts only merge the two constructors' types
      Imp: (bits === 8 ? Uint8Array : Uint16Array) as unknown as typeof Uint16Array,
      shift: Math.log2(this.#docBlock),
      nDocBlocks: Math.ceil(N / this.#docBlock),
      re: this.#reorder === 'bp' && N > 1 ? this.#reorderDocs(N, V) : null,
    };
    const m = this.#mergeRuns(p);
    const files: Record<string, FileEntry> = {
      'postings.bin': this.#writePostings(p, m),
      'blockmax.bin': this.#writeBlockMax(p, m),
      'forward.bin': this.#writeForward(p),
      'docids.jsonl': this.#writeDocIds(),
    };
    rmSync(this.#tmp, { recursive: true, force: true });
    this.#rss();
    const { re, scale } = p;
    const posting = m.postings;
    const manifest: IndexManifest = {
      format: INDEX_FORMAT,
      formatVersion: INDEX_FORMAT_VERSION,
      paradigm: 'sparse',
      createdAt: new Date().toISOString(),
      identity: this.identity,
      counts: { docs: N, postings: posting, terms: V },
      sparse: { vocabSize: V, vocabDeclared: this.#declaredVocab !== undefined, bits, scale, codec: BP128.name, postingBlock: BP128.blockSize, docBlock: this.#docBlock, reorder: re ? 'bp' : 'none' },
      files,
      build: {
        seconds: (performance.now() - this.#t0) / 1000,
        peakRssBytes: this.#peakRss,
        ...(re ? { reorderSeconds: re.seconds } : {}),
        ...(this.#source ? { source: this.#source } : {}),
      },
    };
    return writeManifest(this.dir, manifest);
  }


  /**
   * Step 1 of finish(): merges the spilled runs term by term into BP128-compressed postings (in temp
   * files) with per-block maxima, and the per-term block maxima that BMP filters with.
   */
  #mergeRuns(p: FinishPlan): MergedPostings {
    const { V, levels, scale, Imp, shift, nDocBlocks, re } = p;
    const ib = p.bits / 8;
    const termStart = new Uint32Array(V + 1);
    const termBlockStart = new Uint32Array(V + 1);
    const termMax = new Imp(V);
    const blockLastDoc = new Growable(Uint32Array, 1 << 16);
    const blockWidth = new Growable(Uint8Array, 1 << 16);
    const blockWordStart = new Growable(Uint32Array, 1 << 16);
    const blockMax = new Growable(Imp, 1 << 16);
    const bmSparseStart = new Uint32Array(V + 1);
    const bmDenseIndex = new Int32Array(V).fill(-1);
    const words = new RawWriter(join(this.#tmp, 'words'));
    const impacts = new RawWriter(join(this.#tmp, 'impacts'));
    const bmBlocks = new RawWriter(join(this.#tmp, 'bm-blocks'));
    const bmMax = new RawWriter(join(this.#tmp, 'bm-max'));
    const bmDense = new RawWriter(join(this.#tmp, 'bm-dense'));
    let nDense = 0;
    let bmSparse = 0;
    let wordPos = 0;
    let posting = 0;

    const fds = this.#runs.map((r) => (r.path ? openSync(r.path, 'r') : -1));
    const docReaders = this.#runs.map((r, i) => (r.path ? new RawReader(fds[i]!, 0) : null));
    const valReaders = this.#runs.map((r, i) => (r.path ? new RawReader(fds[i]!, r.n * 4) : null));
    const memPos = this.#runs.map(() => 0);

    let cap = 1024;
    let tDocs = new Uint32Array(cap);
    let tVals = new Float32Array(cap);
    let tImp = new Imp(cap);
    const gaps = new Uint32Array(BP128.blockSize);
    const packed = new Uint32Array(BP128.blockSize + 1);
    const entryBlocks = new Growable(Uint32Array, 1 << 12);
    const entryMax = new Growable(Imp, 1 << 12);
    const dense = new Imp(nDocBlocks);

    try {
      for (let t = 0; t < V; t++) {
        let df = 0;
        for (const r of this.#runs) df += t < r.counts.length ? r.counts[t]! : 0;
        termStart[t] = posting;
        termBlockStart[t] = blockLastDoc.length;
        bmSparseStart[t] = bmSparse;
        if (df === 0) continue;
        if (df > cap) {
          while (cap < df) cap *= 2;
          tDocs = new Uint32Array(cap);
          tVals = new Float32Array(cap);
          tImp = new Imp(cap);
        }
        let at = 0;
        for (let ri = 0; ri < this.#runs.length; ri++) {
          const r = this.#runs[ri]!;
          const c = t < r.counts.length ? r.counts[t]! : 0;
          if (c === 0) continue;
          if (r.docs && r.vals) {
            tDocs.set(r.docs.subarray(memPos[ri]!, memPos[ri]! + c), at);
            tVals.set(r.vals.subarray(memPos[ri]!, memPos[ri]! + c), at);
            memPos[ri] = memPos[ri]! + c;
          } else {
            docReaders[ri]!.read(new Uint8Array(tDocs.buffer, at * 4, c * 4));
            valReaders[ri]!.read(new Uint8Array(tVals.buffer, at * 4, c * 4));
          }
          at += c;
        }
        if (re) renumberPostings(tDocs, tVals, df, re.newOf, re.valAt);
        let tmax = 0;
        for (let i = 0; i < df; i++) {
          const q = quantizeImpact(tVals[i]!, scale, levels);
          tImp[i] = q;
          if (q > tmax) tmax = q;
        }
        termMax[t] = tmax;

        // compressed doc-id gaps in blocks of 128, with each block's last doc, width and max impact
        let prev = -1;
        for (let s = 0; s < df; s += BP128.blockSize) {
          const n = Math.min(BP128.blockSize, df - s);
          let bmax = 0;
          for (let i = 0; i < n; i++) {
            const d = tDocs[s + i]!;
            gaps[i] = d - prev - 1;
            prev = d;
            const q = tImp[s + i]!;
            if (q > bmax) bmax = q;
          }
          const b = maxBitWidth(gaps, 0, n);
          const nw = packedWords(n, b);
          packed.fill(0, 0, nw);
          pack(gaps, 0, n, b, packed, 0);
          words.append(packed, 0, nw);
          blockLastDoc.push(prev);
          blockWidth.push(b);
          blockWordStart.push(wordPos);
          blockMax.push(bmax);
          wordPos += nw;
          if (wordPos >= 2 ** 32)
            throw new Error('lion index: posting data exceeds 16 GiB; hint: split the corpus into several indexes');
        }
        impacts.append(tImp, 0, df);
        posting += df;

        // per document block, the largest impact of this term (the BMP filter)
        entryBlocks.length = 0;
        entryMax.length = 0;
        let cur = -1;
        let m = 0;
        for (let i = 0; i < df; i++) {
          const blk = tDocs[i]! >>> shift;
          if (blk !== cur) {
            if (cur >= 0) {
              entryBlocks.push(cur);
              entryMax.push(m);
            }
            cur = blk;
            m = 0;
          }
          if (tImp[i]! > m) m = tImp[i]!;
        }
        entryBlocks.push(cur);
        entryMax.push(m);
        const e = entryBlocks.length;
        // A dense row costs ib bytes per block; a sparse entry 4 + ib bytes.
        if (e * (4 + ib) > nDocBlocks * ib) {
          dense.fill(0);
          const eb = entryBlocks.view();
          const em = entryMax.view();
          for (let i = 0; i < e; i++) dense[eb[i]!] = em[i]!;
          bmDense.append(dense);
          bmDenseIndex[t] = nDense++;
        } else {
          bmBlocks.append(entryBlocks.view());
          bmMax.append(entryMax.view());
          bmSparse += e;
        }
        if ((t & 4095) === 0) this.#rss();
      }
      termStart[V] = posting;
      termBlockStart[V] = blockLastDoc.length;
      bmSparseStart[V] = bmSparse;
      blockWordStart.push(wordPos);
    } finally {
      for (const fd of fds) if (fd >= 0) closeSync(fd);
    }
    for (const w of [words, impacts, bmBlocks, bmMax, bmDense]) w.close();
    return { termStart, termBlockStart, termMax, blockLastDoc, blockWidth, blockWordStart, blockMax, bmSparseStart, bmDenseIndex, words, impacts, bmBlocks, bmMax, bmDense, nDense, postings: posting };
  }

  /** Step 2: postings.bin, the term-ordered postings from the merge. */
  #writePostings(p: FinishPlan, m: MergedPostings): FileEntry {
    const { bits, Imp } = p;
    const { termStart, termBlockStart, termMax, blockLastDoc, blockWidth, blockWordStart, blockMax, words, impacts } = m;
    const w = new ContainerWriter(join(this.dir, 'postings.bin'));
    w.section('termStart', termStart);
    w.section('termBlockStart', termBlockStart);
    w.section('termMax', termMax);
    w.section('blockLastDoc', blockLastDoc.view());
    w.section('blockWidth', blockWidth.view());
    w.section('blockWordStart', blockWordStart.view());
    w.section('blockMax', blockMax.view());
    w.begin('words', 'u32');
    streamFile(words.path, Uint32Array, (c) => w.append(c));
    w.end();
    w.begin('impacts', bits === 8 ? 'u8' : 'u16');
    streamFile(impacts.path, Imp, (c) => w.append(c));
    w.end();
    return w.finish('sparse-postings', 1, { codec: BP128.name, blockSize: BP128.blockSize, bits });
  }

  /** Step 3: blockmax.bin, each term's largest impact per document block (sparse entries or dense rows). */
  #writeBlockMax(p: FinishPlan, m: MergedPostings): FileEntry {
    const { bits, Imp, nDocBlocks } = p;
    const { bmSparseStart, bmDenseIndex, bmBlocks, bmMax, bmDense, nDense } = m;
    const w = new ContainerWriter(join(this.dir, 'blockmax.bin'));
    w.section('sparseStart', bmSparseStart);
    w.section('denseIndex', bmDenseIndex);
    w.begin('sparseBlocks', 'u32');
    streamFile(bmBlocks.path, Uint32Array, (c) => w.append(c));
    w.end();
    w.begin('sparseMax', bits === 8 ? 'u8' : 'u16');
    streamFile(bmMax.path, Imp, (c) => w.append(c));
    w.end();
    w.begin('dense', bits === 8 ? 'u8' : 'u16');
    streamFile(bmDense.path, Imp, (c) => w.append(c));
    w.end();
    return w.finish('sparse-blockmax', 1, {
      docBlock: this.#docBlock,
      blocks: nDocBlocks,
      denseTerms: nDense,
    });
  }

  /** Step 4: forward.bin, per document block its (term, local doc, impact) postings sorted by term. */
  #writeForward(p: FinishPlan): FileEntry {
    const { N, bits, levels, scale, Imp, shift, nDocBlocks, re } = p;
    const w = new ContainerWriter(join(this.dir, 'forward.bin'));
    const docStart = re ? re.docStart : this.#docStart.view();
    const blockStart = new Uint32Array(nDocBlocks + 1);
    for (let b = 0; b <= nDocBlocks; b++) blockStart[b] = docStart[Math.min(N, b << shift)]!;
    w.section('blockStart', blockStart);
    const tFd = openSync(this.#fwdTerms.path, 'r');
    const vFd = openSync(this.#fwdVals.path, 'r');
    const tr = new RawReader(tFd, 0);
    const vr = new RawReader(vFd, 0);
    const terms = new RawWriter(join(this.#tmp, 'bf-terms'));
    const locals = new RawWriter(join(this.#tmp, 'bf-local'));
    const imps = new RawWriter(join(this.#tmp, 'bf-imp'));
    try {
      for (let b = 0; b < nDocBlocks; b++) {
        const p0 = blockStart[b]!;
        const n = blockStart[b + 1]! - p0;
        const bt = new Uint32Array(n);
        const bv = new Float32Array(n);
        if (re) {
          // the block's documents in their new order, from the forward postings held in memory
          for (let doc = b << shift, o = 0; doc < Math.min(N, (b + 1) << shift); doc++) {
            const old = re.order[doc]!;
            const s0 = re.oldStart[old]!;
            const s1 = re.oldStart[old + 1]!;
            bt.set(re.terms.subarray(s0, s1), o);
            bv.set(re.vals.subarray(s0, s1), o);
            o += s1 - s0;
          }
        } else {
          tr.read(new Uint8Array(bt.buffer));
          vr.read(new Uint8Array(bv.buffer));
        }
        // one numeric key per posting: term, then local doc, then impact (< 2^46, exact in f64)
        const keys = new Float64Array(n);
        const d0 = b << shift;
        for (let doc = d0, i = 0; doc < Math.min(N, d0 + this.#docBlock); doc++) {
          const e = docStart[doc + 1]! - p0;
          for (; i < e; i++) keys[i] = (bt[i]! * 256 + (doc - d0)) * 65536 + quantizeImpact(bv[i]!, scale, levels);
        }
        keys.sort();
        const ot = new Uint32Array(n);
        const ol = new Uint8Array(n);
        const oi = new Imp(n);
        for (let i = 0; i < n; i++) {
          const k = keys[i]!;
          const imp = k % 65536;
          const rest = (k - imp) / 65536;
          const loc = rest % 256;
          ot[i] = (rest - loc) / 256;
          ol[i] = loc;
          oi[i] = imp;
        }
        terms.append(ot);
        locals.append(ol);
        imps.append(oi);
      }
    } finally {
      closeSync(tFd);
      closeSync(vFd);
    }
    terms.close();
    locals.close();
    imps.close();
    w.begin('terms', 'u32');
    streamFile(terms.path, Uint32Array, (c) => w.append(c));
    w.end();
    w.begin('local', 'u8');
    streamFile(locals.path, Uint8Array, (c) => w.append(c));
    w.end();
    w.begin('impacts', bits === 8 ? 'u8' : 'u16');
    streamFile(imps.path, Imp, (c) => w.append(c));
    w.end();
    // internal number → input number, which is what search reports (and docids.jsonl is indexed by)
    if (re) w.section('origDoc', new Uint32Array(re.order.buffer, re.order.byteOffset, N));
    return w.finish('sparse-forward', 1, { bits, docBlock: this.#docBlock });
  }

  /** Step 5: docids.jsonl, the external id of every input document. */
  #writeDocIds(): FileEntry {
    const N = this.#ids.length;
    const path = join(this.dir, 'docids.jsonl');
    writeFileSync(path, this.#ids.map((id) => JSON.stringify(id)).join('\n') + (N ? '\n' : ''));
    return fileEntry(path);
  }
}

/** The BP renumbering tables that the merge and the forward pass use (see #reorderDocs). */
interface Reorder {
  /** new number → input number */
  order: Int32Array;
  /** input number → new number */
  newOf: Int32Array;
  oldStart: Uint32Array;
  docStart: Uint32Array;
  terms: Uint32Array;
  vals: Float32Array;
  valAt: Float32Array;
  seconds: number;
}

/** What every step of finish() needs to know about the index being written. */
interface FinishPlan {
  N: number;
  V: number;
  bits: 8 | 16;
  levels: number;
  scale: number;
  Imp: typeof Uint16Array;
  shift: number;
  nDocBlocks: number;
  re: Reorder | null;
}

/** The merge's output (step 1 of finish()): per-term offsets and block data in memory, the bulk in temp files. */
interface MergedPostings {
  termStart: Uint32Array;
  termBlockStart: Uint32Array;
  termMax: Uint16Array;
  blockLastDoc: Growable<Uint32Array>;
  blockWidth: Growable<Uint8Array>;
  blockWordStart: Growable<Uint32Array>;
  blockMax: Growable<Uint16Array>;
  bmSparseStart: Uint32Array;
  bmDenseIndex: Int32Array;
  words: RawWriter;
  impacts: RawWriter;
  bmBlocks: RawWriter;
  bmMax: RawWriter;
  bmDense: RawWriter;
  nDense: number;
  postings: number;
}

/** A raw temporary file read whole as one typed array. */
function readWholeArray<A extends Uint32Array | Float32Array>(
  path: string,
  Ctor: { new (b: ArrayBuffer, off: number, n: number): A },
): A {
  const b = readFileSync(path);
  const buf = b.byteOffset % 4 === 0 ? b : Buffer.from(b);
  return new Ctor(buf.buffer as ArrayBuffer, buf.byteOffset, buf.length / 4);
}

/**
 * Renumbers one term's postings (docs ascending in input numbering) to the new document numbers and
 * sorts them again, weights following their documents. `valAt` is N-long scratch.
 */
function renumberPostings(
  docs: Uint32Array,
  vals: Float32Array,
  n: number,
  newOf: Int32Array,
  valAt: Float32Array,
): void {
  for (let i = 0; i < n; i++) {
    const d = newOf[docs[i]!]!;
    docs[i] = d;
    valAt[d] = vals[i]!;
  }
  const ds = docs.subarray(0, n);
  ds.sort();
  for (let i = 0; i < n; i++) vals[i] = valAt[ds[i]!]!;
}

/** Size and sha256 of a written index file. */
export function fileEntry(path: string): FileEntry {
  return hashFile(path);
}

/**
 * Builds a sparse index at `outDir` (atomically) from labelled vectors, streaming.
 * @example
 * await buildSparseIndex('runs/idx', readSparseVectors('docs.jsonl'), { vocabSize: 128256 });
 */
export async function buildSparseIndex(
  outDir: string,
  vectors:
    AsyncIterable<Labelled<SparseVector> & { where?: string }> | Iterable<Labelled<SparseVector> & { where?: string }>,
  opts: SparseBuildOptions = {},
): Promise<IndexManifest> {
  return withAtomicDir(outDir, async (tmp) => {
    const b = new SparseIndexBuilder(tmp, opts);
    for await (const v of vectors) b.add(v.id, v.vector, v.where);
    return b.finish();
  }, { overwrite: opts.overwrite });
}
