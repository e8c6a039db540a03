/**
 * BM25 over an in-memory inverted index, scoring exactly as Lucene's BM25Similarity (Lucene 8+,
 * as used by Anserini): per matching term
 *
 *     score = w − w / (1 + tf · normInv[norm(d)]),   w = qtf · idf,
 *     idf = ln(1 + (N − df + 0.5) / (df + 0.5)),
 *     normInv = 1 / (k1 · ((1 − b) + b · |d|̃ / avgdl)),
 *
 * which equals the textbook idf · tf·(k1+1)/(tf + k1·(…)) divided by the constant (k1 + 1). |d|̃ is the
 * document length after Lucene's one-byte norm encoding; N and avgdl count documents with at least
 * one term; float32 rounding follows Lucene's. Query terms repeated q times weigh q (Anserini's
 * bag-of-words query). Defaults k1 = 0.9, b = 0.4 are Anserini's (Lucene's own are 1.2, 0.75).
 *
 * Layout: postings in CSR form (`offsets`, `postDocs`, `postTfs` as typed arrays), one norm byte per
 * document; search is term-at-a-time into a dense accumulator, then a k-heap.
 * @module
 */
import type { Doc, Hit, Run } from '../data/types.ts';
import type { SparseVector } from '../index/types.ts';
import { englishAnalyzer, type Analyzer } from './analyzer.ts';
import { byte4ToInt, intToByte4 } from './lucene-norms.ts';
import { Growable } from '../index/growable.ts';
import { TopK } from '../index/topk.ts';

export interface Bm25Params {
  k1: number;
  b: number;
}

/** Anserini's BM25 defaults. */
export const ANSERINI_BM25: Readonly<Bm25Params> = { k1: 0.9, b: 0.4 };

/** A sparse vector over the BM25 vocabulary's term ids (Lion's one sparse vector type). */
export type { SparseVector };

export interface Bm25BuildOptions extends Partial<Bm25Params> {
  /** The analyser (default: englishAnalyzer()). */
  analyzer?: Analyzer;
  /** Called every `progressEvery` documents with the count so far. */
  onProgress?: (docs: number) => void;
  progressEvery?: number;
}

const f32 = Math.fround;

/** Builds an index incrementally; `finish()` freezes it into a Bm25Index. */
export class Bm25Builder {
  private readonly analyzer: Analyzer;
  private readonly vocab = new Map<string, number>();
  private readonly terms: string[] = [];
  private readonly docIds: string[] = [];
  private readonly lengths = new Growable(Uint32Array);
  private readonly pTerm = new Growable(Uint32Array, 1 << 16);
  private readonly pDoc = new Growable(Uint32Array, 1 << 16);
  private readonly pTf = new Growable(Uint32Array, 1 << 16);

  constructor(private readonly opts: Bm25BuildOptions = {}) {
    this.analyzer = opts.analyzer ?? englishAnalyzer();
  }

  /** Adds one document; title and text are indexed as one field ("flat", as Anserini's BEIR flat index). */
  add(doc: Doc): void {
    const d = this.docIds.length;
    this.docIds.push(doc.id);
    const tokens = this.analyzer(doc.title ? `${doc.title} ${doc.text}` : doc.text);
    this.lengths.push(tokens.length);
    const ids = new Uint32Array(tokens.length);
    for (let i = 0; i < tokens.length; i++) {
      const t = tokens[i]!;
      let id = this.vocab.get(t);
      if (id === undefined) {
        id = this.terms.length;
        this.vocab.set(t, id);
        this.terms.push(t);
      }
      ids[i] = id;
    }
    ids.sort();
    for (let i = 0; i < ids.length;) {
      let j = i + 1;
      while (j < ids.length && ids[j] === ids[i]) j++;
      this.pTerm.push(ids[i]!);
      this.pDoc.push(d);
      this.pTf.push(j - i);
      i = j;
    }
  }

  finish(): Bm25Index {
    const nTerms = this.terms.length;
    const pTerm = this.pTerm.view();
    const df = new Uint32Array(nTerms);
    for (let i = 0; i < pTerm.length; i++) df[pTerm[i]!]!++;
    const offsets = new Float64Array(nTerms + 1); // Float64: more than 2^32 postings must not wrap
    for (let t = 0; t < nTerms; t++) offsets[t + 1] = offsets[t]! + df[t]!;
    const fill = offsets.slice(0, nTerms);
    const postDocs = new Uint32Array(pTerm.length);
    const postTfs = new Uint32Array(pTerm.length);
    const pDoc = this.pDoc.view();
    const pTf = this.pTf.view();
    // Counting sort by term; stable, so each posting list stays in ascending doc order.
    for (let i = 0; i < pTerm.length; i++) {
      const at = fill[pTerm[i]!]!++;
      postDocs[at] = pDoc[i]!;
      postTfs[at] = pTf[i]!;
    }
    return new Bm25Index({
      docIds: this.docIds,
      terms: this.terms,
      vocab: this.vocab,
      df,
      offsets,
      postDocs,
      postTfs,
      lengths: this.lengths.view().slice(),
      params: { k1: this.opts.k1 ?? ANSERINI_BM25.k1, b: this.opts.b ?? ANSERINI_BM25.b },
      analyzer: this.analyzer,
    });
  }
}

