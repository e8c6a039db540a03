/**
 * An index folder's manifest: what the index holds, who made its vectors, and a checksum for every
 * file. Written last and atomically, so a folder with a manifest is a complete index.
 * @module
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { Paradigm, VectorIdentity } from './types.ts';
import { readWhole, sha256 } from './format.ts';

export const INDEX_FORMAT = 'lion-index';
export const INDEX_FORMAT_VERSION = 1;

export interface FileEntry {
  bytes: number;
  sha256: string;
}

export interface SparseParams {
  /** Number of term ids the index accepts (the tokenizer's vocabulary size). */
  vocabSize: number;
  /** Impact width: 8 or 16 bits. */
  bits: 8 | 16;
  /** Float weight of one impact unit: weight ≈ impact × scale. */
  scale: number;
  /** Posting codec name (see codec/bitpack.ts). */
  codec: string;
  /** Postings per compressed block. */
  postingBlock: number;
  /** Documents per block of the block-max (BMP) filter; a power of two. */
  docBlock: number;
}

export interface DenseParams {
  dim: number;
  /** Storage type of the document matrix. */
  dtype: 'f32' | 'f16' | 'int8';
}

export interface IndexManifest {
  format: typeof INDEX_FORMAT;
  formatVersion: number;
  paradigm: Paradigm;
  createdAt: string;
  identity: VectorIdentity;
  counts: { docs: number; postings?: number; terms?: number };
  sparse?: SparseParams;
  dense?: DenseParams;
  files: Record<string, FileEntry>;
  build?: { seconds: number; peakRssBytes: number; source?: string };
}

export const MANIFEST = 'manifest.json';

/** Reads and validates `dir/manifest.json`. */
export function readManifest(dir: string): IndexManifest {
  const path = join(dir, MANIFEST);
  if (!existsSync(path))
    throw new Error(`lion: no index at '${dir}' (missing ${MANIFEST}); hint: build one with 'lion index'`);
  let m: IndexManifest;
  try {
    m = JSON.parse(readFileSync(path, 'utf8')) as IndexManifest;
  } catch (e) {
    throw new Error(
      `lion: index manifest '${path}' is not valid JSON (${(e as Error).message}); hint: rebuild the index with 'lion index'`,
      { cause: e },
    );
  }
  if (m.format !== INDEX_FORMAT)
    throw new Error(`lion: '${path}' is not a Lion index manifest (format '${String(m.format)}')`);
  if (m.formatVersion !== INDEX_FORMAT_VERSION)
    throw new Error(
      `lion: index '${dir}' has format version ${m.formatVersion}; this Lion reads version ${INDEX_FORMAT_VERSION}; hint: rebuild the index with this Lion`,
    );
  return m;
}

/**
 * Reads one index file whole (one read, optionally into shared memory) and checks its size and
 * sha256 against the manifest.
 */
export function readChecked(
  dir: string,
  m: IndexManifest,
  name: string,
  shared = false,
): ArrayBuffer | SharedArrayBuffer {
  const entry = m.files[name];
  if (!entry)
    throw new Error(
      `lion: index manifest '${join(dir, MANIFEST)}' lists no file '${name}'; hint: rebuild the index with 'lion index'`,
    );
  const path = join(dir, name);
  if (!existsSync(path))
    throw new Error(`lion: index file '${path}' is missing; hint: rebuild the index with 'lion index'`);
  const { buffer, bytes } = readWhole(path, shared);
  if (bytes.length !== entry.bytes)
    throw new Error(
      `lion: index file '${path}' has ${bytes.length} bytes, its manifest says ${entry.bytes}: the file is truncated or was changed; hint: rebuild the index with 'lion index'`,
    );
  const got = sha256(bytes);
  if (got !== entry.sha256)
    throw new Error(
      `lion: index file '${path}' fails its checksum (sha256 ${got.slice(0, 16)}…, manifest ${entry.sha256.slice(0, 16)}…): the file is corrupted; hint: rebuild the index with 'lion index'`,
    );
  return buffer;
}

/** Writes a small file atomically (temp + fsync + rename): formats/file-io's implementation. */
export { writeBytesAtomic as writeFileAtomic } from '../formats/file-io.ts';

/**
 * Builds a folder atomically: `fill` writes into a fresh temporary sibling folder, which then replaces
 * `dir` by rename. A crash leaves either the old index or the new one, never half of one.
 */
export async function withAtomicDir<T>(dir: string, fill: (tmp: string) => Promise<T>): Promise<T> {
  const target = resolve(dir);
  mkdirSync(dirname(target), { recursive: true });
  const tag = `${process.pid}-${Date.now().toString(36)}`;
  const tmp = join(dirname(target), `.${basename(target)}.tmp-${tag}`);
  mkdirSync(tmp);
  let result: T;
  try {
    result = await fill(tmp);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
  if (existsSync(target)) {
    const old = join(dirname(target), `.${basename(target)}.old-${tag}`);
    renameSync(target, old);
    renameSync(tmp, target);
    rmSync(old, { recursive: true, force: true });
  } else {
    renameSync(tmp, target);
  }
  return result;
}

/**
 * Whether query vectors with `query` identity may search an index whose vectors have `index`
 * identity. Fingerprints decide when both sides have them (names and paths may differ between
 * machines); otherwise names must agree when both state them. Throws a clear error when they do not.
 */
export function checkIdentity(index: VectorIdentity, query: VectorIdentity | undefined, dir: string): void {
  if (!query) return;
  const pairs = [
    ['modelHash', 'model'],
    ['tokenizerHash', 'tokenizer'],
  ] as const;
  for (const [hashKey, nameKey] of pairs) {
    const key = index[hashKey] !== undefined && query[hashKey] !== undefined ? hashKey : nameKey;
    const a = index[key];
    const b = query[key];
    if (a !== undefined && b !== undefined && a !== b)
      throw new Error(
        `lion search: query vectors come from ${key} '${b}' but index '${dir}' was built from ${key} '${a}'; hint: encode the queries with the index's model and tokenizer, or rebuild the index`,
      );
  }
}
