/**
 * Streaming construction of a flat dense index: one row per document, stored as f32, f16 (half the
 * bytes, ~3 significant digits) or int8 (a quarter, with one symmetric scale per row:
 * x ≈ scale × q, q ∈ [−127, 127]).
 * @module
 */
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { Labelled, VectorIdentity } from '../types.ts';
import { ContainerWriter } from '../format.ts';
import { Growable } from '../growable.ts';
import { toHalf } from './f16.ts';
import {
  INDEX_FORMAT,
  INDEX_FORMAT_VERSION,
  writeManifest,
  withAtomicDir,
  type IndexManifest,
} from '../manifest.ts';
import { fileEntry } from '../sparse/build.ts';
import { ANN_FILE, AnnBuilder, type AnnBuildOptions } from './ann.ts';

export type DenseDtype = 'f32' | 'f16' | 'int8';
export const DENSE_DTYPES: readonly DenseDtype[] = ['f32', 'f16', 'int8'];

export interface DenseBuildOptions {
  /** Storage type; default f32. */
  dtype?: DenseDtype;
  /** Expected dimension; default: the first vector's. */
  dim?: number;
  identity?: VectorIdentity;
  source?: string;
  /** Replace an existing index at the output (never anything else there); default false. */
  overwrite?: boolean;
  /** Also build an HNSW graph for approximate search (buildDenseIndex only; DenseIndexBuilder takes an AnnBuilder). */
  ann?: AnnBuildOptions;
}

export class DenseIndexBuilder {
  readonly dir: string;
  readonly #dtype: DenseDtype;
  #dim: number | undefined;
  readonly #w: ContainerWriter;
  readonly #ids: string[] = [];
  readonly #seen = new Set<string>();
  readonly #scales = new Growable(Float32Array, 1 << 14);
  /** Who made the vectors (may be completed before finish(), e.g. from a vector file's _meta line). */
  identity: VectorIdentity;
  readonly #source: string | undefined;
  readonly #t0 = performance.now();

  readonly #ann: AnnBuilder | undefined;

  /** `ann`: a graph builder (AnnBuilder.create) that receives every row, for approximate search. */
  constructor(dir: string, opts: DenseBuildOptions = {}, ann?: AnnBuilder) {
    this.dir = dir;
    this.#ann = ann;
    this.#dtype = opts.dtype ?? 'f32';
    if (!DENSE_DTYPES.includes(this.#dtype))
      throw new Error(`lion index: --dtype must be one of ${DENSE_DTYPES.join(', ')}, got '${String(this.#dtype)}'`);
    this.#dim = opts.dim;
    this.identity = opts.identity ?? {};
    this.#source = opts.source;
    this.#w = new ContainerWriter(join(dir, 'vectors.bin'));
    this.#w.begin('vectors', this.#dtype === 'f32' ? 'f32' : this.#dtype === 'f16' ? 'u16' : 'i8');
  }

  add(id: string, v: Float32Array, where = `document '${id}'`): void {
    if (this.#seen.has(id))
      throw new Error(`lion index: duplicate document id '${id}' at ${where}; hint: ids must be unique`);
    this.#dim ??= v.length;
    if (v.length !== this.#dim)
      throw new Error(
        `lion index: ${where} has dimension ${v.length}, expected ${this.#dim}; hint: all vectors must come from one model`,
      );
    for (let i = 0; i < v.length; i++)
      if (!Number.isFinite(v[i]!)) throw new Error(`lion index: ${where} has a non-finite value '${v[i]}' at ${i}`);
    if (this.#dtype === 'f32') {
      this.#w.append(v);
    } else if (this.#dtype === 'f16') {
      const h = new Uint16Array(v.length);
      for (let i = 0; i < v.length; i++) h[i] = toHalf(v[i]!);
      this.#w.append(h);
    } else {
      let m = 0;
      for (let i = 0; i < v.length; i++) m = Math.max(m, Math.abs(v[i]!));
      const scale = m > 0 ? m / 127 : 1;
      const q = new Int8Array(v.length);
      for (let i = 0; i < v.length; i++) q[i] = Math.round(v[i]! / scale);
      this.#w.append(q);
      this.#scales.push(scale);
    }
    this.#ann?.add(v, where);
    this.#ids.push(id);
    this.#seen.add(id);
  }

  finish(): IndexManifest {
    this.#w.end();
    if (this.#dtype === 'int8') this.#w.section('scales', this.#scales.view());
    const dim = this.#dim ?? 0;
    const files = {
      'vectors.bin': this.#w.finish('dense-vectors', 1, { dim, dtype: this.#dtype }),
    } as IndexManifest['files'];
    const ids = join(this.dir, 'docids.jsonl');
    writeFileSync(ids, this.#ids.map((id) => JSON.stringify(id)).join('\n') + (this.#ids.length ? '\n' : ''));
    files['docids.jsonl'] = fileEntry(ids);
    if (this.#ann && this.#ids.length) files[ANN_FILE] = this.#ann.finish(join(this.dir, ANN_FILE));
    const manifest: IndexManifest = {
      format: INDEX_FORMAT,
      formatVersion: INDEX_FORMAT_VERSION,
      paradigm: 'dense',
      createdAt: new Date().toISOString(),
      identity: this.identity,
      counts: { docs: this.#ids.length },
      dense: { dim, dtype: this.#dtype, ...(this.#ann && this.#ids.length ? { ann: this.#ann.params } : {}) },
      files,
      build: {
        seconds: (performance.now() - this.#t0) / 1000,
        peakRssBytes: process.memoryUsage().rss,
        ...(this.#source ? { source: this.#source } : {}),
      },
    };
    return writeManifest(this.dir, manifest);
  }
}

/** Builds a dense index at `outDir` (atomically) from labelled vectors, streaming. */
export async function buildDenseIndex(
  outDir: string,
  vectors:
    AsyncIterable<Labelled<Float32Array> & { where?: string }> | Iterable<Labelled<Float32Array> & { where?: string }>,
  opts: DenseBuildOptions = {},
): Promise<IndexManifest> {
  return withAtomicDir(outDir, async (tmp) => {
    const b = new DenseIndexBuilder(tmp, opts, opts.ann ? await AnnBuilder.create(opts.ann) : undefined);
    for await (const v of vectors) b.add(v.id, v.vector, v.where);
    return b.finish();
  }, { overwrite: opts.overwrite });
}
