/**
 * Approximate dense search: an HNSW graph (the usearch library) stored beside a flat index's
 * vectors. The graph only proposes candidates; every candidate is rescored exactly from the flat
 * vectors, so scores, tie order and the doc numbers returned are those of the flat index, and a
 * coarser graph (f16, i8) costs recall, never score precision.
 *
 * Why usearch (measured on this 2-core machine, 20k × 768, M=16, ef_construction=128, one thread):
 * the same recall per ef as hnswlib-node, 0.67 ms per insert in f32 (hnswlib-node 0.68) and 0.14 ms
 * in i8; it ships prebuilt binaries in its npm package (no compiler, no install script), adds from
 * several threads, and memory-maps a saved graph (`view`). hnswlib-node needs node-gyp on install
 * and one JS array per vector.
 * @module
 */
import { availableParallelism } from 'node:os';
import type { FileEntry } from '../manifest.ts';
import { hashFile } from '../format.ts';

/** What the graph stores per vector: f32, f16 (half), i8 (needs every value in [-1, 1]). */
export type AnnDtype = 'f32' | 'f16' | 'i8';
export const ANN_DTYPES: readonly AnnDtype[] = ['f32', 'f16', 'i8'];
export const ANN_FILE = 'ann.usearch';

/** The manifest's record of a dense index's graph. */
export interface AnnParams {
  kind: 'hnsw';
  library: 'usearch';
  /** Graph degree M (edges per node on the upper layers; 2M on the base layer). */
  connectivity: number;
  /** Candidate list size while inserting (ef_construction). */
  expansionAdd: number;
  dtype: AnnDtype;
}

export interface AnnBuildOptions {
  connectivity?: number;
  expansionAdd?: number;
  dtype?: AnnDtype;
  /** Threads inserting; default: every core. */
  threads?: number;
}

/** The default candidate list size at search time (ef); raise it for recall, lower it for speed. */
export const DEFAULT_ANN_EF = 128;

type Usearch = typeof import('usearch');
type UIndex = InstanceType<Usearch['Index']>;

let usearchModule: Usearch | null = null;
async function usearch(): Promise<Usearch> {
  // loaded on first use: flat dense and sparse search never need the native library
  if (!usearchModule) {
    try {
      usearchModule = (await import('usearch')) as Usearch;
    } catch (e) {
      throw new Error(
        `lion: the HNSW library (npm package usearch) could not be loaded: ${(e as Error).message}; hint: reinstall Lion's dependencies (npm ci), or search without --ann`,
        { cause: e },
      );
    }
  }
  return usearchModule;
}

const METRIC = 'ip';

function makeIndex(u: Usearch, dim: number, p: AnnParams, ef: number): UIndex {
  return new u.Index({
    dimensions: dim,
    metric: METRIC as never,
    quantization: p.dtype as never,
    connectivity: p.connectivity,
    expansion_add: p.expansionAdd,
    expansion_search: ef,
    multi: false,
  });
}

/** Inserts rows as they come, in batches, from every core; `finish` saves the graph. */
export class AnnBuilder {
  readonly params: AnnParams;
  readonly #u: Usearch;
  readonly #threads: number;
  #dim = 0;
  #batch = new Float32Array(0);
  #fill = 0;
  #added = 0;
  #index: UIndex | null = null;

  private constructor(u: Usearch, o: AnnBuildOptions) {
    const connectivity = o.connectivity ?? 16;
    const expansionAdd = o.expansionAdd ?? 128;
    const dtype = o.dtype ?? 'f16';
    if (!Number.isInteger(connectivity) || connectivity < 2 || connectivity > 256)
      throw new Error(`lion index: --ann-m must be an integer in [2, 256], got ${connectivity}`);
    if (!Number.isInteger(expansionAdd) || expansionAdd < 1)
      throw new Error(`lion index: --ann-ef-construction must be a positive integer, got ${expansionAdd}`);
    if (!ANN_DTYPES.includes(dtype)) throw new Error(`lion index: --ann-dtype must be one of ${ANN_DTYPES.join(', ')}, got '${String(dtype)}'`);
    this.params = { kind: 'hnsw', library: 'usearch', connectivity, expansionAdd, dtype };
    this.#u = u;
    this.#threads = o.threads ?? availableParallelism();
  }

