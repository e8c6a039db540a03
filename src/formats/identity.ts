/**
 * Identities of inputs, for refusing a resume whose inputs changed: cheap enough to compute on every
 * run (size plus a hash of the head and tail of each file, the whole file when small) and sensitive
 * to the edits that matter in practice (a replaced, appended, truncated or regenerated file).
 * @module
 */
import { closeSync, existsSync, openSync, readdirSync, readSync, statSync } from 'node:fs';
import { createHash, type Hash } from 'node:crypto';
import { join } from 'node:path';

/** Bytes hashed at each end of a file; files up to twice this are hashed whole. */
const END = 1 << 20;

function hashRange(h: Hash, fd: number, position: number, length: number): void {
  const buf = Buffer.allocUnsafe(Math.min(length, END));
  let done = 0;
  while (done < length) {
    const n = readSync(fd, buf, 0, Math.min(buf.length, length - done), position + done);
    if (n === 0) break;
    h.update(buf.subarray(0, n));
    done += n;
  }
}

/** `size:sha256(head+tail)` of one file (sha256 of the whole file when it is at most 2 MiB). */
export function fileIdentity(file: string): string {
  const size = statSync(file).size;
  const h = createHash('sha256');
  const fd = openSync(file, 'r');
  try {
    if (size <= 2 * END) hashRange(h, fd, 0, size);
    else {
      hashRange(h, fd, 0, END);
      hashRange(h, fd, size - END, END);
    }
  } finally {
    closeSync(fd);
  }
  return `${size}:${h.digest('hex').slice(0, 32)}`;
}

/**
 * The identity of a file, or of a folder's files (top level, by name, hidden files skipped: a model
 * folder's config, weights and tokenizer). A path that does not exist (a dataset id) is itself.
 */
export function pathIdentity(p: string): string {
  if (!existsSync(p)) return `id:${p}`;
  if (!statSync(p).isDirectory()) return fileIdentity(p);
  const h = createHash('sha256');
  for (const name of readdirSync(p).sort()) {
    if (name.startsWith('.')) continue;
    const f = join(p, name);
    if (statSync(f).isFile()) h.update(`${name}=${fileIdentity(f)}\n`);
  }
  return `dir:${h.digest('hex').slice(0, 32)}`;
}

/** A content hash of texts (and their ids): the identity of a corpus already in memory. */
export function textsIdentity(texts: Iterable<string> | ReadonlyMap<string, string>): string {
  const h = createHash('sha256');
  let n = 0;
  const items: Iterable<unknown> = texts instanceof Map ? texts.entries() : (texts as Iterable<string>);
  for (const t of items) {
    if (Array.isArray(t)) h.update(`${String(t[0])}\u0000${String(t[1])}\u0000`);
    else h.update(`${String(t)}\u0000`);
    n++;
  }
  return `${n} texts:${h.digest('hex').slice(0, 32)}`;
}

/** sha256 (hex) of a whole file, read in 1 MiB pieces. */
export function fileSha256(file: string): string {
  const h = createHash('sha256');
  const fd = openSync(file, 'r');
  try {
    hashRange(h, fd, 0, statSync(file).size);
  } finally {
    closeSync(fd);
  }
  return h.digest('hex');
}
