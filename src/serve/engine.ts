/**
 * What `lion serve` answers, without HTTP: search (sparse, dense, hybrid), explain and encode over the
 * indexes and model it was started with. Sparse queries run on the index's worker pool, dense queries
 * and forward passes on the one libtorch thread (torch-worker.ts); concurrent requests reach both in
 * dynamic batches.
 * @module
 */
import { availableParallelism } from 'node:os';
import { existsSync } from 'node:fs';
import { SparsePool } from '../index/search.ts';
import { SparseIndex, type SparseAlgorithm } from '../index/sparse/index.ts';
import { checkIdentity, readManifest, type IndexManifest } from '../index/manifest.ts';
import { fuseRuns } from '../index/hybrid.ts';
import { readTokenizerInfo } from '../index/tokens.ts';
import type { Hit, Paradigm, SparseVector } from '../index/types.ts';
import type { DenseBackend } from '../index/dense/index.ts';
import type { DType, Device } from '../torch/index.ts';
import { Batcher } from './batcher.ts';
import { explainSparse, queryTerms, type SparseExplanation, type TokenName } from './explain.ts';
import { HttpError, type EncodeBody, type ExplainBody, type Limits, type QueryVectors, type SearchBody } from './schemas.ts';
import type { ServeMetrics } from './metrics.ts';
import { TorchThread } from './torch-thread.ts';
import type { EncoderInfo } from './torch-worker.ts';

export interface EngineOptions {
  /** One or two index folders (at most one per paradigm). */
  indexes: string[];
  model?: { dir: string; adapter?: string; device?: Device; dtype?: DType; autocast?: 'bf16'; queryMaxLength?: number };
  /** Corpus texts by id, returned with hits. */
  texts?: Map<string, string>;
  /** Tokenizer for token strings when no model is given (default: the one the index manifest names). */
  tokenizer?: string;
  /** Sparse search worker threads (default: cores). */
  threads?: number;
  algorithm?: SparseAlgorithm;
  alpha?: number;
  backend?: DenseBackend;
  fusion?: 'rrf' | 'linear';
  /** Texts per forward pass and most items per search batch (default 32). */
  batchSize?: number;
  /** How long a batch's first item waits for company (default 2 ms). */
  maxWaitMs?: number;
  /** Queued items per queue before requests get 503 (default 4096). */
  maxQueue?: number;
  limits?: Partial<Limits>;
  metrics: ServeMetrics;
}

export interface HitOut {
  id: string;
  score: number;
  text?: string;
  /** With `explain`: why the document matched the sparse query. */
  match?: SparseExplanation;
}

export interface SearchOut {
  hits: HitOut[];
  took_ms: number;
  index: 'sparse' | 'dense' | 'hybrid';
  /** With `explain` and a sparse query: the query's terms, largest weight first. */
  query_terms?: { id: number; token: string; weight: number }[];
  truncated?: boolean;
  warning?: string;
}

interface Encoded {
  vector: SparseVector | Float32Array;
  tokens: number;
}

const since = (t0: number): number => Math.round((performance.now() - t0) * 1000) / 1000;

function serveError(e: unknown): Error {
  const m = (e as Error).message;
  return new Error(m.replace(/^lion( \w[\w-]*)?:/, 'lion serve:'), { cause: e });
}

export class Engine {
  readonly limits: Limits;
  readonly sparse: SparseIndex | null;
  readonly dense: IndexManifest | null;
  readonly #o: EngineOptions;
  readonly #pool: SparsePool | null;
  readonly #torch: TorchThread | null;
  readonly #docOf: Map<string, number>;
  readonly #token: TokenName;
  readonly #sparseSearch: Batcher<{ vector: SparseVector; k: number }, Hit[]> | null;
  readonly #denseSearch: Batcher<{ vector: Float32Array; k: number }, Hit[]> | null;
  readonly #encode = new Map<string, Batcher<string, Encoded>>();

