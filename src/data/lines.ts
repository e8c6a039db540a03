/**
 * Streaming line readers and atomic writers: files of any size are read a line at a time, `.gz`
 * transparently, and written to a temp file that is renamed into place only when complete.
 * @module
 */
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { createInterface } from 'node:readline';
import { createGunzip, createGzip } from 'node:zlib';
import { once } from 'node:events';
import type { Readable, Writable } from 'node:stream';
import { sweepStaleTemps, tempPath, trackTemp } from '../formats/file-io.ts';

/** The output name meaning standard output (`--output -`). */
export const STDOUT = '-';

/** Writes chunks to standard output, waiting when its buffer is full (a pipe to `head` may close early). */
export async function writeStdout(chunks: Iterable<string> | AsyncIterable<string>): Promise<void> {
  for await (const c of chunks) if (!process.stdout.write(c)) await once(process.stdout, 'drain');
}

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
  try {
    for await (const line of rl) {
      lineNo++;
      yield { text: lineNo === 1 && line.charCodeAt(0) === 0xfeff ? line.slice(1) : line, lineNo };
    }
  } catch (e) {
    throw inputError(path, lineNo, e);
  }
}

/** zlib's codes for damaged or cut-short compressed data. */
const GZIP_ERRORS = new Set(['Z_DATA_ERROR', 'Z_BUF_ERROR', 'Z_STREAM_ERROR', 'ERR_PADDING_1', 'Z_NEED_DICT']);

/** A read failure as a message naming the file (zlib's own, e.g. "unexpected end of file", does not). */
function inputError(path: string, lineNo: number, e: unknown): Error {
  const err = e as NodeJS.ErrnoException;
  if (err.code && GZIP_ERRORS.has(err.code))
    return new Error(
      `lion: '${path}' is not valid gzip (${err.message}${lineNo ? ` after line ${lineNo}` : ''}): the file is damaged, cut short, or not gzip-compressed; hint: fetch or copy it again, or drop the .gz suffix if it is plain text`,
      { cause: e },
    );
  // A read of a folder (EISDIR) and similar failures carry no path: name the file for the message.
  if (err instanceof Error && err.code && err.path === undefined) {
    err.path = path;
    err.syscall ??= 'read';
  }
  return err instanceof Error ? err : new Error(String(e));
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
  private readonly untrack: () => void;
  private constructor(path: string) {
    this.path = path;
    sweepStaleTemps(path);
    this.tmp = tempPath(path);
    this.untrack = trackTemp(this.tmp);
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
    this.untrack();
  }

  async abort(): Promise<void> {
    this.sink.destroy();
    this.file.destroy();
    await rm(this.tmp, { force: true });
    this.untrack();
  }
}

/** A text sink: an AtomicTextWriter, or standard output for `-`. */
export interface TextOutput {
  write(chunk: string): Promise<void>;
  close(): Promise<void>;
  abort(): Promise<void>;
}

/** Opens `path` for writing atomically, or standard output when `path` is `-`. */
export async function openTextOutput(path: string): Promise<TextOutput> {
  if (path !== STDOUT) return AtomicTextWriter.open(path);
  return {
    write: (chunk) => writeStdout([chunk]),
    close: async () => {},
    abort: async () => {},
  };
}

/** Writes every string of `chunks` to `path` atomically (or to standard output for `-`). */
export async function writeTextAtomic(path: string, chunks: Iterable<string> | AsyncIterable<string>): Promise<void> {
  if (path === STDOUT) return writeStdout(chunks);
  const w = await AtomicTextWriter.open(path);
  try {
    for await (const c of chunks) await w.write(c);
  } catch (e) {
    await w.abort();
    throw e;
  }
  await w.close();
}