interface IndexParts {
  docIds: string[];
  terms: string[];
  vocab: Map<string, number>;
  df: Uint32Array;
  offsets: Float64Array;
  postDocs: Uint32Array;
  postTfs: Uint32Array;
  lengths: Uint32Array;
  params: Bm25Params;
  analyzer: Analyzer;
}

export interface SearchOptions {
  /** Called every 100 queries with the count so far. */
  onProgress?: (done: number) => void;
}

/** A frozen BM25 index. Build with `Bm25Index.build(docs)` or a Bm25Builder. */
export class Bm25Index {
  readonly docIds: readonly string[];
  readonly terms: readonly string[];
  readonly params: Readonly<Bm25Params>;
  readonly analyzer: Analyzer;
  /** Documents with at least one term (Lucene's docCount). */
  readonly docCount: number;
  readonly avgdl: number;
  private readonly vocab: Map<string, number>;
  private readonly df: Uint32Array;
  private readonly offsets: Float64Array;
  private readonly postDocs: Uint32Array;
  private readonly postTfs: Uint32Array;
  private readonly norms: Uint8Array;
  /** normInv for each norm byte (Lucene's float cache). */
  private readonly normInv = new Float64Array(256);
  private readonly idfs: Float32Array;
  private acc?: Float64Array;
  private forward?: { offsets: Float64Array; terms: Uint32Array; tfs: Uint32Array };

  constructor(p: IndexParts) {
    this.docIds = p.docIds;
    this.terms = p.terms;
    this.vocab = p.vocab;
    this.df = p.df;
    this.offsets = p.offsets;
    this.postDocs = p.postDocs;
    this.postTfs = p.postTfs;
    this.params = p.params;
    this.analyzer = p.analyzer;
    let docCount = 0;
    let sumTtf = 0;
    this.norms = new Uint8Array(p.lengths.length);
    for (let d = 0; d < p.lengths.length; d++) {
      const len = p.lengths[d]!;
      if (len > 0) docCount++;
      sumTtf += len;
      this.norms[d] = intToByte4(len);
    }
    this.docCount = docCount;
    this.avgdl = f32(docCount === 0 ? 1 : sumTtf / docCount);
    const { k1, b } = p.params;
    const fk1 = f32(k1);
    const fb = f32(b);
    for (let i = 0; i < 256; i++) {
      // 1f / (k1 * ((1 - b) + b * LENGTH_TABLE[i] / avgdl)) in float32, step by step as Java does.
      const x = f32(f32(fb * byte4ToInt(i)) / this.avgdl);
      this.normInv[i] = f32(1 / f32(fk1 * f32(f32(1 - fb) + x)));
    }
    this.idfs = new Float32Array(this.terms.length);
    for (let t = 0; t < this.terms.length; t++) {
      const n = this.df[t]!;
      this.idfs[t] = Math.log(1 + (this.docCount - n + 0.5) / (n + 0.5));
    }
  }

  /** Indexes a stream of documents. */
  static async build(docs: Iterable<Doc> | AsyncIterable<Doc>, opts: Bm25BuildOptions = {}): Promise<Bm25Index> {
    const b = new Bm25Builder(opts);
    const every = opts.progressEvery ?? 10_000;
    let n = 0;
    for await (const d of docs) {
      b.add(d);
      if (opts.onProgress && ++n % every === 0) opts.onProgress(n);
    }
    return b.finish();
  }

  get size(): number {
    return this.docIds.length;
  }

  get postings(): number {
    return this.postDocs.length;
  }

  /** The term id of an analysed term, or undefined. */
  termId(term: string): number | undefined {
    return this.vocab.get(term);
  }

  /** Lucene's idf of a term id. */
  idf(termId: number): number {
    return this.idfs[termId]!;
  }

  /** Unique known query terms with their counts, ascending by id. */
  private queryTerms(text: string): SparseVector {
    const counts = new Map<number, number>();
    for (const t of this.analyzer(text)) {
      const id = this.vocab.get(t);
      if (id !== undefined) counts.set(id, (counts.get(id) ?? 0) + 1);
    }
    const indices = Uint32Array.from(counts.keys()).sort();
    return { indices, values: Float32Array.from(indices, (i) => counts.get(i)!) };
  }

