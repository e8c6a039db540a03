/**
 * Approximate dense search (lion index --ann hnsw) against Lion's flat search on the same index:
 * build cost of the graph, then for each search-time ef the recall@10 against the flat top-10 and the
 * speed, single queries and batched, on the same threads.
 *
 *   node --import tsx bench/index-dense-ann.ts [--docs 1000000] [--dim 768] [--queries 1000]
 *        [--gen latent|gauss] [--ann-dtype f16,i8] [--m 16] [--efc 128] [--ef 16,32,64,128,256]
 *        [--threads 1] [--build-threads 2] [--flat-single 20] [--dir /tmp/lion-bench-ann]
 *
 * Generators (vectors L2-normalised, queries drawn like documents):
 * - latent: 1,000 clusters in a 64-dimensional latent space with a decaying spectrum, mapped into
 *   `dim` dimensions by a random matrix, plus isotropic noise (std 0.05 per dimension before normalising; real embedding models' vectors have
 *   low intrinsic dimension; this is a stand-in, not real embeddings);
 * - gauss: isotropic Gaussian vectors, the worst case for any graph index (no structure at all).
 * Writes bench/out/index-dense-ann-<gen>.json and prints Markdown tables.
 * @module
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { DenseIndexBuilder } from '../src/index/dense/build.ts';
import { DenseIndex } from '../src/index/dense/index.ts';
import { AnnBuilder, ANN_FILE, type AnnDtype } from '../src/index/dense/ann.ts';
import { rng } from '../src/index/synthetic.ts';
import { Tensor, noGrad, setNumThreads, tidy } from '../src/torch/index.ts';
import type { RawHits } from '../src/index/sparse/index.ts';

const { values: a } = parseArgs({
  options: {
    docs: { type: 'string', default: '1000000' },
    dim: { type: 'string', default: '768' },
    queries: { type: 'string', default: '1000' },
    gen: { type: 'string', default: 'latent' },
    'ann-dtype': { type: 'string', default: 'f16,i8' },
    m: { type: 'string', default: '16' },
    efc: { type: 'string', default: '128' },
    ef: { type: 'string', default: '16,32,64,128,256' },
    threads: { type: 'string', default: '1' },
    'build-threads': { type: 'string', default: '2' },
    'flat-single': { type: 'string', default: '20' },
    dir: { type: 'string', default: '/tmp/lion-bench-ann' },
  },
});
const N = Number(a.docs);
const D = Number(a.dim);
const NQ = Number(a.queries);
const T = Number(a.threads);
const K = 10;
const gen = a.gen as 'latent' | 'gauss';
const dir = a.dir!;
setNumThreads(T);
rmSync(dir, { recursive: true, force: true });
mkdirSync(dir, { recursive: true });

const L = 64;
const CLUSTERS = 1000;
const CHUNK = 8192;

/** Rows [start, start + n) of the collection (queries use another seed), deterministic per chunk. */
function makeChunk(seed: number, n: number): Float32Array {
  const r = rng(seed);
  const gauss = (): number => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
  const out = new Float32Array(n * D);
  if (gen === 'gauss') {
    for (let i = 0; i < out.length; i++) out[i] = gauss();
  } else {
    const z = new Float32Array(n * L);
    for (let i = 0; i < n; i++) {
      const c = Math.floor(r() * CLUSTERS);
      for (let j = 0; j < L; j++) z[i * L + j] = centres[c * L + j]! + 0.6 * spectrum[j]! * gauss();
    }
    const x = noGrad(() => tidy(() => Tensor.from(z, [n, L]).matmul(basis!).toFloat32Array()));
    for (let i = 0; i < out.length; i++) out[i] = x[i]! + 0.05 * gauss();
  }
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < D; j++) s += out[i * D + j]! ** 2;
    const inv = 1 / Math.sqrt(s);
    for (let j = 0; j < D; j++) out[i * D + j]! *= inv;
  }
  return out;
}
const g0 = rng(99);
const gz = (): number => Math.sqrt(-2 * Math.log(1 - g0())) * Math.cos(2 * Math.PI * g0());
const centres = Float32Array.from({ length: CLUSTERS * L }, gz);
const spectrum = Float32Array.from({ length: L }, (_, j) => (j + 1) ** -0.5);
const basis = gen === 'latent' ? Tensor.from(Float32Array.from({ length: L * D }, () => gz() / Math.sqrt(L)), [L, D]).keep() : null;

const qv = makeChunk(1e6 + 7, NQ);
const queries = Array.from({ length: NQ }, (_, i) => qv.subarray(i * D, (i + 1) * D));

