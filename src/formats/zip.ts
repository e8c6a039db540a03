/**
 * A minimal zip reader and writer, enough for PyTorch's `torch.save` archives.
 *
 * Reading parses the central directory (ZIP64 included) from the end of the file and reads each
 * entry with positioned reads, so a large archive is never loaded whole. Entries may be STORED
 * (what torch writes) or DEFLATEd. Writing produces STORED entries with data aligned to 64 bytes
 * through padding in the local header's extra field, as PyTorch's own writer does.
 * @module
 */
import { fstatSync } from 'node:fs';
import { crc32, inflateRawSync } from 'node:zlib';
import { FormatError } from './errors.ts';
import { readAt, withFile, writeAll, writeFileAtomic } from './file-io.ts';

/** One entry of the central directory. */
export interface ZipEntry {
  name: string;
  /** 0 = STORED, 8 = DEFLATE. */
  method: number;
  compressedSize: number;
  size: number;
  crc32: number;
  /** Offset of the entry's local header. */
  localHeaderOffset: number;
}

const SIG_EOCD = 0x06054b50;
const SIG_EOCD64 = 0x06064b50;
const SIG_EOCD64_LOCATOR = 0x07064b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_LOCAL = 0x04034b50;

function u64(v: DataView, at: number): number {
  const x = v.getBigUint64(at, true);
  if (x > BigInt(Number.MAX_SAFE_INTEGER)) throw new RangeError('zip field above 2^53');
  return Number(x);
}

/** An open zip archive: its entry list, and positioned reads of single entries. */
export class ZipReader {
  readonly file: string;
  readonly entries: ReadonlyMap<string, ZipEntry>;

  private constructor(file: string, entries: Map<string, ZipEntry>) {
    this.file = file;
    this.entries = entries;
  }

  /** Reads the central directory. @throws FormatError when the file is not a (complete) zip archive. */
  static open(file: string): ZipReader {
    return withFile(file, (fd) => new ZipReader(file, readCentralDirectory(fd, file)));
  }

  /** Offset of an entry's data (after its local header) in the file. */
  dataOffset(fd: number, e: ZipEntry): number {
    const h = readAt(fd, e.localHeaderOffset, 30, this.file, `the local header of '${e.name}'`);
    const v = new DataView(h.buffer);
    if (v.getUint32(0, true) !== SIG_LOCAL) throw new FormatError(this.file, 'corrupt zip: bad local header signature', { key: e.name });
    return e.localHeaderOffset + 30 + v.getUint16(26, true) + v.getUint16(28, true);
  }

  /**
   * Reads bytes [start, end) of an entry's uncompressed content (the whole entry by default).
   * STORED entries read only that window from disk.
   */
  read(name: string, start = 0, end?: number): Uint8Array {
    const e = this.entries.get(name);
    if (e === undefined) throw new FormatError(this.file, 'no such entry in the zip archive', { key: name });
    const stop = end ?? e.size;
    if (start < 0 || stop > e.size || start > stop) throw new FormatError(this.file, `entry read [${start}, ${stop}) is outside its ${e.size} bytes`, { key: name });
    return withFile(this.file, (fd) => {
      const at = this.dataOffset(fd, e);
      if (e.method === 0) {
        if (e.compressedSize !== e.size) throw new FormatError(this.file, 'corrupt zip: STORED entry whose sizes differ', { key: name });
        return readAt(fd, at + start, stop - start, this.file, `zip entry '${name}'`);
      }
      if (e.method !== 8) throw new FormatError(this.file, `unsupported zip compression method ${e.method}`, { key: name });
      const raw = inflateRawSync(readAt(fd, at, e.compressedSize, this.file, `zip entry '${name}'`));
      if (raw.byteLength !== e.size) throw new FormatError(this.file, `corrupt zip: entry inflates to ${raw.byteLength} bytes, directory says ${e.size}`, { key: name });
      return new Uint8Array(raw.buffer, raw.byteOffset + start, stop - start).slice();
    });
  }
}

