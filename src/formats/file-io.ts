/**
 * Positioned reads and atomic writes shared by the format readers and writers.
 * @module
 */
import { closeSync, fsyncSync, openSync, readSync, renameSync, rmSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { FormatError } from './errors.ts';

/** readSync moves at most ~2 GiB per call; larger tensors are read in pieces. */
const MAX_CHUNK = 1 << 30;

/**
 * Reads exactly `length` bytes at `position` into a fresh buffer (byteOffset 0 of its own
 * ArrayBuffer, so typed-array views of any element size line up). A short read means the file is
 * shorter than its header claims, reported as truncation.
 */
export function readAt(fd: number, position: number, length: number, file: string, what: string): Uint8Array {
  const out = new Uint8Array(length);
  let done = 0;
  while (done < length) {
    const n = readSync(fd, out, done, Math.min(MAX_CHUNK, length - done), position + done);
    if (n === 0) throw new FormatError(file, `file is truncated: ${what} needs bytes [${position}, ${position + length}) but the file ends at ${position + done}`, { hint: 'the download or copy was cut short; fetch the file again' });
    done += n;
  }
  return out;
}

/** Opens a file for reading with an error that names it. */
export function openForRead(file: string): number {
  try {
    return openSync(file, 'r');
  } catch (e) {
    throw new FormatError(file, `cannot open: ${(e as Error).message}`, { cause: e });
  }
}

/** Runs `fn` with the file open for reading, closing it afterwards. */
export function withFile<T>(file: string, fn: (fd: number) => T): T {
  const fd = openForRead(file);
  try {
    return fn(fd);
  } finally {
    closeSync(fd);
  }
}

/** Writes all of `data` at the current position. */
export function writeAll(fd: number, data: Uint8Array): void {
  let done = 0;
  while (done < data.byteLength) done += writeSync(fd, data, done, Math.min(MAX_CHUNK, data.byteLength - done));
}

/**
 * Writes a file atomically: `fn` writes into a temp file beside `path`, which is fsynced and renamed
 * over `path`; on failure the temp file is removed and `path` is untouched.
 */
export function writeFileAtomic(path: string, fn: (fd: number) => void): void {
  const tmp = `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  const fd = openSync(tmp, 'w');
  try {
    fn(fd);
    fsyncSync(fd);
    closeSync(fd);
  } catch (e) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw e;
  }
  try {
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

/** Writes a whole buffer or string atomically. */
export function writeBytesAtomic(path: string, data: Uint8Array | string): void {
  writeFileAtomic(path, (fd) => writeAll(fd, typeof data === 'string' ? new TextEncoder().encode(data) : data));
}

/** Writes a value as JSON (one-space indent) atomically. */
export function writeJsonAtomic(path: string, value: unknown): void {
  writeBytesAtomic(path, JSON.stringify(value, null, 1));
}
