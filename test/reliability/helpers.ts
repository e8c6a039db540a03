/**
 * The reliability matrix's harness: run the real `lion` command in a scratch folder (its working
 * directory, outside the checkout), and check the exit status, the message, and that no file outside
 * the outputs the case allows was created, changed or removed.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { appendFileSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { repoRoot, tmp } from '../index/helpers.ts';

export { repoRoot };
export const lionBin = join(repoRoot, 'bin/lion.js');

/** A fresh scratch folder outside the checkout, removed when the test file ends. */
export function scratch(prefix = 'lion-rel-'): string {
  return tmp(prefix);
}

export interface Result {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs `lion ARGS` with `cwd` as its working directory (default: a scratch folder). */
export function lion(args: string[], cwd: string, env: Record<string, string> = {}): Result {
  const r = spawnSync(process.execPath, [lionBin, ...args], {
    cwd,
    env: { ...process.env, COLUMNS: '100', ...env },
    encoding: 'utf8',
    maxBuffer: 1 << 28,
  });
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

/** Starts `lion ARGS` without waiting (to kill it mid-way). */
export function lionAsync(args: string[], cwd: string) {
  return spawn(process.execPath, [lionBin, ...args], { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** Path -> sha256 of every file under `dir` (and "dir" for folders), hidden files included. */
export function snapshot(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string): void => {
    for (const n of readdirSync(d)) {
      const p = join(d, n);
      const rel = relative(dir, p);
      if (statSync(p).isDirectory()) {
        out.set(rel, 'dir');
        walk(p);
      } else out.set(rel, createHash('sha256').update(readFileSync(p)).digest('hex'));
    }
  };
  walk(dir);
  return out;
}

/**
 * Asserts that, apart from paths under `allowed` (relative to `dir`), the folder holds exactly the
 * files it held in `before`, with the same contents.
 */
export function assertUnchanged(dir: string, before: Map<string, string>, allowed: string[] = []): void {
  const now = snapshot(dir);
  const free = (p: string): boolean => allowed.some((a) => p === a || p.startsWith(`${a}/`));
  const changed: string[] = [];
  for (const [p, h] of before) if (!free(p) && now.get(p) !== h) changed.push(`${p} ${now.has(p) ? 'changed' : 'removed'}`);
  for (const p of now.keys()) if (!free(p) && !before.has(p)) changed.push(`${p} created`);
  assert.deepEqual(changed, [], `files outside ${JSON.stringify(allowed)} changed`);
}

/**
 * One case of the matrix: runs `args` in `dir`, expects exit status `code` and (when given) a
 * message on stderr in Lion's form matching `message`, and that nothing but `allowed` changed.
 */
export function expectCase(
  dir: string,
  args: string[],
  o: { code: number; message?: RegExp; allowed?: string[]; env?: Record<string, string> },
): Result {
  const before = snapshot(dir);
  const r = lion(args, dir, o.env);
  // LION_MATRIX_LOG=FILE lists every case run (for the counts in docs/reliability.md).
  if (process.env.LION_MATRIX_LOG) appendFileSync(process.env.LION_MATRIX_LOG, `${o.code}\t${args.join(' ')}\n`);
  assert.equal(r.code, o.code, `exit status of 'lion ${args.join(' ')}'\n${r.stderr}`);
  if (o.message) {
    assert.match(r.stderr, o.message);
    if (o.code !== 0) assert.match(r.stderr, /^lion( [a-z0-9-]+)?: .+/m, 'the message is in the lion <cmd>: … form');
    assert.doesNotMatch(r.stderr, /\n\s+at .+:\d+:\d+\)?\n/, 'no stack trace');
  }
  assertUnchanged(dir, before, o.allowed ?? []);
  return r;
}

/** Sparse vectors as `lion encode` writes them: `n` lines `{"id","indices","values"}`. */
export function sparseLines(prefix: string, n: number, nnz: number, seed = 1, vocab = 5000): string {
  let s = seed >>> 0;
  const rnd = (): number => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    const ids = new Set<number>();
    while (ids.size < nnz) ids.add(Math.floor(rnd() * vocab));
    const indices = [...ids].sort((a, b) => a - b);
    lines.push(JSON.stringify({ id: `${prefix}${i}`, indices, values: indices.map(() => Number((0.05 + rnd()).toFixed(4))) }));
  }
  return lines.join('\n') + '\n';
}

export function write(dir: string, name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}
