/**
 * Lion's binary container: one file holding named typed-array sections and a JSON footer.
 *
 * Layout (little-endian):
 * ```
 * 0   "LIONBIN\0"                  magic (8 bytes)
 * 8   u32 container version (1), u32 0
 * 16  section data, each section 8-byte aligned
 * …   footer: UTF-8 JSON {kind, version, sections: [{name, dtype, offset, length}], meta}
 * end-16  u32 footer offset (low), u32 footer offset (high), u32 footer bytes, "LEND"
 * ```
 * The footer sits at the end so a builder can stream sections whose lengths it learns as it goes. A
 * reader takes the whole file in one read and makes zero-copy views, so a file read into a
 * SharedArrayBuffer can be handed to worker threads without copying.
 * @module
 */
import { closeSync, fstatSync, openSync, readSync, writeSync, fsyncSync } from 'node:fs';
import { createHash } from 'node:crypto';

export const CONTAINER_MAGIC = 'LIONBIN\0';
export const CONTAINER_VERSION = 1;

export type SectionDtype = 'u8' | 'i8' | 'u16' | 'u32' | 'i32' | 'f32' | 'f64';
export type SectionArray =
  Uint8Array | Int8Array | Uint16Array | Uint32Array | Int32Array | Float32Array | Float64Array;

const CTORS = {
  u8: Uint8Array,
  i8: Int8Array,
  u16: Uint16Array,
  u32: Uint32Array,
  i32: Int32Array,
  f32: Float32Array,
  f64: Float64Array,
} as const;

export function dtypeOf(a: SectionArray): SectionDtype {
  if (a instanceof Uint8Array) return 'u8';
  if (a instanceof Int8Array) return 'i8';
  if (a instanceof Uint16Array) return 'u16';
  if (a instanceof Uint32Array) return 'u32';
  if (a instanceof Int32Array) return 'i32';
  if (a instanceof Float32Array) return 'f32';
  return 'f64';
}

interface SectionEntry {
  name: string;
  dtype: SectionDtype;
  offset: number;
  length: number;
}

interface Footer {
  kind: string;
  version: number;
  sections: SectionEntry[];
  meta: Record<string, unknown>;
}

/**
 * Writes a container sequentially, hashing as it goes, so the checksum costs no second pass.
 */
export class ContainerWriter {
  readonly path: string;
  readonly #fd: number;
  #pos = 0;
  readonly #sections: SectionEntry[] = [];
  #open: SectionEntry | null = null;
  readonly #hash = createHash('sha256');

  constructor(path: string) {
    this.path = path;
    this.#fd = openSync(path, 'w');
    const head = Buffer.alloc(16);
    head.write(CONTAINER_MAGIC, 0, 'latin1');
    head.writeUInt32LE(CONTAINER_VERSION, 8);
    this.#raw(head);
  }

  #raw(buf: Uint8Array): void {
    let off = 0;
    while (off < buf.length) off += writeSync(this.#fd, buf, off, buf.length - off);
    this.#hash.update(buf);
    this.#pos += buf.length;
  }

