/**
 * Reading the JSONL vector files `lion encode` writes: one `{"id", "indices", "values"}` (sparse) or
 * `{"id", "vector"}` (dense) object per line. An optional first line `{"_meta": {...}}` (or a sidecar
 * file `<file>.meta.json`) states who made the vectors: `{model, modelHash, tokenizer, tokenizerHash,
 * paradigm}`.
 * @module
 */
import { createReadStream, existsSync, statSync, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Labelled, Paradigm, SparseVector, VectorIdentity } from './types.ts';
import { AtomicTextWriter } from '../data/lines.ts';
import { writeBytesAtomic } from '../formats/file-io.ts';

export interface VectorMeta extends VectorIdentity {
  paradigm?: Paradigm;
  /** The model's vocabulary size (sparse): `lion index` declares it, so queries may hold any id below it. */
  vocabSize?: number;
}

export type AnyVector = SparseVector | Float32Array;

export interface VectorLine<V> extends Labelled<V> {
  /** `file:line`, for error messages. */
  where: string;
}

function fail(where: string, what: string, hint: string): Error {
  return new Error(`lion: ${where}: ${what}; hint: ${hint}`);
}

/** Parses one line of a vector file; `expect` fixes the paradigm once known. */
export function parseVectorLine(
  line: string,
  where: string,
  expect?: Paradigm,
): { id: string; vector: AnyVector; paradigm: Paradigm } {
  let o: unknown;
  try {
    o = JSON.parse(line);
  } catch (e) {
    throw fail(where, `not valid JSON (${(e as Error).message})`, 'each line must be one JSON object');
  }
  if (o === null || typeof o !== 'object' || Array.isArray(o))
    throw fail(where, 'not a JSON object', 'each line must be {"id", "indices", "values"} or {"id", "vector"}');
  const r = o as Record<string, unknown>;
  const rawId = r.id ?? r._id;
  if (typeof rawId !== 'string' && typeof rawId !== 'number')
    throw fail(where, `missing or bad "id" '${JSON.stringify(rawId)}'`, 'each line needs a string id');
  const id = String(rawId);
  if ('indices' in r || 'values' in r) {
    if (expect === 'dense')
      throw fail(where, 'a sparse vector in a dense file', 'do not mix sparse and dense vectors in one file');
    const { indices, values } = r;
    if (!Array.isArray(indices) || !Array.isArray(values))
      throw fail(where, '"indices" and "values" must be arrays', 'write {"id", "indices": [..], "values": [..]}');
    if (indices.length !== values.length)
      throw fail(
        where,
        `${indices.length} indices but ${values.length} values`,
        'indices and values pair up one to one',
      );
    const ix = new Uint32Array(indices.length);
    const vs = new Float32Array(values.length);
    for (let i = 0; i < indices.length; i++) {
      const t = indices[i] as unknown;
      const v = values[i] as unknown;
      if (typeof t !== 'number' || !Number.isInteger(t) || t < 0 || t >= 2 ** 32)
        throw fail(
          where,
          `index '${String(t)}' at position ${i} is not a term id`,
          'indices are non-negative integers',
        );
      if (typeof v !== 'number' || !Number.isFinite(v))
        throw fail(where, `value '${String(v)}' at position ${i} is not a finite number`, 'values are numbers');
      if (i > 0 && t <= ix[i - 1]!)
        throw fail(
          where,
          `indices out of order at position ${i} ('${t}')`,
          'sparse indices must be strictly ascending',
        );
      ix[i] = t;
      vs[i] = v;
    }
    return { id, vector: { indices: ix, values: vs }, paradigm: 'sparse' };
  }
  if ('vector' in r) {
    if (expect === 'sparse')
      throw fail(where, 'a dense vector in a sparse file', 'do not mix sparse and dense vectors in one file');
    const v = r.vector;
    if (!Array.isArray(v)) throw fail(where, '"vector" must be an array of numbers', 'write {"id", "vector": [..]}');
    const out = new Float32Array(v.length);
    for (let i = 0; i < v.length; i++) {
      const x = v[i] as unknown;
      if (typeof x !== 'number' || !Number.isFinite(x))
        throw fail(where, `value '${String(x)}' at position ${i} is not a finite number`, 'vectors hold numbers');
      out[i] = x;
    }
    return { id, vector: out, paradigm: 'dense' };
  }
  throw fail(
    where,
    'neither "indices"/"values" nor "vector"',
    'each line must be {"id", "indices", "values"} or {"id", "vector"}',
  );
}

/** The identity stated by a sidecar `<path>.meta.json`, if there is one. */
export function sidecarMeta(path: string): VectorMeta | undefined {
  const p = `${path}.meta.json`;
  if (!existsSync(p)) return undefined;
  try {
    return JSON.parse(readFileSync(p, 'utf8')) as VectorMeta;
  } catch (e) {
    throw new Error(`lion: '${p}' is not valid JSON (${(e as Error).message})`, { cause: e });
  }
}

