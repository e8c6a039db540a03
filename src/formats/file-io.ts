/**
 * Positioned reads and atomic writes shared by the format readers and writers.
 * @module
 */
import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { FormatError } from './errors.ts';

/** readSync moves at most ~2 GiB per call; larger tensors are read in pieces. */
const MAX_CHUNK = 1 << 30;

/**
 * Reads exactly `length` bytes at `position` into a fresh buffer (byteOffset 0 of its own
 * ArrayBuffer, so typed-array views of any element size line up), or into the start of `into` when
 * given (a scratch buffer reused across reads; it must hold `length` bytes). A short read means the
 * file is shorter than its header claims, reported as truncation.
 */
export function readAt(fd: number, position: number, length: number, file: string, what: string, into?: Uint8Array): Uint8Array {
  if (into && into.byteLength < length) throw new Error(`readAt: scratch buffer of ${into.byteLength} bytes cannot hold ${length}`);
  const out = into ? into.subarray(0, length) : new Uint8Array(length);
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
  sweepStaleTemps(path);
  const tmp = tempPath(path);
  // Tracked before it exists: a signal between the two would otherwise find no handler and leave it.
  const untrack = trackTemp(tmp);
  const fd = openSync(tmp, 'w');
  try {
    fn(fd);
    fsyncSync(fd);
    closeSync(fd);
  } catch (e) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    untrack();
    throw e;
  }
  try {
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  } finally {
    untrack();
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

// ---- temporary outputs: one naming rule, removal on SIGINT/SIGTERM, sweeping after a kill -9 ----

/**
 * The temporary sibling of `path` that a write goes to before its rename: `.NAME.tmp-PID-RANDOM`. The
 * writer's process id is in the name so that a later run can tell a dead writer's leftover from a
 * write in progress in another process.
 */
export function tempPath(path: string, kind = 'tmp'): string {
  return join(dirname(path), `.${basename(path)}.${kind}-${process.pid}-${randomBytes(4).toString('hex')}`);
}

function alive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes the leftovers of `path`'s writers that died without cleaning up (kill -9, power loss):
 * siblings named by tempPath whose process no longer runs. Returns the paths removed.
 */
export function sweepStaleTemps(path: string): string[] {
  return sweep(dirname(resolve(path)), basename(path));
}

/** sweepStaleTemps for every output in `dir` (e.g. checkpoint folders of any step). */
export function sweepStaleTempsIn(dir: string): string[] {
  return sweep(resolve(dir));
}

function sweep(dir: string, only?: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const n of names) {
    const m = /^\.(.+)\.(tmp|old)-(\d+)-[0-9a-f]{8}$/.exec(n);
    if (!m || (only !== undefined && m[1] !== only) || alive(Number(m[3]))) continue;
    const target = join(dir, m[1]!);
    // An `old` folder is the previous output moved aside just before the new one took its place: if
    // the writer died between the two renames, it is put back rather than removed.
    if (m[2] === 'old' && !existsSync(target)) renameSync(join(dir, n), target);
    else rmSync(join(dir, n), { recursive: true, force: true });
    removed.push(join(dir, n));
  }
  return removed;
}

const temps = new Set<string>();
let handlersInstalled = false;

function removeTemps(): void {
  for (const t of temps) rmSync(t, { recursive: true, force: true });
  temps.clear();
}

function onSignal(signal: NodeJS.Signals): void {
  removeTemps();
  // Die of the same signal, so the shell and parents see what happened (exit 130 / 143), unless
  // someone else handles it (a server shutting down gracefully): then it is theirs to act on.
  process.removeListener('SIGINT', onSignal);
  process.removeListener('SIGTERM', onSignal);
  handlersInstalled = false;
  if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
}

/**
 * Registers a temporary file or folder for removal if the process is interrupted (SIGINT, SIGTERM)
 * or exits before the write completes; returns the function that unregisters it.
 */
export function trackTemp(path: string): () => void {
  if (!handlersInstalled) {
    handlersInstalled = true;
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    process.on('exit', removeTemps);
  }
  temps.add(path);
  return () => void temps.delete(path);
}

