/**
 * Searching an index with a batch of query vectors: one entry point for sparse and dense indexes,
 * with sparse batches spread over worker threads that share the index's memory.
 * @module
 */
import type { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import type { Hit, Labelled, Run, SparseVector, VectorIdentity } from './types.ts';
import { readManifest } from './manifest.ts';
import { SparseIndex, type RawHits, type SparseSearchOptions } from './sparse/index.ts';
import { DenseIndex, type DenseSearchOptions } from './dense/index.ts';
import type { WorkerInit, WorkerReply, WorkerTask } from './query/worker.ts';
import { siblingModule, spawnWorker } from '../util/worker.ts';

export type AnyIndex = SparseIndex | DenseIndex;

/** Opens an index folder of either paradigm (one checksummed read per file). */
export function openIndex(dir: string, opts: { shared?: boolean } = {}): AnyIndex {
  const m = readManifest(dir);
  return m.paradigm === 'sparse' ? SparseIndex.load(dir, opts) : DenseIndex.load(dir);
}

export interface SearchOptions extends SparseSearchOptions, DenseSearchOptions {
  /** Hits per query. */
  k: number;
  /** Worker threads for sparse batches; default: the number of cores (1 searches on this thread). */
  threads?: number;
  /** Who made the query vectors; checked against the index's manifest. */
  identity?: VectorIdentity;
}

/** Searches a batch of labelled query vectors and returns a run (query order kept). */
export async function searchIndex(
  index: AnyIndex,
  queries: readonly Labelled<SparseVector | Float32Array>[],
  opts: SearchOptions,
): Promise<Run> {
  index.checkIdentity(opts.identity);
  let raw: RawHits[];
  if (index instanceof DenseIndex) {
    const vs = queries.map((q, i) => {
      if (!(q.vector instanceof Float32Array))
        throw new Error(
          `lion search: query '${q.id}' (${i + 1}) is sparse but index '${index.dir}' is dense; hint: use query vectors of the index's paradigm`,
        );
      return q.vector;
    });
    raw = await index.searchBatch(vs, opts.k, opts);
  } else {
    const vs = queries.map((q, i) => {
      if (q.vector instanceof Float32Array)
        throw new Error(
          `lion search: query '${q.id}' (${i + 1}) is dense but index '${index.dir}' is sparse; hint: use query vectors of the index's paradigm`,
        );
      return q.vector;
    });
    // starting a worker costs ~0.5 s from sources, so small batches stay on this thread
    const threads = Math.max(1, Math.min(opts.threads ?? availableParallelism(), Math.ceil(vs.length / 64)));
    if (threads > 1 && index.buffers.postings instanceof SharedArrayBuffer) {
      const pool = new SparsePool(index, threads);
      try {
        raw = await pool.search(
          vs,
          opts.k,
          opts,
          queries.map((q) => `query '${q.id}'`),
        );
      } finally {
        await pool.close();
      }
    } else {
      raw = vs.map((v, i) => index.searchRaw(v, opts.k, opts, undefined, `query '${queries[i]!.id}'`));
    }
  }
  const run: Run = new Map();
  queries.forEach((q, i) => {
    const r = raw[i]!;
    const hits: Hit[] = Array.from(r.docs, (doc, j) => ({ docId: index.docIds[doc]!, score: r.scores[j]! }));
    run.set(q.id, hits);
  });
  return run;
}

function spawn(init: WorkerInit): Worker {
  return spawnWorker(siblingModule(import.meta.url, './query/worker'), init);
}

/**
 * Worker threads over one sparse index loaded into shared memory: each holds views over the same
 * buffers (no copies) and its own scratch memory; chunks of queries go to whichever is free.
 */
export class SparsePool {
  readonly #workers: Worker[];
  #next = 0;
  readonly #pending = new Map<number, { resolve: (r: RawHits[]) => void; reject: (e: Error) => void }>();

  constructor(index: SparseIndex, threads: number) {
    if (!(index.buffers.postings instanceof SharedArrayBuffer))
      throw new Error('lion search: a worker pool needs an index loaded with { shared: true }');
    const init: WorkerInit = { manifest: index.manifest, buffers: index.buffers, dir: index.dir };
    this.#workers = Array.from({ length: threads }, () => {
      const w = spawn(init);
      w.on('message', (m: WorkerReply) => {
        const p = this.#pending.get(m.id);
        if (!p) return;
        this.#pending.delete(m.id);
        if ('error' in m) p.reject(new Error(m.error));
        else p.resolve(m.results);
      });
      w.on('error', (e) => {
        for (const p of this.#pending.values()) p.reject(e);
        this.#pending.clear();
      });
      return w;
    });
  }

  #run(w: Worker, task: WorkerTask): Promise<RawHits[]> {
    return new Promise((resolve, reject) => {
      this.#pending.set(task.id, { resolve, reject });
      w.postMessage(task);
    });
  }

  /** Searches all queries; results in query order. */
  async search(
    queries: readonly SparseVector[],
    k: number,
    opts: SparseSearchOptions = {},
    labels?: string[],
  ): Promise<RawHits[]> {
    const out: RawHits[] = new Array<RawHits>(queries.length);
    const chunk = Math.max(1, Math.min(64, Math.ceil(queries.length / (this.#workers.length * 8))));
    let at = 0;
    const algo = {
      algorithm: opts.algorithm,
      alpha: opts.alpha,
      fallback: opts.fallback,
    } satisfies SparseSearchOptions;
    await Promise.all(
      this.#workers.map(async (w) => {
        while (at < queries.length) {
          const start = at;
          at = Math.min(queries.length, at + chunk);
          const qs = queries
            .slice(start, at)
            .map((q, i) => ({
              indices: q.indices,
              values: q.values,
              label: labels?.[start + i] ?? `query ${start + i + 1}`,
            }));
          const res = await this.#run(w, { id: this.#next++, queries: qs, k, opts: algo });
          res.forEach((r, i) => (out[start + i] = r));
        }
      }),
    );
    return out;
  }

  async close(): Promise<void> {
    await Promise.all(this.#workers.map((w) => w.terminate()));
  }
}
