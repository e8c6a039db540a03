/**
 * Buffered sequential writes and positional reads of raw typed arrays, for the temporary files of a
 * streaming build.
 * @module
 */
import { closeSync, openSync, readSync, writeSync } from 'node:fs';
import type { SectionArray } from './format.ts';

/** Appends typed arrays to a file through a fixed buffer. */
export class RawWriter {
  readonly path: string;
  readonly #fd: number;
  readonly #buf: Uint8Array;
  #fill = 0;
  /** Bytes written so far (flushed or not). */
  bytes = 0;

  constructor(path: string, bufferBytes = 1 << 22) {
    this.path = path;
    this.#fd = openSync(path, 'w');
    this.#buf = new Uint8Array(bufferBytes);
  }

  append(a: SectionArray, start = 0, end = a.length): void {
    const bpe = a.BYTES_PER_ELEMENT;
    const src = new Uint8Array(a.buffer, a.byteOffset + start * bpe, (end - start) * bpe);
    this.bytes += src.length;
    if (src.length > this.#buf.length - this.#fill) {
      this.flush();
      if (src.length > this.#buf.length) {
        let off = 0;
        while (off < src.length) off += writeSync(this.#fd, src, off, src.length - off);
        return;
      }
    }
    this.#buf.set(src, this.#fill);
    this.#fill += src.length;
  }

  flush(): void {
    let off = 0;
    while (off < this.#fill) off += writeSync(this.#fd, this.#buf, off, this.#fill - off);
    this.#fill = 0;
  }

  close(): void {
    this.flush();
    closeSync(this.#fd);
  }
}

/** Reads consecutive bytes of a file from a starting position through a fixed buffer. */
export class RawReader {
  readonly #fd: number;
  readonly #buf: Uint8Array;
  #bufStart = 0;
  #bufEnd = 0;
  #pos: number;

  constructor(fd: number, position: number, bufferBytes = 1 << 20) {
    this.#fd = fd;
    this.#pos = position;
    this.#buf = new Uint8Array(bufferBytes);
  }

  /** Reads exactly `into.byteLength` bytes into `into`. */
  read(into: Uint8Array): void {
    let done = 0;
    while (done < into.length) {
      if (this.#bufStart === this.#bufEnd) {
        const n = readSync(this.#fd, this.#buf, 0, this.#buf.length, this.#pos);
        if (n === 0) throw new Error('lion index: unexpected end of a temporary build file');
        this.#pos += n;
        this.#bufStart = 0;
        this.#bufEnd = n;
      }
      const take = Math.min(into.length - done, this.#bufEnd - this.#bufStart);
      into.set(this.#buf.subarray(this.#bufStart, this.#bufStart + take), done);
      this.#bufStart += take;
      done += take;
    }
  }
}

/** Copies a whole file through `sink` in chunks, viewing the bytes as `Ctor` elements. */
export function streamFile<T extends SectionArray>(
  path: string,
  Ctor: { new (buffer: ArrayBuffer, byteOffset: number, length: number): T; BYTES_PER_ELEMENT: number },
  sink: (chunk: T) => void,
  chunkBytes = 1 << 24,
): void {
  const fd = openSync(path, 'r');
  try {
    const bpe = Ctor.BYTES_PER_ELEMENT;
    const size = chunkBytes - (chunkBytes % bpe);
    const buf = new ArrayBuffer(size);
    const bytes = new Uint8Array(buf);
    let pos = 0;
    for (;;) {
      let n = 0;
      while (n < size) {
        const r = readSync(fd, bytes, n, size - n, pos + n);
        if (r === 0) break;
        n += r;
      }
      if (n === 0) break;
      sink(new Ctor(buf, 0, Math.floor(n / bpe)));
      pos += n;
      if (n < size) break;
    }
  } finally {
    closeSync(fd);
  }
}

export { openSync, closeSync };