/** Whether `a` is `b` or a folder above it. */
function isSameOrAncestor(a: string, b: string): boolean {
  const r = relative(a, b);
  return !(r === '..' || r.startsWith(`..${sep}`) || isAbsolute(r));
}

function real(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return resolve(p);
  }
}

export interface OutputDirOptions {
  /** Replace an existing output, but only one that `isOurs` recognises. */
  overwrite?: boolean;
  /** Whether an existing folder is a previous output of this kind (e.g. holds a Lion manifest). */
  isOurs?: (dir: string) => boolean;
  /** What the output is, for messages ("index", "model folder"). */
  what?: string;
  /** Input paths the output must not contain or replace. */
  inputs?: readonly (string | undefined)[];
  /** The command, for messages. */
  cmd?: string;
}

/**
 * Checks that writing a folder at `dir` can destroy nothing Lion did not write: it must not be the
 * current folder or one above it, nor contain an input; an existing file is refused, as is an
 * existing folder that is not empty and not a previous output of this kind (and that one only with
 * `overwrite`). Throws a `lion <cmd>: …; hint: …` error; returns whether `dir` exists.
 */
export function checkOutputDir(dir: string, o: OutputDirOptions = {}): boolean {
  const who = `lion ${o.cmd ?? 'write'}`;
  const what = o.what ?? 'output';
  const target = real(dir);
  if (isSameOrAncestor(target, real(process.cwd())))
    throw new Error(`${who}: --output '${dir}' is the current folder or a folder above it; hint: name a new folder, e.g. --output out/${what.replace(/\W+/g, '-')}`);
  for (const input of o.inputs ?? []) {
    if (input && isSameOrAncestor(target, real(input)))
      throw new Error(`${who}: --output '${dir}' would replace the input '${input}'; hint: write the ${what} to a new folder`);
  }
  if (!existsSync(target)) return false;
  if (!statSync(target).isDirectory())
    throw new Error(`${who}: --output '${dir}' is an existing file, not a folder; hint: Lion does not replace files it did not write; choose a new folder name`);
  if (readdirSync(target).length === 0) return true;
  const ours = o.isOurs?.(target) ?? false;
  if (!ours)
    throw new Error(`${who}: --output '${dir}' is a folder that is not empty and does not hold a Lion ${what}; hint: Lion never deletes what it did not write; choose a new folder`);
  if (!o.overwrite)
    throw new Error(`${who}: --output '${dir}' already holds a Lion ${what}; hint: pass --overwrite to replace it, or choose a new folder`);
  return true;
}

/**
 * Builds a folder atomically: `fill` writes into a fresh temporary sibling folder, which then replaces
 * `dir` by rename. A crash leaves either the old folder or the new one, never half of one; the
 * temporary folder is removed on failure, on SIGINT/SIGTERM, and (after a kill -9) by the next run.
 * `checkOutputDir`'s rules decide whether an existing `dir` may be replaced.
 */
export async function withAtomicDir<T>(dir: string, fill: (tmp: string) => Promise<T>, o: OutputDirOptions = {}): Promise<T> {
  const target = resolve(dir);
  checkOutputDir(dir, o);
  mkdirSync(dirname(target), { recursive: true });
  // Leftovers of any output beside this one whose writer was killed (kill -9, power loss).
  sweepStaleTempsIn(dirname(target));
  const tmp = tempPath(target);
  const untrack = trackTemp(tmp);
  mkdirSync(tmp);
  let result: T;
  try {
    result = await fill(tmp);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    untrack();
    throw e;
  }
  // Checked again: another process may have written `dir` while this one filled the temp folder.
  try {
    checkOutputDir(dir, o);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    untrack();
    throw e;
  }
  replaceDir(tmp, target);
  untrack();
  return result;
}

/**
 * Puts the complete folder `tmp` in place of `target` by rename (an existing `target` is moved aside
 * first, then removed), so a reader sees the old folder or the new one, never half of one.
 */
export function replaceDir(tmp: string, target: string): void {
  if (existsSync(target)) {
    // Not tracked for removal on a signal: until the second rename it is the only copy of the old output.
    const old = tempPath(target, 'old');
    renameSync(target, old);
    renameSync(tmp, target);
    rmSync(old, { recursive: true, force: true });
  } else {
    renameSync(tmp, target);
  }
}