  #align(): void {
    const pad = (8 - (this.#pos % 8)) % 8;
    if (pad) this.#raw(new Uint8Array(pad));
  }

  /** Starts a section; append to it with `append` and finish it with `end`. */
  begin(name: string, dtype: SectionDtype): void {
    if (this.#open) throw new Error(`lion index: section '${this.#open.name}' is still open`);
    this.#align();
    this.#open = { name, dtype, offset: this.#pos, length: 0 };
  }

  append(a: SectionArray): void {
    const s = this.#open;
    if (!s) throw new Error('lion index: append outside a section');
    if (dtypeOf(a) !== s.dtype) throw new Error(`lion index: section '${s.name}' holds ${s.dtype}, got ${dtypeOf(a)}`);
    this.#raw(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
    s.length += a.length;
  }

  end(): void {
    if (!this.#open) throw new Error('lion index: no open section');
    this.#sections.push(this.#open);
    this.#open = null;
  }

  /** A whole section at once. */
  section(name: string, a: SectionArray): void {
    this.begin(name, dtypeOf(a));
    this.append(a);
    this.end();
  }

  /** Writes the footer, syncs and closes; returns the file's size and sha256. */
  finish(kind: string, version: number, meta: Record<string, unknown> = {}): { bytes: number; sha256: string } {
    if (this.#open) throw new Error(`lion index: section '${this.#open.name}' is still open`);
    this.#align();
    const footer: Footer = { kind, version, sections: this.#sections, meta };
    const json = Buffer.from(JSON.stringify(footer), 'utf8');
    const at = this.#pos;
    this.#raw(json);
    const tail = Buffer.alloc(16);
    tail.writeUInt32LE(at % 2 ** 32, 0);
    tail.writeUInt32LE(Math.floor(at / 2 ** 32), 4);
    tail.writeUInt32LE(json.length, 8);
    tail.write('LEND', 12, 'latin1');
    this.#raw(tail);
    fsyncSync(this.#fd);
    closeSync(this.#fd);
    return { bytes: this.#pos, sha256: this.#hash.digest('hex') };
  }
}

/** A container in memory: its sections as zero-copy views over one buffer. */
export interface Container {
  kind: string;
  version: number;
  meta: Record<string, unknown>;
  /** The whole file; a SharedArrayBuffer when read with `shared`. */
  buffer: ArrayBuffer | SharedArrayBuffer;
  sections: Map<string, SectionArray>;
}

/** Reads a whole file with one allocation (optionally shared between threads). */
export function readWhole(
  path: string,
  shared = false,
): { buffer: ArrayBuffer | SharedArrayBuffer; bytes: Uint8Array } {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const buffer = shared ? new SharedArrayBuffer(size) : new ArrayBuffer(size);
    const bytes = new Uint8Array(buffer);
    let off = 0;
    while (off < size) {
      // readSync reads at most 2 GiB at a time
      const n = readSync(fd, bytes, off, Math.min(size - off, 1 << 30), off);
      if (n === 0) break;
      off += n;
    }
    return { buffer, bytes: off === size ? bytes : bytes.subarray(0, off) };
  } finally {
    closeSync(fd);
  }
}

const HASH_PIECE = 1 << 30;

/** Hex sha256 of `bytes` (any length: hashed in pieces, as one update takes at most 2 GiB). */
export function sha256(bytes: Uint8Array): string {
  const h = createHash('sha256');
  for (let off = 0; off < bytes.length; off += HASH_PIECE) h.update(bytes.subarray(off, off + HASH_PIECE));
  return h.digest('hex');
}

/** Size and sha256 of a file, read in 16 MiB pieces (index files can be larger than one buffer). */
export function hashFile(path: string): { bytes: number; sha256: string } {
  const h = createHash('sha256');
  const buf = Buffer.allocUnsafe(1 << 24);
  const fd = openSync(path, 'r');
  let bytes = 0;
  try {
    for (let n; (n = readSync(fd, buf, 0, buf.length, null)) > 0; bytes += n) h.update(buf.subarray(0, n));
  } finally {
    closeSync(fd);
  }
  return { bytes, sha256: h.digest('hex') };
}

/** Parses a container already in memory; `label` names it in errors. */
export function parseContainer(buffer: ArrayBuffer | SharedArrayBuffer, label: string): Container {
  const bytes = new Uint8Array(buffer);
  const bad = (what: string): Error =>
    new Error(
      `lion: index file '${label}' ${what}; hint: the file is truncated or corrupted, rebuild the index with 'lion index'`,
    );
  if (bytes.length < 32) throw bad(`is too short (${bytes.length} bytes)`);
  const magic = Buffer.from(bytes.subarray(0, 8)).toString('latin1');
  if (magic !== CONTAINER_MAGIC) throw bad(`does not start with Lion's magic number`);
  const dv = new DataView(buffer);
  const version = dv.getUint32(8, true);
  if (version !== CONTAINER_VERSION)
    throw new Error(
      `lion: index file '${label}' has container version ${version}; this Lion reads version ${CONTAINER_VERSION}; hint: rebuild the index with this Lion`,
    );
  const end = bytes.length;
  if (Buffer.from(bytes.subarray(end - 4, end)).toString('latin1') !== 'LEND') throw bad('has no end marker');
  const footerAt = dv.getUint32(end - 16, true) + dv.getUint32(end - 12, true) * 2 ** 32;
  const footerLen = dv.getUint32(end - 8, true);
  if (footerAt + footerLen !== end - 16) throw bad('has a footer that does not fit');
  let footer: Footer;
  try {
    footer = JSON.parse(Buffer.from(bytes.subarray(footerAt, footerAt + footerLen)).toString('utf8')) as Footer;
  } catch {
    throw bad('has an unreadable footer');
  }
  const sections = new Map<string, SectionArray>();
  for (const s of footer.sections) {
    const Ctor = CTORS[s.dtype];
    if (!Ctor || s.offset % 8 !== 0 || s.offset + s.length * Ctor.BYTES_PER_ELEMENT > footerAt)
      throw bad(`has a bad section '${s.name}'`);
    // views over a shared buffer work the same; the cast only widens the constructor's parameter
    sections.set(s.name, new Ctor(buffer as ArrayBuffer, s.offset, s.length));
  }
  return { kind: footer.kind, version: footer.version, meta: footer.meta, buffer, sections };
}

/** A section by name and dtype, or a clear error. */
export function sectionOf<D extends SectionDtype>(
  c: Container,
  name: string,
  dtype: D,
  label: string,
): InstanceType<(typeof CTORS)[D]> {
  const s = c.sections.get(name);
  if (!s || dtypeOf(s) !== dtype)
    throw new Error(
      `lion: index file '${label}' lacks section '${name}' (${dtype}); hint: rebuild the index with this Lion`,
    );
  return s as InstanceType<(typeof CTORS)[D]>;
}
