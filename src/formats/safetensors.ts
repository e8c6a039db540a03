/**
 * safetensors: read (header checked, tensors one at a time), write (atomic, HF's layout) and
 * sharded checkpoints (`model.safetensors.index.json`).
 *
 * File layout: u64 little-endian header length N, N bytes of JSON
 * `{"__metadata__": {str: str}, name: {"dtype", "shape", "data_offsets": [begin, end]}}`, then the
 * data section; offsets are relative to the data section's start.
 * @module
 */
import { existsSync, fstatSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { FormatError } from './errors.ts';
import { readAt, withFile, writeAll, writeBytesAtomic, writeFileAtomic } from './file-io.ts';
import { byteSize, isRawDType, RAW_DTYPE_BYTES, RAW_DTYPES, type RawTensor } from './raw-tensor.ts';
import { tensorEntries, type TensorEntries, type TensorInfo, type TensorSource } from './tensor-source.ts';

/** The safetensors reference implementation refuses headers above 100 MB; so do we. */
export const MAX_HEADER_BYTES = 100_000_000;

/** One tensor's header entry, checked. */
export interface SafetensorsEntry extends TensorInfo {
  name: string;
  /** [begin, end) relative to the start of the data section. */
  dataOffsets: [number, number];
}

export interface SafetensorsHeader {
  /** `__metadata__`, or null when absent. */
  metadata: Record<string, string> | null;
  /** Entries in data order (ascending begin offset). */
  entries: SafetensorsEntry[];
  /** Byte offset of the data section in the file (8 + N). */
  dataStart: number;
}

/**
 * Checks a parsed header against the data section's length: JSON shape, known dtypes, offsets that
 * match shape × dtype, lie inside the data and do not overlap. Errors name the file and tensor.
 */
export function parseSafetensorsHeader(json: unknown, file: string, dataStart: number, dataLength: number): SafetensorsHeader {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new FormatError(file, 'safetensors header is not a JSON object');
  let metadata: Record<string, string> | null = null;
  const entries: SafetensorsEntry[] = [];
  for (const [name, raw] of Object.entries(json as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof raw !== 'object' || raw === null || Array.isArray(raw) || Object.values(raw).some((v) => typeof v !== 'string')) {
        throw new FormatError(file, '__metadata__ must map strings to strings', { key: '__metadata__' });
      }
      metadata = { ...(raw as Record<string, string>) };
      continue;
    }
    const bad = (what: string): FormatError => new FormatError(file, what, { key: name, keyKind: 'tensor' });
    if (typeof raw !== 'object' || raw === null) throw bad('header entry is not an object');
    const { dtype, shape, data_offsets: offsets } = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (!isRawDType(dtype)) throw bad(`unsupported dtype '${String(dtype)}'; supported: ${RAW_DTYPES.join(', ')}`);
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) throw bad(`shape ${JSON.stringify(shape)} is not a list of non-negative integers`);
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((d) => Number.isSafeInteger(d) && d >= 0) || offsets[0] > offsets[1]) {
      throw bad(`data_offsets ${JSON.stringify(offsets)} is not [begin, end] with 0 <= begin <= end`);
    }
    const [begin, end] = offsets as [number, number];
    const need = byteSize(dtype, shape as number[]);
    if (end - begin !== need) throw bad(`header lies about sizes: ${dtype}[${(shape as number[]).join(', ')}] needs ${need} bytes but data_offsets [${begin}, ${end}) span ${end - begin}`);
    if (end > dataLength) {
      throw new FormatError(file, `file is truncated: data_offsets [${begin}, ${end}) reach past the end of the data section (${dataLength} bytes)`, {
        key: name, keyKind: 'tensor', hint: 'the download or copy was cut short; fetch the file again',
      });
    }
    entries.push({ name, dtype, shape: [...(shape as number[])], byteLength: need, dataOffsets: [begin, end] });
  }
  entries.sort((a, b) => a.dataOffsets[0] - b.dataOffsets[0] || a.dataOffsets[1] - b.dataOffsets[1]);
  // Compare each tensor with the furthest-reaching one before it (a zero-size entry must not hide an overlap).
  let reach: SafetensorsEntry | undefined;
  for (const cur of entries) {
    if (cur.byteLength === 0) continue;
    if (reach !== undefined && cur.dataOffsets[0] < reach.dataOffsets[1]) {
      throw new FormatError(file, `header lies about sizes: tensor data [${cur.dataOffsets.join(', ')}) overlaps '${reach.name}' [${reach.dataOffsets.join(', ')})`, { key: cur.name, keyKind: 'tensor' });
    }
    if (reach === undefined || cur.dataOffsets[1] > reach.dataOffsets[1]) reach = cur;
  }
  return { metadata, entries, dataStart };
}

