/**
 * Streaming line readers and atomic writers: files of any size are read a line at a time, `.gz`
 * transparently, and written to a temp file that is renamed into place only when complete.
 * @module
 */
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { dirname, basename, join } from 'node:path';
import { createInterface } from 'node:readline';
import { createGunzip, createGzip } from 'node:zlib';
import { once } from 'node:events';
import type { Readable, Writable } from 'node:stream';

/** One line of a file with its 1-based number (for file:line errors). */
export interface NumberedLine {
  text: string;
  lineNo: number;
}

/** A readable byte stream of `path`, gunzipped when the name ends in `.gz`. */
export function openInput(path: string): Readable {
  const raw = createReadStream(path, { highWaterMark: 1 << 18 });
  if (!path.endsWith('.gz')) return raw;
  const gunzip = createGunzip();
  raw.on('error', (e) => gunzip.destroy(e));
  return raw.pipe(gunzip);
}

/**
 * Yields every line of `path` (UTF-8, `\n` or `\r\n` endings, a leading BOM dropped) with its number.
 * Memory stays bounded by the longest line.
 */
export async function* readLines(path: string): AsyncGenerator<NumberedLine> {
  const rl = createInterface({ input: openInput(path), crlfDelay: Infinity });
  let lineNo = 0;
  for await (const line of rl) {
    lineNo++;
    yield { text: lineNo === 1 && line.charCodeAt(0) === 0xfeff ? line.slice(1) : line, lineNo };
  }
}

/**
 * A text sink that writes to a temp file beside `path` and renames it into place on `close()`,
 * so readers never see a half-written file. `.gz` paths are gzipped. Call `abort()` on failure.
 */
export class AtomicTextWriter {
  readonly path: string;
  private readonly tmp: string;
  private readonly file: WriteStream;
  private readonly sink: Writable;
  private constructor(path: string) {
    this.path = path;
    this.tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
    this.file = createWriteStream(this.tmp);
    if (path.endsWith('.gz')) {
      const gz = createGzip();
      gz.pipe(this.file);
      this.sink = gz;
    } else {
      this.sink = this.file;
    }
  }

  static async open(path: string): Promise<AtomicTextWriter> {
    await mkdir(dirname(path), { recursive: true });
    return new AtomicTextWriter(path);
  }

  /** Writes a chunk, waiting when the stream's buffer is full (so memory stays bounded). */
  async write(chunk: string): Promise<void> {
    if (!this.sink.write(chunk)) await once(this.sink, 'drain');
  }

  async close(): Promise<void> {
    this.sink.end();
    await once(this.file, 'close');
    await rename(this.tmp, this.path);
  }

  async abort(): Promise<void> {
    this.sink.destroy();
    this.file.destroy();
    await rm(this.tmp, { force: true });
  }
}

/** Writes every string of `chunks` to `path` atomically. */
export async function writeTextAtomic(path: string, chunks: Iterable<string> | AsyncIterable<string>): Promise<void> {
  const w = await AtomicTextWriter.open(path);
  try {
    for await (const c of chunks) await w.write(c);
  } catch (e) {
    await w.abort();
    throw e;
  }
  await w.close();
}
