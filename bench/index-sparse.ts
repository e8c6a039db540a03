/**
 * Sparse index benchmark on a synthetic SPLADE-like corpus (see src/index/synthetic.ts): build time,
 * peak RSS, bytes per posting, and one-thread latency of exhaustive vs pruned (BMP) search at k=10 and
 * k=1000, asserting that the pruned top-k equals the exhaustive one (ids and scores) for every query.
 * Also: approximate BMP (alpha < 1) with its recall, block-max MaxScore, and 2-thread batch throughput.
 *
 *   node --import tsx bench/index-sparse.ts [--docs 1000000] [--queries 200] [--topics 2000]
 *        [--doc-block 32] [--dir /tmp/lion-bench-sparse] [--reuse]
 *
 * Writes bench/out/index-sparse.json and prints a Markdown summary.
 * @module
 */
import { mkdirSync, writeFileSync, existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { buildSparseIndex } from '../src/index/sparse/build.ts';
import { SparseIndex, type RawHits } from '../src/index/sparse/index.ts';
import { SparsePool } from '../src/index/search.ts';
import { SyntheticSparse } from '../src/index/synthetic.ts';
import type { BmpStats } from '../src/index/query/bmp.ts';
import type { SparseVector } from '../src/index/types.ts';

const { values: a } = parseArgs({
  options: {
    docs: { type: 'string', default: '1000000' },
    queries: { type: 'string', default: '200' },
    topics: { type: 'string', default: '2000' },
    'doc-block': { type: 'string', default: '32' },
    dir: { type: 'string', default: '/tmp/lion-bench-sparse' },
    reuse: { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
  },
});
const N = Number(a.docs);
const NQ = Number(a.queries);
const TOPICS = Number(a.topics);
const V = 128_000;
const SEED = 7;
const dir = a.dir!;

function stats(xs: number[]): { mean: number; p50: number; p99: number } {
  const s = [...xs].sort((x, y) => x - y);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
  return { mean: xs.reduce((x, y) => x + y, 0) / xs.length, p50: q(0.5), p99: q(0.99) };
}
const same = (x: RawHits, y: RawHits) =>
  x.docs.length === y.docs.length && x.docs.every((d, i) => d === y.docs[i] && x.scores[i] === y.scores[i]);

// ---- build -------------------------------------------------------------------------------------
const gen = new SyntheticSparse({ vocabSize: V, topics: TOPICS, seed: SEED });
let build: { seconds: number; peakRssMiB: number } | null = null;
if (!(a.reuse && existsSync(join(dir, 'manifest.json')))) {
  const t0 = performance.now();
  function* docs() {
    for (let i = 0; i < N; i++) yield { id: `d${i}`, vector: gen.vectorAround(120) };
  }
  const m = await buildSparseIndex(dir, docs(), { vocabSize: V, docBlock: Number(a['doc-block']) });
  build = {
    seconds: (performance.now() - t0) / 1000,
    peakRssMiB: Math.max(m.build!.peakRssBytes, process.resourceUsage().maxRSS * 1024) / 2 ** 20,
  };
  console.error(
    `built ${N} docs in ${build.seconds.toFixed(1)} s (generation included), peak RSS ${build.peakRssMiB.toFixed(0)} MiB`,
  );
} else {
  for (let i = 0; i < N; i++) gen.vectorAround(120); // same generator state as a fresh build
}
const t0 = performance.now();
const idx = SparseIndex.load(dir, { shared: true });
const loadSeconds = (performance.now() - t0) / 1000;
const m = idx.manifest;
const P = m.counts.postings!;
const files = Object.fromEntries(Object.entries(m.files).map(([k, v]) => [k, v.bytes]));
const wordsBytes = idx.data.words.byteLength;
const bytes = {
  docIdBitsPerPosting: (wordsBytes * 8) / P,
  postingsFile: files['postings.bin']! / P,
  forwardFile: files['forward.bin']! / P,
  blockmaxFile: files['blockmax.bin']! / P,
  total: Object.values(files).reduce((x, y) => x + y, 0) / P,
};
console.error(`loaded in ${loadSeconds.toFixed(1)} s; ${P} postings; bytes/posting ${JSON.stringify(bytes)}`);

// ---- query workloads ---------------------------------------------------------------------------
const topical = Array.from({ length: NQ }, () => gen.vectorAround(50));
const independent = (() => {
  const g2 = new SyntheticSparse({ vocabSize: V, topics: 0, seed: SEED }); // same Zipf law and term ids
  return Array.from({ length: NQ }, () => g2.vectorAround(50));
})();

interface Row {
  workload: string;
  k: number;
  exact: ReturnType<typeof stats>;
  pruned: ReturnType<typeof stats>;
  speedupMean: number;
  identical: boolean;
  blocksScored: number;
  fellBack: number;
}
const rows: Row[] = [];
for (const [workload, qs] of [
  ['topical', topical],
  ['independent', independent],
] as [string, SparseVector[]][]) {
  for (const k of [10, 1000]) {
    // warm-up
    for (const q of qs.slice(0, 5)) {
      idx.searchRaw(q, k, { algorithm: 'exhaustive' });
      idx.searchRaw(q, k);
    }
    const te: number[] = [];
    const tp: number[] = [];
    let identical = true;
    let blocks = 0;
    let fell = 0;
    for (const q of qs) {
      // interleaved, so both see the same machine load
      let s = performance.now();
      const e = idx.searchRaw(q, k, { algorithm: 'exhaustive' });
      te.push(performance.now() - s);
      const st: BmpStats = { blocksScored: 0, blocksWithBound: 0, fellBack: false };
      s = performance.now();
      const p = idx.searchRaw(q, k, { algorithm: 'bmp' }, st);
      tp.push(performance.now() - s);
      if (!same(e, p)) identical = false;
      blocks += st.blocksScored;
      if (st.fellBack) fell++;
    }
    if (!identical) throw new Error(`pruned != exhaustive on ${workload} k=${k}`);
    const r: Row = {
      workload,
      k,
      exact: stats(te),
      pruned: stats(tp),
      speedupMean: stats(te).mean / stats(tp).mean,
      identical,
      blocksScored: blocks / qs.length,
      fellBack: fell / qs.length,
    };
    rows.push(r);
    console.error(JSON.stringify(r));
  }
}

// ---- approximate BMP, MaxScore, threads ----------------------------------------------------------
const approx: { alpha: number; meanMs: number; recallAt10: number }[] = [];
const exact10 = topical.map((q) => idx.searchRaw(q, 10, { algorithm: 'exhaustive' }));
for (const alpha of [1, 0.9, 0.8, 0.7, 0.5]) {
  const t: number[] = [];
  let rec = 0;
  topical.forEach((q, i) => {
    const s = performance.now();
    const r = idx.searchRaw(q, 10, { alpha, fallback: false });
    t.push(performance.now() - s);
    const want = new Set(exact10[i]!.docs);
    rec += Array.from(r.docs).filter((d) => want.has(d)).length / Math.max(1, want.size);
  });
  approx.push({ alpha, meanMs: stats(t).mean, recallAt10: rec / topical.length });
}
console.error(JSON.stringify(approx));

const msq = topical.slice(0, Math.min(50, NQ));
const tm: number[] = [];
const tb: number[] = [];
const tx: number[] = [];
for (const q of msq) {
  let s = performance.now();
  const x = idx.searchRaw(q, 10, { algorithm: 'maxscore' });
  tm.push(performance.now() - s);
  s = performance.now();
  const y = idx.searchRaw(q, 10, { algorithm: 'bmp' });
  tb.push(performance.now() - s);
  s = performance.now();
  idx.searchRaw(q, 10, { algorithm: 'exhaustive' });
  tx.push(performance.now() - s);
  if (!same(x, y)) throw new Error('maxscore != bmp');
}
const maxscore = {
  queries: msq.length,
  maxscoreMeanMs: stats(tm).mean,
  bmpMeanMs: stats(tb).mean,
  exhaustiveMeanMs: stats(tx).mean,
};
console.error(JSON.stringify(maxscore));

const threads: { threads: number; qps: number }[] = [];
{
  let s = performance.now();
  for (const q of topical) idx.searchRaw(q, 10);
  threads.push({ threads: 1, qps: topical.length / ((performance.now() - s) / 1000) });
  const pool = new SparsePool(idx, 2);
  // start-up and each worker's JIT warm-up outside the timing (8 queries left the workers cold: with
  // 3–4 ms queries the timed batch is short enough for warm-up to show)
  await pool.search(topical, 10);
  s = performance.now();
  await pool.search(topical, 10);
  threads.push({ threads: 2, qps: topical.length / ((performance.now() - s) / 1000) });
  await pool.close();
}
console.error(JSON.stringify(threads));

const report = {
  date: new Date().toISOString(),
  docs: N,
  queries: NQ,
  topics: TOPICS,
  vocab: V,
  docBlock: m.sparse!.docBlock,
  postings: P,
  build,
  loadSeconds,
  bytes,
  rows,
  approx,
  maxscore,
  threads,
};
mkdirSync('bench/out', { recursive: true });
writeFileSync('bench/out/index-sparse.json', JSON.stringify(report, null, 2));

const f = (x: number) => x.toFixed(2);
console.log(
  `| workload | k | exact mean / p99 (ms) | pruned mean / p99 (ms) | speed-up (mean) | identical | blocks scored | fell back |`,
);
console.log(`|---|---|---|---|---|---|---|---|`);
for (const r of rows)
  console.log(
    `| ${r.workload} | ${r.k} | ${f(r.exact.mean)} / ${f(r.exact.p99)} | ${f(r.pruned.mean)} / ${f(r.pruned.p99)} | ${r.speedupMean.toFixed(1)}× | ${r.identical ? 'yes' : 'NO'} | ${r.blocksScored.toFixed(0)} | ${(r.fellBack * 100).toFixed(0)}% |`,
  );
if (!a.keep && !a.reuse) rmSync(dir, { recursive: true, force: true });