/** Reads and checks the header of an open safetensors file. */
function readHeaderFd(fd: number, file: string): SafetensorsHeader {
  const size = fstatSync(fd).size;
  if (size < 8) throw new FormatError(file, `not a safetensors file: ${size} bytes is too short for the 8-byte header length`);
  const lenBytes = readAt(fd, 0, 8, file, 'the header length');
  const n = new DataView(lenBytes.buffer).getBigUint64(0, true);
  if (n > BigInt(MAX_HEADER_BYTES)) throw new FormatError(file, `not a safetensors file: header length ${n} is above the ${MAX_HEADER_BYTES}-byte limit`);
  const headerLength = Number(n);
  if (8 + headerLength > size) throw new FormatError(file, `file is truncated: header length ${headerLength} runs past the end of the file (${size} bytes)`);
  const text = new TextDecoder('utf-8', { fatal: false }).decode(readAt(fd, 8, headerLength, file, 'the header'));
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new FormatError(file, `safetensors header is not valid JSON: ${(e as Error).message}`, { cause: e });
  }
  return parseSafetensorsHeader(json, file, 8 + headerLength, size - 8 - headerLength);
}

/** Reads and checks a safetensors header without reading tensor data. */
export function readSafetensorsHeader(file: string): SafetensorsHeader {
  return withFile(file, (fd) => readHeaderFd(fd, file));
}

/** One safetensors file; tensors are read on demand, each into its own buffer. */
export class SafetensorsFile implements TensorSource {
  readonly path: string;
  readonly header: SafetensorsHeader;
  readonly #byName: Map<string, SafetensorsEntry>;

  private constructor(path: string, header: SafetensorsHeader) {
    this.path = path;
    this.header = header;
    this.#byName = new Map(header.entries.map((e) => [e.name, e]));
  }

  /** Opens a file and checks its header (the data is not read). */
  static open(path: string): SafetensorsFile {
    return new SafetensorsFile(path, readSafetensorsHeader(path));
  }

  get metadata(): Record<string, string> | null {
    return this.header.metadata;
  }

  names(): string[] {
    return this.header.entries.map((e) => e.name);
  }

  has(name: string): boolean {
    return this.#byName.has(name);
  }

  info(name: string): TensorInfo {
    const e = this.#entry(name);
    return { dtype: e.dtype, shape: [...e.shape], byteLength: e.byteLength };
  }

  read(name: string): RawTensor {
    const e = this.#entry(name);
    const data = withFile(this.path, (fd) => readAt(fd, this.header.dataStart + e.dataOffsets[0], e.byteLength, this.path, `tensor '${name}'`));
    return { dtype: e.dtype, shape: [...e.shape], data };
  }

  readBytes(name: string, offset: number, into: Uint8Array): Uint8Array {
    const e = this.#entry(name);
    if (offset < 0 || offset + into.byteLength > e.byteLength) throw new FormatError(this.path, `bytes [${offset}, ${offset + into.byteLength}) are outside the tensor's ${e.byteLength}`, { key: name, keyKind: 'tensor' });
    return withFile(this.path, (fd) => readAt(fd, this.header.dataStart + e.dataOffsets[0] + offset, into.byteLength, this.path, `tensor '${name}'`, into));
  }

  *entries(): IterableIterator<[string, RawTensor]> {
    for (const e of this.header.entries) yield [e.name, this.read(e.name)];
  }

  #entry(name: string): SafetensorsEntry {
    const e = this.#byName.get(name);
    if (e === undefined) throw new FormatError(this.path, 'no such tensor in this file', { key: name, keyKind: 'tensor' });
    return e;
  }
}

/** Data order when writing: widest dtype first (keeps every tensor aligned to its element size), then by name. */
function writeOrder(a: [string, RawTensor], b: [string, RawTensor]): number {
  return RAW_DTYPE_BYTES[b[1].dtype] - RAW_DTYPE_BYTES[a[1].dtype] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);
}

export interface WriteSafetensorsOptions {
  /** Written as `__metadata__` (string values only). */
  metadata?: Record<string, string>;
}