/**
 * A vector file read line by line. `meta` is filled once the first line has been read (a `_meta`
 * line) or at open (a sidecar file).
 */
export class VectorFile {
  readonly path: string;
  meta: VectorMeta | undefined;
  paradigm: Paradigm | undefined;

  constructor(path: string, expect?: Paradigm) {
    if (!existsSync(path))
      throw new Error(`lion: vector file '${path}' does not exist; hint: write it with 'lion encode'`);
    if (statSync(path).isDirectory())
      throw new Error(`lion: vector file '${path}' is a folder, not a file; hint: name the JSONL file 'lion encode' wrote`);
    this.path = path;
    this.meta = sidecarMeta(path);
    this.paradigm = expect ?? this.meta?.paradigm;
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<VectorLine<AnyVector>> {
    const rl = createInterface({ input: createReadStream(this.path, { encoding: 'utf8' }), crlfDelay: Infinity });
    let n = 0;
    for await (const line of rl) {
      n++;
      if (!line.trim()) continue;
      const where = `${this.path}:${n}`;
      if (n === 1 && line.includes('"_meta"')) {
        const o = JSON.parse(line) as { _meta?: VectorMeta };
        if (o._meta) {
          this.meta = { ...this.meta, ...o._meta };
          this.paradigm ??= o._meta.paradigm;
          continue;
        }
      }
      const r = parseVectorLine(line, where, this.paradigm);
      this.paradigm ??= r.paradigm;
      yield { id: r.id, vector: r.vector, where };
    }
  }

  /** Every vector in the file (for query files, which are small). */
  async readAll(): Promise<VectorLine<AnyVector>[]> {
    const out: VectorLine<AnyVector>[] = [];
    for await (const v of this) out.push(v);
    return out;
  }
}

export function isSparse(v: AnyVector): v is SparseVector {
  return !(v instanceof Float32Array);
}

/** One vector file, or several read as one. */
export type VectorSource = Pick<VectorFile, 'path' | 'meta' | 'paradigm'> & AsyncIterable<VectorLine<AnyVector>>;

/**
 * Vector files read one after another as one file: the shards of a corpus (`lion encode --shard i/N`)
 * in shard order give exactly the vectors, ids and order of the one-pass file. Their identities (model,
 * adapter, tokenizer, vocabulary) must agree; the first file's is the whole's.
 */
export class VectorFiles {
  readonly files: VectorFile[];
  constructor(paths: readonly string[], expect?: Paradigm) {
    if (paths.length === 0) throw new Error('lion: no vector files given');
    this.files = paths.map((p) => new VectorFile(p, expect));
  }
  get path(): string {
    return this.files.map((f) => f.path).join(',');
  }
  get meta(): VectorMeta | undefined {
    return this.files[0]!.meta;
  }
  get paradigm(): Paradigm | undefined {
    return this.files[0]!.paradigm;
  }
  async *[Symbol.asyncIterator](): AsyncGenerator<VectorLine<AnyVector>> {
    const first = this.files[0]!;
    for (const f of this.files) {
      f.paradigm ??= first.paradigm;
      yield* f;
      const a = JSON.stringify(first.meta ?? null);
      const b = JSON.stringify(f.meta ?? null);
      if (a !== b) throw new Error(`lion: vector files '${first.path}' and '${f.path}' were made by different models or settings (${a} vs ${b}); hint: index shards of one lion encode run together`);
    }
  }
}

/** `a.jsonl` or `a.jsonl,b.jsonl,…` (shards in order). */
export function openVectors(spec: string, expect?: Paradigm): VectorSource {
  const paths = spec.split(',').filter((p) => p !== '');
  return paths.length === 1 ? new VectorFile(paths[0]!, expect) : new VectorFiles(paths, expect);
}

/** One line of a vector file, as `lion encode` writes it. */
export function vectorJsonLine(id: string, v: AnyVector): string {
  return v instanceof Float32Array
    ? JSON.stringify({ id, vector: Array.from(v) }) + '\n'
    : JSON.stringify({ id, indices: Array.from(v.indices), values: Array.from(v.values) }) + '\n';
}

/** Writes labelled vectors to `path` atomically, with their identity in the `.meta.json` sidecar; returns how many. */
export async function writeVectorFile(path: string, vectors: AsyncIterable<Labelled<AnyVector>>, meta: VectorMeta): Promise<number> {
  const out = await AtomicTextWriter.open(path);
  let n = 0;
  try {
    for await (const v of vectors) {
      await out.write(vectorJsonLine(v.id, v.vector));
      n++;
    }
    await out.close();
  } catch (e) {
    await out.abort();
    throw e;
  }
  writeBytesAtomic(`${path}.meta.json`, JSON.stringify(meta));
  return n;
}
