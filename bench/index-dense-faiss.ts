/**
 * Lion's flat dense search against FAISS IndexFlatIP on the same vectors and threads, in one run:
 * Lion, then FAISS (bench/dense_faiss.py, a child process, in each thread configuration; credited with
 * its best), then Lion again; each side's best of its repetitions, batched (all queries in one call) and single (one query per call). Checks that the
 * top-k ids agree.
 *
 *   node --import tsx bench/index-dense-faiss.ts [--docs 100000] [--dim 512] [--queries 1000]
 *        [--single 100] [--threads 1] [--k 10] [--python /usr/bin/python3]
 *
 * Needs Debian's python3-faiss (benchmark only). Writes bench/out/index-dense-faiss.json.
 * @module
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { buildDenseIndex } from '../src/index/dense/build.ts';
import { DenseIndex } from '../src/index/dense/index.ts';
import { rng } from '../src/index/synthetic.ts';
import { setNumThreads, getNumThreads } from '../src/torch/index.ts';

const { values: a } = parseArgs({
  options: {
    docs: { type: 'string', default: '100000' },
    dim: { type: 'string', default: '512' },
    queries: { type: 'string', default: '1000' },
    single: { type: 'string', default: '100' },
    threads: { type: 'string', default: '1' },
    k: { type: 'string', default: '10' },
    python: { type: 'string', default: '/usr/bin/python3' },
    dir: { type: 'string', default: '/tmp/lion-bench-faiss' },
    'block-rows': { type: 'string', default: 'default' },
  },
});
const N = Number(a.docs);
const D = Number(a.dim);
const NQ = Number(a.queries);
const SINGLE = Number(a.single);
const T = Number(a.threads);
const K = Number(a.k);
const dir = a.dir!;
/** Lion's block sizes to compare (rows scored per matmul), interleaved in each Lion round. */
/** ('default' = 0: the index's own choice for the batch size) */
const BLOCKS = a['block-rows']!.split(',').map((b) => (b === 'default' ? 0 : Number(b)));
setNumThreads(T);
rmSync(dir, { recursive: true, force: true });
mkdirSync(dir, { recursive: true });
const r = rng(5);
const gauss = () => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
const all = new Float32Array(N * D);
for (let i = 0; i < all.length; i++) all[i] = gauss();
const qs = new Float32Array(NQ * D);
for (let i = 0; i < qs.length; i++) qs[i] = gauss();
writeFileSync(join(dir, 'docs.f32'), all);
writeFileSync(join(dir, 'queries.f32'), qs);
writeFileSync(join(dir, 'meta.json'), JSON.stringify({ N, D, NQ, single: SINGLE }));
const queries = Array.from({ length: NQ }, (_, i) => qs.subarray(i * D, (i + 1) * D));
await buildDenseIndex(
  join(dir, 'idx'),
  Array.from({ length: N }, (_, i) => ({ id: `d${i}`, vector: all.subarray(i * D, (i + 1) * D) })),
  { dtype: 'f32' },
);
const idx = DenseIndex.load(join(dir, 'idx'));
await idx.searchBatch(queries.slice(0, 4), K); // warm-up and the libtorch copy

async function lion(blockRows: number): Promise<{ batchedQps: number; singleQps: number; ids: Int32Array[] }> {
  let best = { batchedQps: 0, singleQps: 0 };
  let ids: Int32Array[] = [];
  for (let rep = 0; rep < 2; rep++) {
    let t = performance.now();
    const res = await idx.searchBatch(queries, K, { blockRows: blockRows || undefined });
    const batchedQps = NQ / ((performance.now() - t) / 1000);
    ids = res.map((x) => x.docs);
    t = performance.now();
    for (let i = 0; i < SINGLE; i++) await idx.searchBatch([queries[i]!], K, { blockRows: blockRows || undefined });
    const singleQps = SINGLE / ((performance.now() - t) / 1000);
    best = { batchedQps: Math.max(best.batchedQps, batchedQps), singleQps: Math.max(best.singleQps, singleQps) };
  }
  return { ...best, ids };
}