  /** Validates the options and loads the library; the graph is made at the first vector. */
  static async create(o: AnnBuildOptions = {}): Promise<AnnBuilder> {
    return new AnnBuilder(await usearch(), o);
  }

  /** Adds the next document's vector; its key is its doc number (the order of add calls). */
  add(v: Float32Array, where: string): void {
    if (this.params.dtype === 'i8')
      for (let i = 0; i < v.length; i++)
        if (v[i]! > 1 || v[i]! < -1)
          throw new Error(
            `lion index: ${where} has value ${v[i]} at ${i}, outside [-1, 1], which --ann-dtype i8 cannot store; hint: use --ann-dtype f16 (any scale)`,
          );
    if (!this.#index) {
      this.#dim = v.length;
      // batches large enough that every insert thread has work, small enough to stay a few MiB
      this.#batch = new Float32Array(1024 * this.#dim);
      this.#index = makeIndex(this.#u, this.#dim, this.params, DEFAULT_ANN_EF);
    }
    this.#batch.set(v, this.#fill * this.#dim);
    if (++this.#fill * this.#dim === this.#batch.length) this.#flush();
  }

  #flush(): void {
    if (!this.#fill) return;
    const keys = new BigUint64Array(this.#fill);
    for (let i = 0; i < this.#fill; i++) keys[i] = BigInt(this.#added + i);
    this.#index!.add(keys, this.#batch.subarray(0, this.#fill * this.#dim), this.#threads);
    this.#added += this.#fill;
    this.#fill = 0;
  }

  /** Inserts what is pending and writes the graph to `path`. */
  finish(path: string): FileEntry {
    this.#flush();
    if (!this.#index) throw new Error('lion index: an HNSW graph needs at least one vector');
    this.#index.save(path);
    return hashFile(path);
  }
}

/** A saved graph, memory-mapped; one usearch handle per search-time ef (ef is fixed per handle). */
export class AnnGraph {
  readonly params: AnnParams;
  readonly #path: string;
  readonly #dim: number;
  readonly #u: Usearch;
  readonly #byEf = new Map<number, UIndex>();

  private constructor(u: Usearch, path: string, dim: number, p: AnnParams) {
    this.#u = u;
    this.#path = path;
    this.#dim = dim;
    this.params = p;
  }

  static async open(path: string, dim: number, p: AnnParams): Promise<AnnGraph> {
    return new AnnGraph(await usearch(), path, dim, p);
  }

  #handle(ef: number): UIndex {
    let ix = this.#byEf.get(ef);
    if (!ix) {
      ix = makeIndex(this.#u, this.#dim, this.params, ef);
      ix.view(this.#path);
      this.#byEf.set(ef, ix);
    }
    return ix;
  }

  /**
   * Candidate doc numbers for each of `nq` queries (row-major in `q`): up to `count` each, as the
   * graph ranks them (approximately).
   */
  candidates(q: Float32Array, nq: number, count: number, ef: number, threads: number): Int32Array[] {
    if (!Number.isInteger(ef) || ef < 1) throw new Error(`lion search: --ann-ef must be a positive integer, got ${ef}`);
    const r = this.#handle(ef).search(q, count, threads) as unknown as { keys: BigUint64Array; counts?: BigUint64Array };
    const out: Int32Array[] = [];
    for (let j = 0; j < nq; j++) {
      // one query comes back as a plain match list (keys already cut to what was found)
      const found = r.counts ? Number(r.counts[j]) : r.keys.length;
      const o = r.counts ? j * count : 0;
      const c = new Int32Array(found);
      for (let i = 0; i < found; i++) c[i] = Number(r.keys[o + i]!);
      out.push(c);
    }
    return out;
  }
}
