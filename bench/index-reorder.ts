/**
 * Sparse search on collections Lion did not shape for itself: documents in random order, topic terms
 * across the whole vocabulary at several topic strengths, and BM25-weighted vectors of the real
 * collections. For each collection: one index in input order and one reordered by BP (both 16-bit),
 * their build cost and bits per posting, then per query, interleaved in this process, Lion's
 * exhaustive search and safe BMP on both indexes at k=10 and k=1000 (asserting identical ids and
 * scores), MaxScore, and the approximate BMP curve (alpha); and, in a child process of the same run,
 * the authors' exhaustive algorithm (bench/sparse_baseline.py: numba TAAT into float32 + argpartition),
 * whose float64 twin gives the float-exact top-10. One thread throughout.
 *
 *   node --import tsx bench/index-reorder.ts [--docs 300000] [--queries 500] [--only name,...]
 *        [--doc-block 32] [--no-maxscore] [--python /usr/bin/python3] [--dir /tmp/lion-bench-reorder] [--out bench/out/index-reorder.json]
 *
 * Needs Debian's python3-numba and python3-scipy for the baseline (benchmark only). Writes
 * bench/out/index-reorder.json and prints Markdown tables.
 * @module
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { buildSparseIndex } from '../src/index/sparse/build.ts';
import { SparseIndex, type RawHits } from '../src/index/sparse/index.ts';
import { SyntheticSparse } from '../src/index/synthetic.ts';
import type { BmpStats } from '../src/index/query/bmp.ts';
import type { SparseVector } from '../src/index/types.ts';

const { values: a } = parseArgs({
  options: {
    docs: { type: 'string', default: '300000' },
    queries: { type: 'string', default: '500' },
    only: { type: 'string' },
    python: { type: 'string', default: '/usr/bin/python3' },
    dir: { type: 'string', default: '/tmp/lion-bench-reorder' },
    out: { type: 'string', default: 'bench/out/index-reorder.json' },
    'no-maxscore': { type: 'boolean', default: false },
    'doc-block': { type: 'string', default: '32' },
  },
});
const N = Number(a.docs);
const NQ = Number(a.queries);
const V = 128_000;
const root = a.dir!;

interface Collection {
  name: string;
  describe: string;
  load: () => Promise<{ docs: SparseVector[]; queries: SparseVector[]; V: number }>;
}

function synthetic(name: string, share: number, spread: 'zipf' | 'uniform', topics: number): Collection {
  return {
    name,
    describe: `${N} docs, random order, ${topics} topics of 300 terms (${spread} over ranks ≥ 0), topic share ${share}, ~117 terms/doc, ~40/query`,
    load: async () => {
      const g = new SyntheticSparse({
        vocabSize: V,
        topics,
        topicShare: share,
        topicSpread: spread,
        topicMinRank: 0,
        seed: 11,
      });
      // every document draws its topic at random: input order carries no topical structure
      const docs = Array.from({ length: N }, () => g.vectorAround(117));
      const queries = Array.from({ length: NQ }, () => g.vectorAround(40));
      return { docs, queries, V };
    },
  };
}

async function bm25(name: string, dataset: string): Promise<Collection> {
  return {
    name,
    describe: `BM25-weighted vectors (Lion's BM25) of ${dataset}`,
    load: async () => {
      const { openDataset } = await import('../src/data/datasets.ts');
      const { Bm25Index } = await import('../src/lexical/index.ts');
      const ds = openDataset(dataset, { mirror: resolve(import.meta.dirname, '../../shared/data') });
      const docsIn: { id: string; text: string }[] = [];
      for await (const d of ds.docs()) docsIn.push({ id: d.id, text: d.title ? `${d.title} ${d.text}` : d.text });
      const idx = await Bm25Index.build(docsIn);
      const docs = Array.from({ length: idx.size }, (_, i) => idx.documentVector(i));
      const queries = [...(await ds.queries()).values()].map((t) => idx.encodeQuery(t)).filter((q) => q.indices.length);
      // shuffle the documents (seeded): input order of a real corpus may already be topical
      let s = 12345;
      const rand = () => (s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32;
      for (let i = docs.length - 1; i > 0; i--) {
        const j = Math.floor(rand() * (i + 1));
        [docs[i], docs[j]] = [docs[j]!, docs[i]!];
      }
      return { docs, queries, V: idx.terms.length };
    },
  };
}

const collections: Collection[] = [
  synthetic('uniform-0.2', 0.2, 'uniform', 3000),
  synthetic('uniform-0.35', 0.35, 'uniform', 3000),
  synthetic('uniform-0.5', 0.5, 'uniform', 3000),
  synthetic('zipf-0.5', 0.5, 'zipf', 3000),
  await bm25('scifact', 'beir/scifact/test'),
  await bm25('dl19-5k', 'msmarco-passage/dl19-mini'),
  await bm25('cranfield', 'cranfield'),
].filter((c) => !a.only || a.only.split(',').includes(c.name));

const mean = (xs: number[]) => xs.reduce((x, y) => x + y, 0) / Math.max(1, xs.length);
const p99 = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.min(xs.length - 1, Math.floor(0.99 * xs.length))] ?? 0;
const same = (x: RawHits, y: RawHits) =>
  x.docs.length === y.docs.length && x.docs.every((d, i) => d === y.docs[i] && x.scores[i] === y.scores[i]);
const load = () =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');

/** CSR arrays of vectors for the Python baseline. */
function writeCsr(dir: string, prefix: string, vs: SparseVector[]): void {
  const indptr = new BigUint64Array(vs.length + 1);
  let n = 0;
  vs.forEach((v, i) => (indptr[i + 1] = BigInt((n += v.indices.length))));
  const idx = new Uint32Array(n);
  const val = new Float32Array(n);
  let o = 0;
  for (const v of vs) {
    idx.set(v.indices, o);
    val.set(v.values, o);
    o += v.indices.length;
  }
  writeFileSync(join(dir, `${prefix}_indptr.u64`), indptr);
  writeFileSync(join(dir, `${prefix}_indices.u32`), idx);
  writeFileSync(join(dir, `${prefix}_data.f32`), val);
}