async function build(dtype: AnnDtype): Promise<{ index: DenseIndex; seconds: number; graphSeconds: number; bytes: number }> {
  const out = join(dir, `idx-${dtype}`);
  mkdirSync(out, { recursive: true });
  const ann = await AnnBuilder.create({ dtype, connectivity: Number(a.m), expansionAdd: Number(a.efc), threads: Number(a['build-threads']) });
  const b = new DenseIndexBuilder(out, {}, ann);
  const t0 = performance.now();
  let graphMs = 0;
  for (let start = 0, c = 0; start < N; start += CHUNK, c++) {
    const n = Math.min(CHUNK, N - start);
    const rows = makeChunk(c + 1, n);
    for (let i = 0; i < n; i++) {
      const g = performance.now();
      b.add(`d${start + i}`, rows.subarray(i * D, (i + 1) * D));
      graphMs += performance.now() - g;
    }
    if (process.stderr.isTTY) process.stderr.write(`\r${dtype}: ${start + n}/${N} rows, ${((start + n) / ((performance.now() - t0) / 1000)).toFixed(0)} rows/s`);
  }
  const m = b.finish();
  const seconds = (performance.now() - t0) / 1000;
  if (process.stderr.isTTY) process.stderr.write('\n');
  return { index: DenseIndex.load(out), seconds, graphSeconds: graphMs / 1000, bytes: m.files[ANN_FILE]!.bytes };
}

const mean = (x: number[]): number => x.reduce((s, v) => s + v, 0) / x.length;
const recallAt = (got: RawHits[], want: RawHits[]): number =>
  mean(got.map((g, i) => Array.from(g.docs).filter((d) => want[i]!.docs.includes(d)).length / K));

interface Row { dtype: AnnDtype; ef: number; recall10: number; singleMs: number; batchedQps: number }
const results: { dtype: AnnDtype; buildSeconds: number; graphSeconds: number; graphBytes: number; peakRssMiB: number }[] = [];
const rows: Row[] = [];
let flat: { singleMs: number; batchedQps: number } | null = null;
let truth: RawHits[] = [];
const load0 = loadavg()[0]!;
for (const dtype of a['ann-dtype']!.split(',') as AnnDtype[]) {
  const { index, seconds, graphSeconds, bytes } = await build(dtype);
  results.push({ dtype, buildSeconds: seconds, graphSeconds, graphBytes: bytes, peakRssMiB: process.memoryUsage().rss / 2 ** 20 });
  console.error(`${dtype}: built in ${seconds.toFixed(0)} s (graph inserts ${graphSeconds.toFixed(0)} s), graph ${(bytes / 2 ** 30).toFixed(2)} GiB`);
  if (!flat) {
    // the flat top-10 is the truth and the speed to beat (same index, same threads); the warm-up
    // query pays the one-time copy of the matrix into libtorch
    await index.searchBatch([queries[0]!], K, { exact: true });
    let t = performance.now();
    truth = await index.searchBatch(queries, K, { exact: true });
    const batchedQps = NQ / ((performance.now() - t) / 1000);
    const ns = Number(a['flat-single']);
    t = performance.now();
    for (let i = 0; i < ns; i++) await index.searchBatch([queries[i]!], K, { exact: true });
    flat = { singleMs: (performance.now() - t) / ns, batchedQps };
    console.error(`flat: ${flat.singleMs.toFixed(1)} ms/query single, ${batchedQps.toFixed(1)} q/s batched`);
  }
  for (const ef of a.ef!.split(',').map(Number)) {
    await index.searchBatch(queries.slice(0, 8), K, { ef, threads: T }); // opens and maps the graph
    let t = performance.now();
    const single: RawHits[] = [];
    for (const q of queries) single.push((await index.searchBatch([q], K, { ef, threads: T }))[0]!);
    const singleMs = (performance.now() - t) / NQ;
    t = performance.now();
    await index.searchBatch(queries, K, { ef, threads: T });
    const batchedQps = NQ / ((performance.now() - t) / 1000);
    const row = { dtype, ef, recall10: recallAt(single, truth), singleMs, batchedQps };
    rows.push(row);
    console.error(JSON.stringify(row));
  }
  index.close();
  rmSync(join(dir, `idx-${dtype}`), { recursive: true, force: true });
}

const out = { date: new Date().toISOString(), gen, docs: N, dim: D, queries: NQ, threads: T, m: Number(a.m), efc: Number(a.efc), builds: results, flat, rows, loadavg: [load0, loadavg()[0]] };
mkdirSync('bench/out', { recursive: true });
writeFileSync(`bench/out/index-dense-ann-${gen}.json`, JSON.stringify(out, null, 2));
console.log(`| graph dtype | build s (graph inserts) | graph GiB | peak RSS MiB |\n|---|---|---|---|`);
for (const b of results) console.log(`| ${b.dtype} | ${b.buildSeconds.toFixed(0)} (${b.graphSeconds.toFixed(0)}) | ${(b.graphBytes / 2 ** 30).toFixed(2)} | ${b.peakRssMiB.toFixed(0)} |`);
console.log(`\nflat (${T} thread): ${flat!.singleMs.toFixed(1)} ms/query single, ${flat!.batchedQps.toFixed(1)} q/s batched\n`);
console.log(`| graph dtype | ef | recall@10 | single ms | speed-up vs flat single | batched q/s | vs flat batched |\n|---|---|---|---|---|---|---|`);
for (const r of rows)
  console.log(`| ${r.dtype} | ${r.ef} | ${r.recall10.toFixed(4)} | ${r.singleMs.toFixed(3)} | ${(flat!.singleMs / r.singleMs).toFixed(0)}× | ${r.batchedQps.toFixed(0)} | ${(r.batchedQps / flat!.batchedQps).toFixed(0)}× |`);
basis?.dispose();
rmSync(dir, { recursive: true, force: true });