/**
 * Writes tensors as safetensors, atomically (temp file + rename), as Hugging Face's writer lays
 * them out: `__metadata__` first, tensors sorted by dtype width then name, header padded with spaces
 * to a multiple of 8 bytes. Tensor data are streamed, never concatenated.
 */
export function writeSafetensors(path: string, tensors: TensorEntries, options: WriteSafetensorsOptions = {}): void {
  const list = tensorEntries(tensors).sort(writeOrder);
  const header: Record<string, unknown> = {};
  if (options.metadata !== undefined) header.__metadata__ = { ...options.metadata };
  let offset = 0;
  const seen = new Set<string>();
  for (const [name, t] of list) {
    if (name === '__metadata__' || name === '') throw new FormatError(path, 'invalid tensor name', { key: name, keyKind: 'tensor' });
    if (seen.has(name)) throw new FormatError(path, 'tensor name given twice', { key: name, keyKind: 'tensor' });
    seen.add(name);
    if (!isRawDType(t.dtype)) throw new FormatError(path, `unsupported dtype '${String(t.dtype)}'`, { key: name, keyKind: 'tensor' });
    const need = byteSize(t.dtype, t.shape);
    if (t.data.byteLength !== need) throw new FormatError(path, `tensor data has ${t.data.byteLength} bytes but ${t.dtype}[${t.shape.join(', ')}] needs ${need}`, { key: name, keyKind: 'tensor' });
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + need] };
    offset += need;
  }
  let json = JSON.stringify(header);
  const enc = new TextEncoder();
  const pad = (8 - (enc.encode(json).byteLength % 8)) % 8;
  json += ' '.repeat(pad);
  const headerBytes = enc.encode(json);
  const prefix = new Uint8Array(8);
  new DataView(prefix.buffer).setBigUint64(0, BigInt(headerBytes.byteLength), true);
  writeFileAtomic(path, (fd) => {
    writeAll(fd, prefix);
    writeAll(fd, headerBytes);
    for (const [, t] of list) writeAll(fd, t.data);
  });
}

/** The index file of a sharded checkpoint. */
export interface ShardIndex {
  metadata: Record<string, unknown>;
  /** Tensor name → shard file name (relative to the index's folder). */
  weight_map: Record<string, string>;
}

/** Reads and checks `*.index.json` (a `weight_map` of strings). */
export function readShardIndex(indexPath: string): ShardIndex {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(indexPath, 'utf8'));
  } catch (e) {
    throw new FormatError(indexPath, `cannot read shard index: ${(e as Error).message}`, { cause: e });
  }
  const wm = (json as { weight_map?: unknown } | null)?.weight_map;
  if (typeof wm !== 'object' || wm === null || Array.isArray(wm)) throw new FormatError(indexPath, 'shard index has no weight_map object', { key: 'weight_map' });
  for (const [k, v] of Object.entries(wm)) {
    if (typeof v !== 'string' || v === '' || v.includes('..') || v.startsWith('/')) throw new FormatError(indexPath, `weight_map entry is not a plain file name: ${JSON.stringify(v)}`, { key: k });
  }
  const md = (json as { metadata?: unknown }).metadata;
  return { metadata: typeof md === 'object' && md !== null ? (md as Record<string, unknown>) : {}, weight_map: wm as Record<string, string> };
}

/**
 * A sharded checkpoint: one TensorSource over several files listed by an index's `weight_map`.
 * Opening reads every shard's header and checks that each tensor is where the index says.
 */
export class ShardedCheckpoint implements TensorSource {
  readonly path: string;
  readonly index: ShardIndex;
  readonly shards: ReadonlyMap<string, TensorSource>;
  readonly #where: Map<string, TensorSource>;

  constructor(indexPath: string, openShard: (file: string) => TensorSource) {
    this.path = indexPath;
    this.index = readShardIndex(indexPath);
    const dir = dirname(indexPath);
    const shards = new Map<string, TensorSource>();
    this.#where = new Map();
    for (const [name, shard] of Object.entries(this.index.weight_map)) {
      let src = shards.get(shard);
      if (src === undefined) {
        const file = join(dir, shard);
        if (!existsSync(file)) throw new FormatError(indexPath, `shard '${shard}' listed in weight_map does not exist`, { key: name, hint: `expected ${file}` });
        src = openShard(file);
        shards.set(shard, src);
      }
      if (!src.has(name)) throw new FormatError(indexPath, `weight_map puts this tensor in '${shard}', which does not hold it`, { key: name, keyKind: 'tensor' });
      this.#where.set(name, src);
    }
    this.shards = shards;
  }