  /** One term's contribution for a document with this norm byte, weight w = qtf · idf (Lucene's float math). */
  private termScore(w: number, tf: number, norm: number): number {
    return f32(w - w / (1 + tf * this.normInv[norm]!));
  }

  /** The top `k` documents for `query`, best first (ties: lower index first, as Lucene). */
  search(query: string, k = 1000): Hit[] {
    if (k <= 0) return [];
    const acc = (this.acc ??= new Float64Array(this.docIds.length));
    const q = this.queryTerms(query);
    const touched = new Growable(Uint32Array, 1024);
    for (let j = 0; j < q.indices.length; j++) {
      const t = q.indices[j]!;
      const w = f32(q.values[j]! * this.idfs[t]!);
      const end = this.offsets[t + 1]!;
      for (let p = this.offsets[t]!; p < end; p++) {
        const d = this.postDocs[p]!;
        if (acc[d] === 0) touched.push(d); // BM25 term scores are > 0, so 0 means "not yet seen"
        acc[d]! += this.termScore(w, this.postTfs[p]!, this.norms[d]!);
      }
    }
    const top = new TopK(k);
    const ds = touched.view();
    for (let i = 0; i < ds.length; i++) {
      const d = ds[i]!;
      top.push(f32(acc[d]!), d);
      acc[d] = 0;
    }
    const best = top.drain();
    return Array.from(best.docs, (doc, i) => ({ docId: this.docIds[doc]!, score: best.scores[i]! }));
  }

  /** Searches every query; returns a run. */
  searchAll(queries: Map<string, string>, k = 1000, opts: SearchOptions = {}): Run {
    const run: Run = new Map();
    let n = 0;
    for (const [qid, text] of queries) {
      run.set(qid, this.search(text, k));
      if (opts.onProgress && ++n % 100 === 0) opts.onProgress(n);
    }
    return run;
  }

  /** A query as a sparse vector: term ids with their counts (dot with documentVector = BM25 score). */
  encodeQuery(text: string): SparseVector {
    return this.queryTerms(text);
  }

  private weights(termIds: Uint32Array, tfs: ArrayLike<number>, norm: number): SparseVector {
    const values = new Float32Array(termIds.length);
    for (let i = 0; i < termIds.length; i++) values[i] = this.termScore(this.idfs[termIds[i]!]!, tfs[i]!, norm);
    return { indices: termIds, values };
  }

  /**
   * Indexed document `i` as a BM25-weighted sparse vector: each term's value is its BM25 score for a
   * query holding the term once, so `dot(encodeQuery(q), documentVector(i))` is the BM25 score.
   */
  documentVector(i: number): SparseVector {
    const f = (this.forward ??= this.transpose());
    const a = f.offsets[i]!;
    const e = f.offsets[i + 1]!;
    return this.weights(f.terms.slice(a, e), f.tfs.subarray(a, e), this.norms[i]!);
  }

  /** A new text as a BM25-weighted sparse vector with this index's statistics (unknown terms dropped). */
  encodeDocument(text: string): SparseVector {
    const tokens = this.analyzer(text);
    const counts = new Map<number, number>();
    for (const t of tokens) {
      const id = this.vocab.get(t);
      if (id !== undefined) counts.set(id, (counts.get(id) ?? 0) + 1);
    }
    const ids = Uint32Array.from(counts.keys()).sort();
    return this.weights(
      ids,
      Array.from(ids, (i) => counts.get(i)!),
      intToByte4(tokens.length),
    );
  }

  /** The forward index (doc -> terms), built once from the postings on first use. */
  private transpose(): { offsets: Float64Array; terms: Uint32Array; tfs: Uint32Array } {
    const n = this.docIds.length;
    const offsets = new Float64Array(n + 1);
    for (let p = 0; p < this.postDocs.length; p++) offsets[this.postDocs[p]! + 1]!++;
    for (let d = 0; d < n; d++) offsets[d + 1]! += offsets[d]!;
    const fill = offsets.slice(0, n);
    const terms = new Uint32Array(this.postDocs.length);
    const tfs = new Uint32Array(this.postDocs.length);
    for (let t = 0; t < this.terms.length; t++) {
      for (let p = this.offsets[t]!; p < this.offsets[t + 1]!; p++) {
        const at = fill[this.postDocs[p]!]!++;
        terms[at] = t; // terms visited in ascending order, so each doc's terms come out sorted
        tfs[at] = this.postTfs[p]!;
      }
    }
    return { offsets, terms, tfs };
  }
}
