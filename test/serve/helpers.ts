/**
 * Helpers for the server tests: `lion serve` as a child process (so signals and exit codes are real),
 * JSON requests, and TREC run parsing.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { dataRoot, repoRoot } from '../index/helpers.ts';

export const lion = join(repoRoot, 'bin/lion.js');

export interface Served {
  url: string;
  proc: ChildProcess;
  /** Everything the server wrote to stderr so far. */
  stderr: () => string;
  /** Resolves with the exit code once the process has exited. */
  exited: Promise<number | null>;
  /** Sends SIGTERM and waits for the exit code. */
  stop: () => Promise<number | null>;
}

/** Starts `lion serve ARGS --port 0` and waits for its "listening on URL" line. */
export async function serve(args: string[], timeoutMs = 120_000): Promise<Served> {
  const proc = spawn(process.execPath, [lion, 'serve', ...args, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  proc.stdout!.resume();
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`lion serve did not start in ${timeoutMs} ms:\n${err}`)), timeoutMs);
    proc.stderr!.on('data', () => {
      const m = /listening on (http:\/\/\S+)/.exec(err);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`lion serve exited (${code}) before listening:\n${err}`));
    });
  });
  return {
    url,
    proc,
    stderr: () => err,
    exited,
    stop: async () => {
      if (proc.exitCode === null) proc.kill('SIGTERM');
      return exited;
    },
  };
}

export interface Reply<T = Record<string, unknown>> {
  status: number;
  body: T;
}

/** POSTs `body` (an object, or a raw string sent as it is) and parses the JSON answer. */
export async function post<T = Record<string, unknown>>(url: string, body: unknown): Promise<Reply<T>> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as T };
}

/** A TREC run file as qid → [{docId, score}] in rank order. */
export function readRun(file: string): Map<string, { docId: string; score: number }[]> {
  const run = new Map<string, { docId: string; score: number }[]>();
  for (const line of readFileSync(file, 'utf8').trim().split('\n')) {
    const [qid, , docId, , score] = line.split(' ');
    if (!run.has(qid!)) run.set(qid!, []);
    run.get(qid!)!.push({ docId: docId!, score: Number(score) });
  }
  return run;
}

export interface SearchReply {
  hits: { id: string; score: number; text?: string; match?: { score: number; terms: TermRow[] } }[];
  took_ms: number;
  index: string;
  query_terms?: { id: number; token: string; weight: number }[];
  truncated?: boolean;
  warning?: string;
}

export interface TermRow {
  id: number;
  token: string;
  query_weight: number;
  doc_weight: number;
  contribution: number;
}

/**
 * Asserts two rankings agree up to float noise: scores equal within `tol` (relative) position by
 * position, and ids equal wherever the score is not a near-tie with a neighbour (within `tol`), where
 * another CPU's rounding may legitimately swap two documents. `want` may run one hit deeper than `got`
 * (its k + 1), so a near-tie across the cut is seen too.
 */
export function sameRanking(
  got: readonly { id: string; score: number }[],
  want: readonly { id: string; score: number }[],
  tol: number,
  what: string,
): void {
  if (got.length > want.length) throw new Error(`${what}: ${got.length} hits, the reference has only ${want.length}`);
  const close = (a: number, b: number): boolean => Math.abs(a - b) <= tol * Math.max(1, Math.abs(a), Math.abs(b));
  want.slice(0, got.length).forEach((w, i) => {
    if (!close(got[i]!.score, w.score)) throw new Error(`${what}: hit ${i + 1} score ${got[i]!.score}, expected ${w.score}`);
    const tie = (i > 0 && close(want[i - 1]!.score, w.score)) || (i + 1 < want.length && close(want[i + 1]!.score, w.score));
    if (!tie && got[i]!.id !== w.id) throw new Error(`${what}: hit ${i + 1} is '${got[i]!.id}', expected '${w.id}'`);
  });
}

/** Runs `lion ARGS` to completion (rejects with its stderr on a non-zero exit). */
export async function lionRun(args: string[]): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const p = spawn(process.execPath, [lion, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`lion ${args.join(' ')} exited ${code}:\n${err}`))));
  });
}

export interface TinySetup {
  model: string;
  corpus: string;
  queries: string;
  sparse: string;
  dense?: string;
}

/**
 * A tiny model (BPE tokenizer of 600 entries trained on the texts, 2 layers, d 32) and its indexes over
 * the first `docs` SciFact documents, plus the first `queries` SciFact queries as a JSONL file of
 * BEIR lines (`_id`, `text`), which both `lion search --queries` and `lion encode` read.
 */
export async function tinySetup(dir: string, o: { docs: number; queries: number; dense: boolean }): Promise<TinySetup> {
  const scifact = join(dataRoot, 'beir/scifact');
  const firstLines = (file: string, n: number): string[] => readFileSync(file, 'utf8').split('\n').filter((l) => l.trim()).slice(0, n);
  const corpus = join(dir, 'corpus.jsonl');
  writeFileSync(corpus, firstLines(join(scifact, 'corpus.jsonl'), o.docs).join('\n') + '\n');
  const queries = join(dir, 'queries.jsonl');
  writeFileSync(
    queries,
    firstLines(join(scifact, 'queries.jsonl'), o.queries)
      .map((l) => {
        const q = JSON.parse(l) as { _id: string; text: string };
        return JSON.stringify({ _id: q._id, text: q.text });
      })
      .join('\n') + '\n',
  );
  const tok = join(dir, 'tok');
  const model = join(dir, 'model');
  await lionRun(['train-tokenizer', '--corpus', corpus, '--vocab-size', '600', '--output', tok]);
  await lionRun(['make-model', '--output', model, '--tokenizer', join(tok, 'tokenizer.json'), '--hidden', '32', '--layers', '2', '--heads', '4', '--intermediate', '64', '--seed', '3']);
  const sparse = join(dir, 'sparse');
  const dense = join(dir, 'dense');
  await Promise.all([
    lionRun(['index', '--model', model, '--paradigm', 'sparse', '--corpus', corpus, '--output', sparse]),
    o.dense ? lionRun(['index', '--model', model, '--paradigm', 'dense', '--corpus', corpus, '--output', dense]) : null,
  ]);
  return { model, corpus, queries, sparse, ...(o.dense ? { dense } : {}) };
}