  names(): string[] {
    return [...this.#where.keys()];
  }

  has(name: string): boolean {
    return this.#where.has(name);
  }

  info(name: string): TensorInfo {
    return this.#src(name).info(name);
  }

  read(name: string): RawTensor {
    return this.#src(name).read(name);
  }

  readBytes(name: string, offset: number, into: Uint8Array): Uint8Array {
    const src = this.#src(name);
    if (!src.readBytes) throw new FormatError(this.path, 'this shard cannot read byte ranges', { key: name, keyKind: 'tensor' });
    return src.readBytes(name, offset, into);
  }

  *entries(): IterableIterator<[string, RawTensor]> {
    // Shard by shard, so each file is visited once in order.
    for (const src of this.shards.values()) for (const name of src.names()) if (this.#where.get(name) === src) yield [name, src.read(name)];
  }

  #src(name: string): TensorSource {
    const s = this.#where.get(name);
    if (s === undefined) throw new FormatError(this.path, 'no such tensor in this checkpoint', { key: name, keyKind: 'tensor' });
    return s;
  }
}

export interface WriteShardedOptions extends WriteSafetensorsOptions {
  /** Largest shard in bytes of tensor data (default 5 GB, as transformers' `max_shard_size`). A tensor larger than this gets a shard of its own. */
  maxShardBytes?: number;
  /** File name stem: `<stem>.safetensors` or `<stem>-0000i-of-0000n.safetensors` (default 'model'). */
  stem?: string;
}

/**
 * Writes tensors to `dir` as one `model.safetensors`, or, above `maxShardBytes`, as numbered shards
 * plus `model.safetensors.index.json` (with `metadata.total_size`), as transformers does.
 * Returns the files written.
 */
export function writeSafetensorsCheckpoint(dir: string, tensors: TensorEntries, options: WriteShardedOptions = {}): string[] {
  const max = options.maxShardBytes ?? 5_000_000_000;
  const stem = options.stem ?? 'model';
  mkdirSync(dir, { recursive: true });
  const list = tensorEntries(tensors);
  const groups: [string, RawTensor][][] = [[]];
  let size = 0;
  let total = 0;
  for (const e of list) {
    const b = e[1].data.byteLength;
    total += b;
    if (size > 0 && size + b > max) {
      groups.push([]);
      size = 0;
    }
    (groups[groups.length - 1] as [string, RawTensor][]).push(e);
    size += b;
  }
  if (groups.length === 1) {
    const file = join(dir, `${stem}.safetensors`);
    writeSafetensors(file, list, options);
    return [file];
  }
  const n = groups.length;
  const pad = (i: number): string => String(i).padStart(5, '0');
  const weightMap: Record<string, string> = {};
  const files: string[] = [];
  groups.forEach((g, i) => {
    const name = `${stem}-${pad(i + 1)}-of-${pad(n)}.safetensors`;
    writeSafetensors(join(dir, name), g, { metadata: options.metadata ?? { format: 'pt' } });
    for (const [k] of g) weightMap[k] = name;
    files.push(join(dir, name));
  });
  const sorted = Object.fromEntries(Object.keys(weightMap).sort().map((k) => [k, weightMap[k]]));
  const indexFile = join(dir, `${stem}.safetensors.index.json`);
  writeBytesAtomic(indexFile, `${JSON.stringify({ metadata: { total_size: total }, weight_map: sorted }, null, 2)}\n`);
  files.push(indexFile);
  return files;
}

/**
 * Opens safetensors weights: a `.safetensors` file, an `.index.json`, or a folder holding
 * `model.safetensors.index.json` or `model.safetensors`.
 */
export function openSafetensors(pathOrDir: string): TensorSource {
  const p = resolve(pathOrDir);
  if (!existsSync(p)) throw new FormatError(pathOrDir, 'no such file or folder');
  if (statSync(p).isFile()) return p.endsWith('.index.json') ? new ShardedCheckpoint(p, (f) => SafetensorsFile.open(f)) : SafetensorsFile.open(p);
  const index = join(p, 'model.safetensors.index.json');
  if (existsSync(index)) return new ShardedCheckpoint(index, (f) => SafetensorsFile.open(f));
  const single = join(p, 'model.safetensors');
  if (existsSync(single)) return SafetensorsFile.open(single);
  throw new FormatError(pathOrDir, `no model.safetensors or model.safetensors.index.json in this folder`, { hint: `is '${basename(p)}' a Hugging Face model folder?` });
}