const readI32 = (p: string) => {
  const b = readFileSync(p);
  return new Int32Array(b.buffer, b.byteOffset, b.length / 4);
};

interface Build {
  seconds: number;
  reorderSeconds: number;
  peakRssMiB: number;
  docIdBits: number;
  bytesPerPosting: number;
}
interface Entry {
  collection: string;
  docs: number;
  postings: number;
  builds: Record<'none' | 'bp', Build>;
  rows: { k: number; exhaustiveMs: number; bmpInputOrderMs: number; bmpBpMs: number; bmpBpP99: number }[];
  maxscore: { inputOrderMs: number; bpMs: number } | null;
  approx: { alpha: number; ms: number; recall10: number }[];
  fastestAtRecall95: { alpha: number; ms: number; msPerMillionDocs: number } | null;
  baseline: {
    k10Ms: number;
    k1000Ms: number;
    bmpTop10EqualsFloatExact: number;
    bmpTop10SetEqualsFloatExact: number;
    authorsTop10EqualsFloatExact: number;
    authorsTop10SetEqualsFloatExact: number;
  } | null;
  loadavg: { before: string; after: string };
}
const report: Entry[] = [];
for (const c of collections) {
  const dir = join(root, c.name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  let t = performance.now();
  const { docs, queries, V: vocab } = await c.load();
  const genS = (performance.now() - t) / 1000;
  const items = docs.map((v, i) => ({ id: `d${i}`, vector: v }));
  const builds: Record<
    string,
    { seconds: number; reorderSeconds: number; peakRssMiB: number; docIdBits: number; bytesPerPosting: number }
  > = {};
  const idx: Record<string, SparseIndex> = {};
  for (const reorder of ['none', 'bp'] as const) {
    t = performance.now();
    const m = await buildSparseIndex(join(dir, reorder), items, { vocabSize: vocab, bits: 16, reorder, docBlock: Number(a['doc-block']) });
    const seconds = (performance.now() - t) / 1000;
    const loaded = (idx[reorder] = SparseIndex.load(join(dir, reorder)));
    const P = m.counts.postings!;
    builds[reorder] = {
      seconds,
      reorderSeconds: m.build?.reorderSeconds ?? 0,
      peakRssMiB: m.build!.peakRssBytes / 2 ** 20,
      docIdBits: (loaded.data.words.byteLength * 8) / P,
      bytesPerPosting: Object.values(m.files).reduce((x, y) => x + y.bytes, 0) / P,
    };
    console.error(`${c.name} ${reorder}: ${JSON.stringify(builds[reorder])}`);
  }
  const plain = idx.none!;
  const bp = idx.bp!;
  const Nc = plain.size;
  const P = plain.postings;
  const loadBefore = load();

  // ---- Lion, interleaved per query ------------------------------------------------------------------
  const rows: Record<string, unknown>[] = [];
  const exact10: RawHits[] = [];
  const bmp10: RawHits[] = [];
  for (const k of [10, 1000]) {
    for (const q of queries.slice(0, 5))
      for (const i of [plain, bp]) {
        i.searchRaw(q, k, { algorithm: 'exhaustive' });
        i.searchRaw(q, k);
      }
    const te: number[] = [];
    const tPlain: number[] = [];
    const tBp: number[] = [];
    let blocksScored = 0;
    let blocksWithBound = 0;
    let fell = 0;
    for (const q of queries) {
      let s = performance.now();
      const e = plain.searchRaw(q, k, { algorithm: 'exhaustive' });
      te.push(performance.now() - s);
      s = performance.now();
      const x = plain.searchRaw(q, k, { algorithm: 'bmp' });
      tPlain.push(performance.now() - s);
      const st: BmpStats = { blocksScored: 0, blocksWithBound: 0, fellBack: false };
      s = performance.now();
      const y = bp.searchRaw(q, k, { algorithm: 'bmp' }, st);
      tBp.push(performance.now() - s);
      blocksScored += st.blocksScored;
      blocksWithBound += st.blocksWithBound;
      if (st.fellBack) fell++;
      if (!same(e, x) || !same(e, y)) throw new Error(`${c.name}: BMP differs from exhaustive at k=${k}`);
      if (k === 10) {
        exact10.push(e);
        bmp10.push(y);
      }
    }
    rows.push({
      k,
      exhaustiveMs: mean(te),
      exhaustiveP99: p99(te),
      bmpInputOrderMs: mean(tPlain),
      bmpBpMs: mean(tBp),
      bmpBpP99: p99(tBp),
      blocksScored: blocksScored / queries.length,
      blocksWithBound: blocksWithBound / queries.length,
      fellBack: fell / queries.length,
    });
    console.error(`${c.name} k=${k}: ${JSON.stringify(rows.at(-1))}`);
  }
  let maxscore: Record<string, number> | null = null;
  if (!a['no-maxscore']) {
    const qs = queries.slice(0, Math.min(100, queries.length));
    const tm: number[] = [];
    const tb: number[] = [];
    for (const q of qs) {
      let s = performance.now();
      const x = plain.searchRaw(q, 10, { algorithm: 'maxscore' });
      const m1 = performance.now() - s;
      s = performance.now();
      const y = bp.searchRaw(q, 10, { algorithm: 'maxscore' });
      tb.push(performance.now() - s);
      tm.push(m1);
      if (!same(x, y)) throw new Error(`${c.name}: MaxScore differs after reordering`);
    }
    maxscore = { queries: qs.length, inputOrderMs: mean(tm), bpMs: mean(tb) };
  }
  // approximate BMP on the reordered index
  const approx: { alpha: number; ms: number; recall10: number }[] = [];
  for (const alpha of [1, 0.95, 0.9, 0.85, 0.8, 0.7, 0.6, 0.5]) {
    const tt: number[] = [];
    let rec = 0;
    queries.forEach((q, i) => {
      const s = performance.now();
      const r = bp.searchRaw(q, 10, { alpha, fallback: false });
      tt.push(performance.now() - s);
      const want = new Set(exact10[i]!.docs);
      rec += want.size ? Array.from(r.docs).filter((d) => want.has(d)).length / want.size : 1;
    });
    approx.push({ alpha, ms: mean(tt), recall10: rec / queries.length });
  }
  const ok = approx.filter((x) => x.recall10 >= 0.95).sort((x, y) => x.ms - y.ms)[0] ?? null;

  // ---- the authors' exhaustive search, same run ---------------------------------------------------------
  writeFileSync(join(dir, 'meta.json'), JSON.stringify({ N: Nc, V: vocab, NQ: queries.length }));
  writeCsr(dir, 'doc', docs);
  writeCsr(dir, 'q', queries);
  let baseline: Record<string, unknown> | null = null;
  try {
    execFileSync(a.python!, ['bench/sparse_baseline.py', dir, '10', '1000'], {
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    const b = JSON.parse(readFileSync(join(dir, 'baseline.json'), 'utf8')) as { ms: Record<string, number[]> };
    const exact = readI32(join(dir, 'exact10.i32'));
    const f32 = readI32(join(dir, 'top_f32_10.i32'));
    // Both searches are judged by the same two rules: the same ten documents (set), and the same
    // ranking (order; near-ties may swap under 16-bit impacts, or float32 sums in another order).
    const sameSet = (g: number[], w: number[]): boolean => g.length === w.length && w.every((x) => g.includes(x));
    let bmpSet = 0;
    let bmpOrder = 0;
    let f32Set = 0;
    let f32Order = 0;
    queries.forEach((_q, i) => {
      const want = Array.from(exact.subarray(i * 10, i * 10 + 10)).filter((x) => x >= 0);
      const got = Array.from(bmp10[i]!.docs);
      if (sameSet(got, want)) bmpSet++;
      if (want.join() === got.join()) bmpOrder++;
      const g32 = Array.from(f32.subarray(i * 10, i * 10 + want.length));
      if (sameSet(g32, want)) f32Set++;
      if (want.join() === g32.join()) f32Order++;
    });
    const nq = queries.length;
    baseline = {
      k10Ms: mean(b.ms['10']!),
      k1000Ms: mean(b.ms['1000']!),
      bmpTop10EqualsFloatExact: bmpOrder / nq,
      bmpTop10SetEqualsFloatExact: bmpSet / nq,
      authorsTop10EqualsFloatExact: f32Order / nq,
      authorsTop10SetEqualsFloatExact: f32Set / nq,
    };
  } catch (e) {
    console.error(`baseline skipped: ${(e as Error).message}`);
  }
  const entry = {
    collection: c.name,
    describe: c.describe,
    docs: Nc,
    queries: queries.length,
    postings: P,
    generationSeconds: genS,
    builds,
    rows,
    maxscore,
    approx,
    fastestAtRecall95: ok ? { ...ok, msPerMillionDocs: (ok.ms * 1e6) / Nc } : null,
    baseline,
    loadavg: { before: loadBefore, after: load() },
  };
  report.push(entry as unknown as Entry);
  console.error(JSON.stringify(entry));
  mkdirSync('bench/out', { recursive: true });
  writeFileSync(a.out!, JSON.stringify({ date: new Date().toISOString(), report }, null, 2));
  rmSync(dir, { recursive: true, force: true });
}

const f = (x: unknown, d = 2) => (typeof x === 'number' ? x.toFixed(d) : '-');
console.log(
  '| collection | docs | postings | doc-id bits/posting none → bp | build s none / bp (BP part) | peak RSS MiB none / bp |',
);
console.log('|---|---|---|---|---|---|');
for (const r of report)
  console.log(
    `| ${r.collection} | ${r.docs} | ${r.postings} | ${f(r.builds.none.docIdBits)} → ${f(r.builds.bp.docIdBits)} | ${f(r.builds.none.seconds, 1)} / ${f(r.builds.bp.seconds, 1)} (${f(r.builds.bp.reorderSeconds, 1)}) | ${f(r.builds.none.peakRssMiB, 0)} / ${f(r.builds.bp.peakRssMiB, 0)} |`,
  );
const pct = (x: number): string => (x * 100).toFixed(1) + '%';
const exactness = (b: NonNullable<Entry['baseline']>): string =>
  `${pct(b.bmpTop10SetEqualsFloatExact)} / ${pct(b.bmpTop10EqualsFloatExact)}; ${pct(b.authorsTop10SetEqualsFloatExact)} / ${pct(b.authorsTop10EqualsFloatExact)}`;
console.log(
  '\n| collection | k | authors (numba f32) ms | Lion exhaustive ms | BMP input order ms | BMP after BP ms (p99) | BP BMP vs authors | top-10 = float-exact, set / order: BMP; authors | load |',
);
console.log('|---|---|---|---|---|---|---|---|---|');
for (const r of report)
  for (const row of r.rows) {
    const base = r.baseline ? (row.k === 10 ? r.baseline.k10Ms : r.baseline.k1000Ms) : undefined;
    console.log(
      `| ${r.collection} | ${row.k} | ${f(base)} | ${f(row.exhaustiveMs)} | ${f(row.bmpInputOrderMs)} | ${f(row.bmpBpMs)} (${f(row.bmpBpP99)}) | ${base ? (base / row.bmpBpMs).toFixed(1) + '×' : '-'} | ${row.k === 10 && r.baseline ? exactness(r.baseline) : ''} | ${r.loadavg.before} |`,
    );
  }
console.log(
  '\n| collection | MaxScore ms input order / BP | fastest alpha with recall@10 ≥ 0.95 | its ms | ms per million docs | curve (alpha: ms, recall) |',
);
console.log('|---|---|---|---|---|---|');
for (const r of report)
  console.log(
    `| ${r.collection} | ${r.maxscore ? `${f(r.maxscore.inputOrderMs)} / ${f(r.maxscore.bpMs)}` : '-'} | ${r.fastestAtRecall95?.alpha ?? '-'} | ${f(r.fastestAtRecall95?.ms)} | ${f(r.fastestAtRecall95?.msPerMillionDocs)} | ${r.approx.map((x) => `${x.alpha}: ${f(x.ms)}, ${f(x.recall10, 3)}`).join('; ')} |`,
  );
