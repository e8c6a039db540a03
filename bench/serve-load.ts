/**
 * Load on `lion serve` over the SciFact corpus (5,183 documents) with a nano model (nano-S: d 64,
 * 2 layers, 2 heads, SwiGLU 192, a 4,096-id BPE trained on SciFact): autocannon on 127.0.0.1, a fixed
 * number of requests per phase (bounded by a time limit), cycling through the SciFact test queries.
 *
 *   text     POST /v1/search {"query"} to a server with --model: encode (batched) + sparse search
 *   vectors  POST /v1/search {"vector"} to a server without a model: the search path alone
 *
 * Reports requests/s, p50 / p97.5 / p99 latency, errors and non-2xx (must be 0), and the server's RSS
 * after a 200-request warm-up and after the phase.
 *
 * Usage: node --import tsx bench/serve-load.ts [--requests 10000] [--connections 8] [--max-seconds 600]
 *        [--doc-top-k 128] [--phases text,vectors] [--work bench/out/serve]
 *        (writes bench/out/serve-load-<phases>.json; the model and indexes are cached in --work and reused)
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { SparseIndex } from '../src/index/sparse/index.ts';

const { values: o } = parseArgs({
  options: {
    requests: { type: 'string', default: '10000' },
    connections: { type: 'string', default: '8' },
    'max-seconds': { type: 'string', default: '600' },
    work: { type: 'string', default: 'bench/out/serve' },
    'doc-top-k': { type: 'string', default: '128' },
    phases: { type: 'string', default: 'text,vectors' },
  },
});
const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
const lion = join(root, 'bin/lion.js');
const scifact = resolve(root, '../shared/data/beir/scifact');
const work = resolve(o.work!);
mkdirSync(work, { recursive: true });
const run = (args: string[]): void => void execFileSync(process.execPath, [lion, ...args], { stdio: ['ignore', 'ignore', 'inherit'] });

// ---- the model and index (cached) ----------------------------------------------------------------
const tok = join(work, 'tok');
const model = join(work, 'nano-S');
const index = join(work, 'scifact-sparse');
const queries = join(work, 'queries.jsonl');
const qvecs = join(work, 'queries-sparse.jsonl');
const setup: Record<string, number> = {};
const timed = (name: string, f: () => void): void => {
  const t0 = performance.now();
  f();
  setup[name] = (performance.now() - t0) / 1000;
};
if (!existsSync(join(tok, 'tokenizer.json'))) timed('tokenizer', () => run(['train-tokenizer', '--corpus', join(scifact, 'corpus.jsonl'), '--vocab-size', '4096', '--output', tok]));
if (!existsSync(join(model, 'config.json')))
  timed('model', () => run(['make-model', '--output', model, '--tokenizer', join(tok, 'tokenizer.json'), '--hidden', '64', '--layers', '2', '--heads', '2', '--intermediate', '192', '--seed', '1']));
if (!existsSync(join(index, 'manifest.json')))
  timed('index', () => run(['index', '--model', model, '--paradigm', 'sparse', '--corpus', join(scifact, 'corpus.jsonl'), '--max-length', '128', '--output', index]));
// A randomly initialised sparse model gives every document nearly every term (4,096 per document),
// which no trained SPLADE-style model does; keep each document's `--doc-top-k` largest weights (as
// `lion encode --top-k` would), read back from the full index, so the search path has a realistic size.
const topK = Number(o['doc-top-k']);
const pruned = join(work, `scifact-sparse-top${topK}`);
if (!existsSync(join(pruned, 'manifest.json')))
  timed('prune', () => {
    const full = SparseIndex.load(index);
    const lines = [JSON.stringify({ _meta: { ...full.manifest.identity, paradigm: 'sparse', vocabSize: full.manifest.sparse!.vocabSize } })];
    for (let d = 0; d < full.size; d++) {
      const v = full.document(d);
      const keep = Array.from(v.indices.keys())
        .sort((a, b) => v.values[b]! - v.values[a]! || a - b)
        .slice(0, topK)
        .sort((a, b) => a - b);
      lines.push(JSON.stringify({ id: full.docIds[d], indices: keep.map((i) => v.indices[i]), values: keep.map((i) => v.values[i]) }));
    }
    writeFileSync(join(work, 'pruned.jsonl'), lines.join('\n') + '\n');
    run(['index', '--vectors', join(work, 'pruned.jsonl'), '--paradigm', 'sparse', '--tokenizer', join(tok, 'tokenizer.json'), '--output', pruned]);
  });
const testIds = new Set(readFileSync(join(scifact, 'qrels/test.tsv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split('\t')[0]!));
const texts = readFileSync(join(scifact, 'queries.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { _id: string; text: string }).filter((q) => testIds.has(q._id));
writeFileSync(queries, texts.map((q) => JSON.stringify({ id: q._id, text: q.text })).join('\n') + '\n');
if (!existsSync(qvecs)) timed('encode queries', () => run(['encode', '--model', model, '--paradigm', 'sparse', '--kind', 'query', '--input', queries, '--output', qvecs]));
const vectors = readFileSync(qvecs, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { indices: number[]; values: number[] });

// ---- one phase: a server, a warm-up, N requests ---------------------------------------------------
function rssMiB(pid: number): number {
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
}

async function phase(name: string, args: string[], bodies: string[]) {
  const proc = spawn(process.execPath, [lion, 'serve', ...args, '--port', '0'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  const url = await new Promise<string>((res, rej) => {
    proc.stderr.on('data', (d: Buffer) => {
      err += d.toString();
      const m = /listening on (http:\/\/\S+)/.exec(err);
      if (m) res(m[1]!);
    });
    proc.on('exit', (c) => rej(new Error(`lion serve exited ${c}:\n${err}`)));
  });
  const requests = bodies.map((body) => ({ method: 'POST' as const, path: '/v1/search', headers: { 'content-type': 'application/json' }, body }));
  const conns = Number(o.connections);
  await autocannon({ url, connections: conns, amount: 200, requests });
  const rssBefore = rssMiB(proc.pid!);
  const load0 = loadavg()[0]!;
  // autocannon ignores `duration` once `amount` is set, so the time bound is a timer of our own
  const r = await new Promise<autocannon.Result>((res, rej) => {
    const inst = autocannon({ url, connections: conns, amount: Number(o.requests), requests }, (e: Error | null, result) => {
      clearTimeout(limit);
      if (e) rej(e);
      else res(result);
    });
    const limit = setTimeout(() => inst.stop(), Number(o['max-seconds']) * 1000);
  });
  const rssAfter = rssMiB(proc.pid!);
  const metrics = await (await fetch(`${url}/metrics`)).text();
  const batch = (q: string) => {
    const sum = Number(new RegExp(`^lion_batch_size_sum\\{queue="${q}"\\} (\\S+)$`, 'm').exec(metrics)?.[1] ?? 0);
    const count = Number(new RegExp(`^lion_batch_size_count\\{queue="${q}"\\} (\\S+)$`, 'm').exec(metrics)?.[1] ?? 0);
    return count ? sum / count : null;
  };
  proc.kill('SIGTERM');
  const code = await new Promise<number | null>((res) => proc.on('exit', res));
  const out = {
    phase: name,
    requests: r.requests.total,
    seconds: r.duration,
    requestsPerSec: r.requests.total / r.duration,
    latencyMs: { p50: r.latency.p50, p97_5: r.latency.p97_5, p99: r.latency.p99, max: r.latency.max },
    errors: r.errors,
    timeouts: r.timeouts,
    non2xx: r.non2xx,
    rssMiB: { before: rssBefore, after: rssAfter },
    meanBatch: { encode: batch('encode:sparse:query'), search: batch('search:sparse') },
    load1: { start: load0, end: loadavg()[0]! },
    exitCode: code,
  };
  console.log(
    `${name.padEnd(8)} ${out.requests} req in ${out.seconds.toFixed(1)} s: ${out.requestsPerSec.toFixed(0)} req/s, p50 ${out.latencyMs.p50} ms, p99 ${out.latencyMs.p99} ms, errors ${out.errors}, non-2xx ${out.non2xx}, RSS ${rssBefore.toFixed(0)} -> ${rssAfter.toFixed(0)} MiB, mean batch encode ${out.meanBatch.encode?.toFixed(2) ?? '-'} search ${out.meanBatch.search?.toFixed(2) ?? '-'}, load ${load0.toFixed(1)} -> ${out.load1.end.toFixed(1)}, exit ${code}`,
  );
  return out;
}

const phases = [];
for (const name of o.phases!.split(',')) {
  if (name === 'text') phases.push(await phase('text', ['--index', pruned, '--model', model, '--corpus', join(scifact, 'corpus.jsonl')], texts.map((q) => JSON.stringify({ query: q.text, k: 10 }))));
  else if (name === 'vectors') phases.push(await phase('vectors', ['--index', pruned, '--corpus', join(scifact, 'corpus.jsonl')], vectors.map((v) => JSON.stringify({ vector: { indices: v.indices, values: v.values }, k: 10 }))));
  else throw new Error(`serve-load: unknown phase '${name}'; hint: text, vectors`);
}
const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim();
mkdirSync(join(root, 'bench/out'), { recursive: true });
writeFileSync(
  join(root, `bench/out/serve-load-${o.phases!.replace(/,/g, '-')}.json`),
  JSON.stringify({ date: new Date().toISOString(), commit, cpus: cpus().length, cpu: cpus()[0]?.model, connections: Number(o.connections), docTopK: topK, index: SparseIndex.load(pruned).manifest.counts, setupSeconds: setup, requestsPerPhase: Number(o.requests), phases }, null, 1),
);