  private constructor(
    o: EngineOptions,
    sparse: SparseIndex | null,
    dense: IndexManifest | null,
    torch: TorchThread | null,
    token: TokenName,
  ) {
    this.#o = o;
    this.limits = { maxK: 1000, maxTexts: 256, ...o.limits };
    this.sparse = sparse;
    this.dense = dense;
    this.#torch = torch;
    this.#token = token;
    this.#docOf = new Map(sparse?.docIds.map((id, i) => [id, i]));
    const batch = {
      maxBatch: o.batchSize ?? 32,
      maxWaitMs: o.maxWaitMs ?? 2,
      maxQueue: o.maxQueue ?? 4096,
    };
    this.#pool = sparse ? new SparsePool(sparse, o.threads ?? availableParallelism()) : null;
    this.#sparseSearch = this.#pool
      ? new Batcher((items) => this.#runSparse(items), { ...batch, ...o.metrics.queue('search:sparse') })
      : null;
    this.#denseSearch = dense
      ? new Batcher((items) => this.#runDense(items), { ...batch, ...o.metrics.queue('search:dense') })
      : null;
    for (const p of Object.keys(torch?.encoders ?? {}) as Paradigm[])
      for (const kind of ['query', 'doc'] as const) {
        const name = `encode:${p}:${kind}`;
        this.#encode.set(
          `${p}:${kind}`,
          new Batcher(async (texts) => {
            const r = await torch!.call({ op: 'encode', paradigm: p, kind, texts });
            return r.vectors.map((vector, i) => ({ vector, tokens: r.tokens[i]! }));
          }, { ...batch, ...o.metrics.queue(name) }),
        );
      }
  }

  /** Loads the indexes, starts the search pool and (for a model or a dense index) the libtorch thread. */
  static async start(o: EngineOptions): Promise<Engine> {
    const manifests = o.indexes.map((dir) => ({ dir, m: readManifest(dir) }));
    const of = (p: Paradigm) => manifests.filter((x) => x.m.paradigm === p);
    if (manifests.length === 0 || manifests.length > 2 || of('sparse').length > 1 || of('dense').length > 1)
      throw new Error(
        `lion serve: give one --index, or two of different paradigms (sparse + dense for hybrid search), got ${manifests.map((x) => `${x.dir} (${x.m.paradigm})`).join(', ') || 'none'}`,
      );
    const sparseDir = of('sparse')[0]?.dir;
    const dense = of('dense')[0] ?? null;
    const paradigms = manifests.map((x) => x.m.paradigm);
    let torch: TorchThread | null = null;
    if (o.model || dense)
      torch = await TorchThread.start({
        model: o.model && { ...o.model, paradigms, batchSize: o.batchSize ?? 32 },
        dense: dense ? { dir: dense.dir, backend: o.backend ?? 'torch' } : undefined,
      });
    try {
      for (const { dir, m } of manifests) {
        const id = torch?.encoders[m.paradigm]?.identity;
        try {
          checkIdentity(m.identity, id, dir);
        } catch (e) {
          throw new Error(
            `${serveError(e).message.replace(/; hint:.*$/, '')}; hint: serve the index with the model that built it`,
            { cause: e },
          );
        }
      }
      const sparse = sparseDir ? SparseIndex.load(sparseDir, { shared: true }) : null;
      const tokenizerFile =
        o.tokenizer ?? torch?.encoders.sparse?.tokenizerFile ?? sparse?.manifest.identity.tokenizerFile;
      const tokens =
        sparse && tokenizerFile && existsSync(tokenizerFile) ? readTokenizerInfo(tokenizerFile).tokens : [];
      return new Engine(o, sparse, dense?.m ?? null, torch, (id) => tokens[id] ?? `#${id}`);
    } catch (e) {
      await torch?.close();
      throw serveError(e);
    }
  }

  get encoders(): Partial<Record<Paradigm, EncoderInfo>> {
    return this.#torch?.encoders ?? {};
  }

  /** Term ids a sparse query may use: the model's vocabulary, else the index's. */
  get vocabSize(): number {
    return this.encoders.sparse?.vocabSize ?? this.sparse?.manifest.sparse?.vocabSize ?? 0;
  }

  health(): Record<string, unknown> {
    const e = this.encoders;
    return {
      status: 'ok',
      indexes: {
        ...(this.sparse ? { sparse: { docs: this.sparse.size, vocab: this.vocabSize } } : {}),
        ...(this.dense ? { dense: { docs: this.dense.counts.docs, dim: this.dense.dense!.dim } } : {}),
      },
      model: e.sparse?.identity.model ?? e.dense?.identity.model ?? null,
      max_length: (e.sparse ?? e.dense)?.maxLength ?? null,
      limits: { max_k: this.limits.maxK, max_texts: this.limits.maxTexts },
    };
  }

  async search(b: SearchBody): Promise<SearchOut> {
    const t0 = performance.now();
    const which = this.#which(b.index, b.vector);
    const need: Paradigm[] = which === 'hybrid' ? ['sparse', 'dense'] : [which];
    const q = await this.#queryVectors(b, need);
    const [sp, de] = await Promise.all([
      q.sparse ? this.#sparseSearch!.submit([{ vector: q.sparse, k: b.k }]) : null,
      q.dense ? this.#denseSearch!.submit([{ vector: q.dense, k: b.k }]) : null,
    ]);
    let hits: Hit[];
    if (which === 'hybrid') hits = fuseRuns(new Map([['q', sp![0]!]]), new Map([['q', de![0]!]]), { k: b.k, fusion: this.#o.fusion }).get('q') ?? [];
    else hits = (sp ?? de)![0]!;
    const out: SearchOut = {
      hits: hits.map((h) => {
        const text = this.#o.texts?.get(h.docId);
        const hit: HitOut = { id: h.docId, score: h.score, ...(text !== undefined ? { text } : {}) };
        if (b.explain && q.sparse) {
          const doc = this.#docOf.get(h.docId);
          if (doc !== undefined) hit.match = explainSparse(this.sparse!, q.sparse, doc, this.#token);
        }
        return hit;
      }),
      took_ms: 0,
      index: which,
      ...(b.explain && q.sparse ? { query_terms: queryTerms(q.sparse, this.#token) } : {}),
      ...q.notes,
    };
    out.took_ms = since(t0);
    return out;
  }

  async explain(b: ExplainBody): Promise<Record<string, unknown>> {
    const t0 = performance.now();
    const which = b.index ?? (this.sparse && (b.vector?.sparse || b.query !== undefined) ? 'sparse' : 'dense');
    this.#which(which, b.vector);
    const q = await this.#queryVectors(b, [which]);
    if (which === 'sparse') {
      const doc = this.#docOf.get(b.id);
      if (doc === undefined) throw new HttpError(404, `id: no document '${b.id}' in the sparse index`);
      const e = explainSparse(this.sparse!, q.sparse!, doc, this.#token);
      return { id: b.id, index: which, ...e, ...(b.query !== undefined ? { query_terms: queryTerms(q.sparse!, this.#token) } : {}), ...q.notes, took_ms: since(t0) };
    }
    const r = await this.#torch!.call({ op: 'score', query: q.dense!, docId: b.id });
    if (r.score === null) throw new HttpError(404, `id: no document '${b.id}' in the dense index`);
    return { id: b.id, index: which, score: r.score, ...q.notes, took_ms: since(t0) };
  }

  async encode(b: EncodeBody): Promise<Record<string, unknown>> {
    const t0 = performance.now();
    const have = Object.keys(this.encoders) as Paradigm[];
    if (have.length === 0) throw new HttpError(400, 'texts: this server has no model; hint: start lion serve with --model DIR');
    const paradigm = b.paradigm ?? (have.length === 1 ? have[0]! : undefined);
    if (!paradigm) throw new HttpError(400, "paradigm: this server encodes both 'sparse' and 'dense'; say which");
    if (!have.includes(paradigm)) throw new HttpError(400, `paradigm: this server has no ${paradigm} encoder (it has ${have.join(', ')})`);
    const max = this.encoders[paradigm]!.maxLength[b.kind];
    const r = await this.#encode.get(`${paradigm}:${b.kind}`)!.submit(b.texts);
    return {
      paradigm,
      kind: b.kind,
      max_length: max,
      vectors: r.map(({ vector: v }) =>
        v instanceof Float32Array ? { vector: Array.from(v) } : { indices: Array.from(v.indices), values: Array.from(v.values) },
      ),
      tokens: r.map((x) => Math.min(x.tokens, max)),
      truncated: r.map((x) => x.tokens > max),
      took_ms: since(t0),
    };
  }

  /** Which index a request searches: as asked, else what its vector or the server's indexes imply. */
  #which(asked: 'sparse' | 'dense' | 'hybrid' | undefined, v: QueryVectors | undefined): 'sparse' | 'dense' | 'hybrid' {
    const which =
      asked ??
      (v ? (v.sparse && v.dense ? 'hybrid' : v.sparse ? 'sparse' : 'dense') : this.sparse && this.dense ? 'hybrid' : this.sparse ? 'sparse' : 'dense');
    for (const p of which === 'hybrid' ? (['sparse', 'dense'] as const) : [which]) {
      if (p === 'sparse' ? !this.sparse : !this.dense) throw new HttpError(400, `index: this server has no ${p} index`);
      if (v && !v[p]) throw new HttpError(400, `vector: searching the ${which === 'hybrid' ? 'hybrid' : p} index needs a ${p} vector${which === 'hybrid' ? ' ({"sparse": …, "dense": …})' : ''}`);
    }
    return which;
  }

  /** The request's query vectors for `need`: its own (validated), or its text encoded. */
  async #queryVectors(
    b: { query?: string; vector?: QueryVectors },
    need: Paradigm[],
  ): Promise<QueryVectors & { notes: { truncated?: boolean; warning?: string } }> {
    if (b.vector) {
      if (need.includes('sparse')) this.#checkSparse(b.vector.sparse!);
      if (need.includes('dense')) this.#checkDense(b.vector.dense!);
      return { sparse: need.includes('sparse') ? b.vector.sparse : undefined, dense: need.includes('dense') ? b.vector.dense : undefined, notes: {} };
    }
    if (!need.every((p) => this.encoders[p]))
      throw new HttpError(400, 'query: this server has no model to encode text; hint: send "vector", or start lion serve with --model DIR');
    const enc = await Promise.all(need.map((p) => this.#encode.get(`${p}:query`)!.submit([b.query!])));
    const out: QueryVectors & { notes: { truncated?: boolean; warning?: string } } = { notes: {} };
    need.forEach((p, i) => {
      const e = enc[i]![0]!;
      if (p === 'sparse') out.sparse = e.vector as SparseVector;
      else out.dense = e.vector as Float32Array;
      const max = this.encoders[p]!.maxLength.query;
      if (e.tokens > max)
        out.notes = { truncated: true, warning: `query: ${e.tokens} tokens, truncated to the model's query length of ${max} (BOS included)` };
    });
    return out;
  }

  #checkSparse(v: SparseVector): void {
    if (v.indices.length !== v.values.length)
      throw new HttpError(400, `vector.values: has ${v.values.length} weight(s) for ${v.indices.length} indices`);
    const V = this.vocabSize;
    for (let i = 0; i < v.indices.length; i++) {
      if (i > 0 && v.indices[i]! <= v.indices[i - 1]!)
        throw new HttpError(400, `vector.indices.${i}: term id ${v.indices[i]} is not above the one before (${v.indices[i - 1]}); hint: sparse indices must be strictly ascending`);
      if (v.indices[i]! >= V)
        throw new HttpError(400, `vector.indices.${i}: term id ${v.indices[i]} is outside the vocabulary (${V} terms)`);
    }
  }

  #checkDense(v: Float32Array): void {
    const d = this.dense!.dense!.dim;
    if (v.length !== d) throw new HttpError(400, `vector: has dimension ${v.length} but the dense index has ${d}`);
  }

  async #runSparse(items: { vector: SparseVector; k: number }[]): Promise<Hit[][]> {
    const out: Hit[][] = new Array<Hit[]>(items.length);
    for (const [k, idx] of byK(items)) {
      const raw = await this.#pool!.search(
        idx.map((i) => items[i]!.vector),
        k,
        { algorithm: this.#o.algorithm, alpha: this.#o.alpha },
      );
      idx.forEach((i, j) => {
        const r = raw[j]!;
        out[i] = Array.from(r.docs, (doc, n) => ({ docId: this.sparse!.docIds[doc]!, score: r.scores[n]! }));
      });
    }
    return out;
  }

  async #runDense(items: { vector: Float32Array; k: number }[]): Promise<Hit[][]> {
    const out: Hit[][] = new Array<Hit[]>(items.length);
    for (const [k, idx] of byK(items)) {
      const r = await this.#torch!.call({ op: 'search', queries: idx.map((i) => items[i]!.vector), k });
      idx.forEach((i, j) => (out[i] = r.hits[j]!));
    }
    return out;
  }

  async close(): Promise<void> {
    await this.#pool?.close();
    await this.#torch?.close();
  }
}

/** Item positions grouped by their k (one search call per distinct k in a batch). */
function byK(items: readonly { k: number }[]): Map<number, number[]> {
  const m = new Map<number, number[]>();
  items.forEach((it, i) => {
    const g = m.get(it.k);
    if (g) g.push(i);
    else m.set(it.k, [i]);
  });
  return m;
}