function readCentralDirectory(fd: number, file: string): Map<string, ZipEntry> {
  const size = fstatSync(fd).size;
  const notZip = (why: string): FormatError => new FormatError(file, `not a readable zip archive (${why})`, { hint: 'a torch .bin must come from torch.save with the zip format (PyTorch >= 1.6); a truncated download also gives this' });
  if (size < 22) throw notZip(`${size} bytes is too short`);
  // The end record is in the last 22 + 65535 (comment) bytes; search it backwards.
  const tailLen = Math.min(size, 22 + 65535 + 20);
  const tail = readAt(fd, size - tailLen, tailLen, file, 'the end of the zip directory');
  const tv = new DataView(tail.buffer);
  let eocd = -1;
  for (let i = tailLen - 22; i >= 0; i--) {
    if (tv.getUint32(i, true) === SIG_EOCD) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw notZip('no end-of-central-directory record');
  let count = tv.getUint16(eocd + 10, true);
  let cdSize = tv.getUint32(eocd + 12, true);
  let cdOffset = tv.getUint32(eocd + 16, true);
  if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
    const loc = eocd - 20;
    if (loc < 0 || tv.getUint32(loc, true) !== SIG_EOCD64_LOCATOR) throw notZip('ZIP64 locator missing');
    const at = u64(tv, loc + 8);
    const r = readAt(fd, at, 56, file, 'the ZIP64 end record');
    const rv = new DataView(r.buffer);
    if (rv.getUint32(0, true) !== SIG_EOCD64) throw notZip('bad ZIP64 end record');
    count = u64(rv, 32);
    cdSize = u64(rv, 40);
    cdOffset = u64(rv, 48);
  }
  if (cdOffset + cdSize > size) throw notZip(`central directory [${cdOffset}, ${cdOffset + cdSize}) runs past the end of the file (${size} bytes); the file is truncated`);
  const cd = readAt(fd, cdOffset, cdSize, file, 'the central directory');
  const v = new DataView(cd.buffer);
  const entries = new Map<string, ZipEntry>();
  let p = 0;
  for (let i = 0; i < count; i++) {
    if (p + 46 > cdSize || v.getUint32(p, true) !== SIG_CENTRAL) throw notZip(`bad central directory entry ${i}`);
    const method = v.getUint16(p + 10, true);
    const crc = v.getUint32(p + 16, true);
    let compressedSize = v.getUint32(p + 20, true);
    let usize = v.getUint32(p + 24, true);
    const nameLen = v.getUint16(p + 28, true);
    const extraLen = v.getUint16(p + 30, true);
    const commentLen = v.getUint16(p + 32, true);
    let localHeaderOffset = v.getUint32(p + 42, true);
    const name = new TextDecoder().decode(cd.subarray(p + 46, p + 46 + nameLen));
    // ZIP64 extra field: 64-bit values for exactly the fields that read 0xFFFFFFFF, in this order.
    let x = p + 46 + nameLen;
    const xEnd = x + extraLen;
    while (x + 4 <= xEnd) {
      const id = v.getUint16(x, true);
      const len = v.getUint16(x + 2, true);
      if (id === 0x0001) {
        let q = x + 4;
        if (usize === 0xffffffff) { usize = u64(v, q); q += 8; }
        if (compressedSize === 0xffffffff) { compressedSize = u64(v, q); q += 8; }
        if (localHeaderOffset === 0xffffffff) localHeaderOffset = u64(v, q);
      }
      x += 4 + len;
    }
    if (localHeaderOffset + 30 + compressedSize > size) throw notZip(`entry '${name}' runs past the end of the file; the file is truncated`);
    entries.set(name, { name, method, compressedSize, size: usize, crc32: crc, localHeaderOffset });
    p += 46 + nameLen + extraLen + commentLen;
  }
  return entries;
}

/** Bytes for one STORED entry. */
export interface ZipInput {
  name: string;
  data: Uint8Array;
}

/** Data start alignment, as PyTorch's writer uses (lets torch mmap storages). */
const ALIGN = 64;

/**
 * Writes a zip archive of STORED entries atomically, each entry's data aligned to 64 bytes.
 * Archives above 4 GiB (which would need ZIP64) are refused.
 */
export function writeZipStored(path: string, inputs: readonly ZipInput[]): void {
  const enc = new TextEncoder();
  const central: Uint8Array[] = [];
  writeFileAtomic(path, (fd) => {
    let offset = 0;
    const put = (b: Uint8Array): void => {
      writeAll(fd, b);
      offset += b.byteLength;
    };
    for (const { name, data } of inputs) {
      const nameBytes = enc.encode(name);
      const crc = crc32(data) >>> 0;
      const headerEnd = offset + 30 + nameBytes.byteLength + 4;
      const pad = (ALIGN - (headerEnd % ALIGN)) % ALIGN;
      const extra = new Uint8Array(4 + pad);
      const ev = new DataView(extra.buffer);
      ev.setUint16(0, 0x4246, true); // 'FB', PyTorch's padding extra field
      ev.setUint16(2, pad, true);
      extra.fill(0x5a, 4); // 'Z', as torch pads
      if (offset + 30 + nameBytes.byteLength + extra.byteLength + data.byteLength > 0xfffffff0) throw new FormatError(path, 'archive above 4 GiB needs ZIP64, which this writer does not produce');
      const local = new Uint8Array(30);
      const lv = new DataView(local.buffer);
      lv.setUint32(0, SIG_LOCAL, true);
      lv.setUint16(4, 20, true);
      lv.setUint16(8, 0, true);
      lv.setUint32(14, crc, true);
      lv.setUint32(18, data.byteLength, true);
      lv.setUint32(22, data.byteLength, true);
      lv.setUint16(26, nameBytes.byteLength, true);
      lv.setUint16(28, extra.byteLength, true);
      const localOffset = offset;
      put(local);
      put(nameBytes);
      put(extra);
      put(data);
      const c = new Uint8Array(46 + nameBytes.byteLength);
      const cv = new DataView(c.buffer);
      cv.setUint32(0, SIG_CENTRAL, true);
      cv.setUint16(4, 20, true);
      cv.setUint16(6, 20, true);
      cv.setUint32(16, crc, true);
      cv.setUint32(20, data.byteLength, true);
      cv.setUint32(24, data.byteLength, true);
      cv.setUint16(28, nameBytes.byteLength, true);
      cv.setUint32(42, localOffset, true);
      c.set(nameBytes, 46);
      central.push(c);
    }
    const cdOffset = offset;
    for (const c of central) put(c);
    const end = new Uint8Array(22);
    const dv = new DataView(end.buffer);
    dv.setUint32(0, SIG_EOCD, true);
    dv.setUint16(8, central.length, true);
    dv.setUint16(10, central.length, true);
    dv.setUint32(12, offset - cdOffset, true);
    dv.setUint32(16, cdOffset, true);
    put(end);
  });
}
