/**
 * An index folder's manifest: what the index holds, who made its vectors, and a checksum for every
 * file. Written last and atomically, so a folder with a manifest is a complete index.
 * @module
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { withAtomicDir as withAtomicFolder, writeBytesAtomic } from '../formats/file-io.ts';
import type { Paradigm, VectorIdentity } from './types.ts';
import { hashFile, readWhole, sha256 } from './format.ts';
import type { AnnParams } from './dense/ann.ts';

export const INDEX_FORMAT = 'lion-index';
export const INDEX_FORMAT_VERSION = 1;

export interface FileEntry {
  bytes: number;
  sha256: string;
}

export interface SparseParams {
  /** Number of term ids: the model's vocabulary size when declared, else the largest indexed id + 1. */
  vocabSize: number;
  /** True when vocabSize came from the model or tokenizer (absent in older indexes: not declared). */
  vocabDeclared?: boolean;
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
  /**
   * Internal document order: 'bp' (recursive graph bisection; forward.bin then maps internal numbers
   * to input numbers in its `origDoc` section) or 'none'/absent (input order).
   */
  reorder?: 'none' | 'bp';
}

export interface DenseParams {
  dim: number;
  /** Storage type of the document matrix. */
  dtype: 'f32' | 'f16' | 'int8';
  /** An HNSW graph in ann.usearch for approximate search (absent: flat search only). */
  ann?: AnnParams;
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
  build?: { seconds: number; peakRssBytes: number; source?: string; reorderSeconds?: number };
  /** sha256 of the manifest's JSON without this field (see manifestChecksum); verified on every read. */
  checksum?: string;
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
  if (typeof m.checksum !== 'string')
    throw new Error(`lion: index manifest '${path}' has no checksum (written by an older Lion, or edited); hint: rebuild the index with 'lion index'`);
  const want = manifestChecksum(m);
  if (m.checksum !== want)
    throw new Error(
      `lion: index manifest '${path}' fails its checksum (sha256 ${want.slice(0, 16)}…, recorded ${m.checksum.slice(0, 16)}…): the manifest was corrupted or edited; hint: rebuild the index with 'lion index'`,
    );
  checkParams(m, path);
  return m;
}

/**
 * The manifest's own checksum: sha256 of its JSON with the `checksum` field left out. Parsing and
 * re-serialising keeps key order and round-trips every number, so the reader recomputes it exactly.
 */
export function manifestChecksum(m: IndexManifest): string {
  const { checksum: _, ...rest } = m;
  return sha256(new TextEncoder().encode(JSON.stringify(rest)));
}

/** Writes `dir/manifest.json` atomically with its checksum; returns the manifest as written. */
export function writeManifest(dir: string, m: IndexManifest): IndexManifest {
  const out: IndexManifest = { ...m, checksum: undefined };
  out.checksum = manifestChecksum(out);
  writeBytesAtomic(join(dir, MANIFEST), JSON.stringify(out, null, 2) + '\n');
  return out;
}

/** Values a checksummed manifest could still hold wrongly only through a bug: refused, not trusted. */
function checkParams(m: IndexManifest, path: string): void {
  const bad = (what: string): never => {
    throw new Error(`lion: index manifest '${path}': ${what}; hint: rebuild the index with 'lion index'`);
  };
  if (m.paradigm !== 'sparse' && m.paradigm !== 'dense') bad(`unknown paradigm '${String(m.paradigm)}'`);
  if (!Number.isInteger(m.counts?.docs) || m.counts.docs < 0) bad(`counts.docs must be a non-negative integer`);
  const p = m.sparse;
  if (m.paradigm === 'sparse') {
    if (!p) bad('a sparse index without sparse parameters');
    if (p!.bits !== 8 && p!.bits !== 16) bad(`sparse.bits must be 8 or 16, got ${String(p!.bits)}`);
    if (!(Number.isFinite(p!.scale) && p!.scale > 0)) bad(`sparse.scale must be a positive number, got ${String(p!.scale)}`);
    if (!Number.isInteger(p!.vocabSize) || p!.vocabSize < 1) bad(`sparse.vocabSize must be a positive integer`);
    const b = p!.docBlock;
    if (!Number.isInteger(b) || b < 1 || b > 256 || (b & (b - 1)) !== 0) bad(`sparse.docBlock must be a power of two <= 256, got ${String(b)}`);
  }
  if (m.paradigm === 'dense') {
    if (!m.dense) bad('a dense index without dense parameters');
    if (!Number.isInteger(m.dense!.dim) || m.dense!.dim < 1) bad(`dense.dim must be a positive integer`);
  }
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
  const { entry, path } = listedFile(dir, m, name);
  const { buffer, bytes } = readWhole(path, shared);
  compareEntry(path, entry, { bytes: bytes.length, sha256: sha256(bytes) });
  return buffer;
}

/**
 * Checks one index file's size and sha256 against the manifest without holding it in memory (for a
 * file that is then memory-mapped); `hint` says what to do when it fails.
 */
export function verifyFile(dir: string, m: IndexManifest, name: string, hint = REBUILD): string {
  const { entry, path } = listedFile(dir, m, name, hint);
  compareEntry(path, entry, hashFile(path), hint);
  return path;
}

const REBUILD = "rebuild the index with 'lion index'";

function listedFile(dir: string, m: IndexManifest, name: string, hint = REBUILD): { entry: FileEntry; path: string } {
  const entry = m.files[name];
  if (!entry)
    throw new Error(`lion: index manifest '${join(dir, MANIFEST)}' lists no file '${name}'; hint: ${hint}`);
  const path = join(dir, name);
  if (!existsSync(path)) throw new Error(`lion: index file '${path}' is missing; hint: ${hint}`);
  return { entry, path };
}

function compareEntry(path: string, entry: FileEntry, got: FileEntry, hint = REBUILD): void {
  if (got.bytes !== entry.bytes)
    throw new Error(
      `lion: index file '${path}' has ${got.bytes} bytes, its manifest says ${entry.bytes}: the file is truncated or was changed; hint: ${hint}`,
    );
  if (got.sha256 !== entry.sha256)
    throw new Error(
      `lion: index file '${path}' fails its checksum (sha256 ${got.sha256.slice(0, 16)}…, manifest ${entry.sha256.slice(0, 16)}…): the file is corrupted; hint: ${hint}`,
    );
}

/** Whether `dir` holds a Lion index (a manifest in Lion's format), the only kind `--overwrite` replaces. */
export function isIndexDir(dir: string): boolean {
  try {
    return (JSON.parse(readFileSync(join(dir, MANIFEST), 'utf8')) as { format?: unknown }).format === INDEX_FORMAT;
  } catch {
    return false;
  }
}

/**
 * Builds an index folder atomically (formats/file-io's withAtomicDir): an existing `dir` is replaced
 * only when it is a Lion index and `overwrite` is set; anything else there is refused, never deleted.
 */
export async function withAtomicDir<T>(
  dir: string,
  fill: (tmp: string) => Promise<T>,
  o: { overwrite?: boolean; inputs?: readonly (string | undefined)[]; cmd?: string } = {},
): Promise<T> {
  return withAtomicFolder(dir, fill, { ...o, isOurs: isIndexDir, what: 'index', cmd: o.cmd ?? 'index' });
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