const load0 = loadavg()[0]!;
type LionRun = { blockRows: number; batchedQps: number; singleQps: number; ids: Int32Array[] };
const before: LionRun[] = [];
for (const b of BLOCKS) before.push({ blockRows: b, ...(await lion(b)) });
// Debian's faiss reaches OpenBLAS through the libblas alternative, by default the pthread build,
// which ignores faiss.omp_set_num_threads: without these variables "1 thread" FAISS ran sgemm on
// every core (measured: 1,844 q/s "1 thread" against 1,052 q/s pinned). FAISS runs in every
// configuration of T threads (its OpenMP threads × OpenBLAS threads, and the OpenMP OpenBLAS build
// that Lion links, preloaded) and is credited with its best: the two thread pools of the pthread
// build contend at T > 1, which is FAISS's set-up here, not its algorithm.
const ompBlas = '/usr/lib/x86_64-linux-gnu/openblas-openmp/libblas.so.3';
const configs = [
  { label: `pthread OpenBLAS, omp ${T} × blas ${T}`, omp: T, blas: T, preload: '' },
  ...(T > 1
    ? [
        { label: `pthread OpenBLAS, omp 1 × blas ${T}`, omp: 1, blas: T, preload: '' },
        { label: `pthread OpenBLAS, omp ${T} × blas 1`, omp: T, blas: 1, preload: '' },
      ]
    : []),
  ...(existsSync(ompBlas)
    ? [{ label: `OpenMP OpenBLAS (as Lion), ${T} threads`, omp: T, blas: T, preload: ompBlas }]
    : []),
];
type FaissRun = { label: string; batchedQps: number; singleQps: number; faiss: string };
const faissRuns: FaissRun[] = [];
for (const c of configs) {
  const env = {
    ...process.env,
    OPENBLAS_NUM_THREADS: String(c.blas),
    OMP_NUM_THREADS: String(c.omp),
    ...(c.preload ? { LD_PRELOAD: c.preload } : {}),
  };
  execFileSync(a.python!, ['bench/dense_faiss.py', dir, String(c.omp), String(K)], { stdio: 'inherit', env });
  faissRuns.push({
    label: c.label,
    ...(JSON.parse(readFileSync(join(dir, 'faiss.json'), 'utf8')) as Omit<FaissRun, 'label'>),
  });
  console.error(`FAISS ${JSON.stringify(faissRuns.at(-1))}`);
}
// the best configuration for each measure
const f = {
  batchedQps: Math.max(...faissRuns.map((x) => x.batchedQps)),
  singleQps: Math.max(...faissRuns.map((x) => x.singleQps)),
  faiss: faissRuns[0]!.faiss,
  runs: faissRuns,
};
const after: LionRun[] = [];
for (const b of BLOCKS) after.push({ blockRows: b, ...(await lion(b)) });
const fb = readFileSync(join(dir, 'faiss_ids.i64'));
const fids = new BigInt64Array(fb.buffer, fb.byteOffset, fb.length / 8);
let agree = 0;
after[0]!.ids.forEach((ids, qi) => {
  if (Array.from(ids).every((d, j) => BigInt(d) === fids[qi * K + j])) agree++;
});
const rows = BLOCKS.map((b, i) => ({
  blockRows: b,
  batchedQps: Math.max(before[i]!.batchedQps, after[i]!.batchedQps),
  singleQps: Math.max(before[i]!.singleQps, after[i]!.singleQps),
  runs: [before[i]!, after[i]!].map((x) => ({ batchedQps: x.batchedQps, singleQps: x.singleQps })),
}));
const out = {
  date: new Date().toISOString(),
  docs: N,
  dim: D,
  queries: NQ,
  single: SINGLE,
  k: K,
  threads: { lion: getNumThreads(), faiss: T },
  lion: rows,
  faiss: f,
  top10Agree: agree / NQ,
  loadavg: [load0, loadavg()[0]],
};
console.error(JSON.stringify(out));
mkdirSync('bench/out', { recursive: true });
writeFileSync('bench/out/index-dense-faiss.json', JSON.stringify(out, null, 2));
console.log(
  `| threads | Lion block rows | Lion batched q/s | FAISS batched q/s | ratio | Lion single q/s | FAISS single q/s | ratio | same top-${K} |`,
);
console.log('|---|---|---|---|---|---|---|---|---|');
for (const r of rows)
  console.log(
    `| ${T} | ${r.blockRows || 'default'} | ${r.batchedQps.toFixed(1)} | ${f.batchedQps.toFixed(1)} | ${(r.batchedQps / f.batchedQps).toFixed(2)} | ${r.singleQps.toFixed(2)} | ${f.singleQps.toFixed(2)} | ${(r.singleQps / f.singleQps).toFixed(2)} | ${((agree / NQ) * 100).toFixed(1)}% |`,
  );
console.log(`\n| FAISS configuration (${T} threads) | batched q/s | single q/s |\n|---|---|---|`);
for (const x of faissRuns) console.log(`| ${x.label} | ${x.batchedQps.toFixed(1)} | ${x.singleQps.toFixed(2)} |`);
idx.close();
rmSync(dir, { recursive: true, force: true });
