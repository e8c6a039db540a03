/**
 * Dense flat index benchmark: exact inner-product top-k over 100k × 512 f32 documents (and f16 / int8
 * storage), libtorch matmul vs the plain JavaScript loop, at several query batch sizes. Checks the top-k
 * against a float64 brute force first.
 *
 *   node --import tsx bench/index-dense.ts [--docs 100000] [--dim 512] [--k 10]
 *
 * Writes bench/out/index-dense.json and prints a Markdown table.
 * @module
 */
import { mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { buildDenseIndex } from '../src/index/dense/build.ts';
import { DenseIndex } from '../src/index/dense/index.ts';
import { rng } from '../src/index/synthetic.ts';
import { getNumThreads } from '../src/torch/index.ts';

const { values: a } = parseArgs({
  options: {
    docs: { type: 'string', default: '100000' },
    dim: { type: 'string', default: '512' },
    k: { type: 'string', default: '10' },
  },
});
const N = Number(a.docs);
const D = Number(a.dim);
const K = Number(a.k);
const r = rng(5);
const gauss = () => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
const rows = Array.from({ length: N }, () => Float32Array.from({ length: D }, gauss));
const queries = Array.from({ length: 256 }, () => Float32Array.from({ length: D }, gauss));

const results: Record<string, unknown>[] = [];
for (const dtype of ['f32', 'f16', 'int8'] as const) {
  const dir = `/tmp/lion-bench-dense-${dtype}`;
  let t = performance.now();
  await buildDenseIndex(
    dir,
    rows.map((v, i) => ({ id: `d${i}`, vector: v })),
    { dtype },
  );
  const buildS = (performance.now() - t) / 1000;
  const idx = DenseIndex.load(dir);
  if (dtype === 'f32') {
    // exactness first: float64 brute force on 5 queries
    const got = await idx.searchBatch(queries.slice(0, 5), K);
    got.forEach((g, qi) => {
      const s = rows.map((v, i) => {
        let x = 0;
        for (let j = 0; j < D; j++) x += v[j]! * queries[qi]![j]!;
        return [x, i] as const;
      });
      s.sort((x, y) => y[0] - x[0] || x[1] - y[1]);
      const want = s.slice(0, K).map((x) => x[1]);
      if (want.join() !== Array.from(g.docs).join())
        throw new Error(`dense top-${K} differs from brute force on query ${qi}`);
    });
    console.error('f32 top-k equals float64 brute force on 5 queries');
  }
  for (const backend of ['torch', 'js'] as const) {
    for (const batch of backend === 'js' ? [1, 16] : [1, 16, 256]) {
      if (dtype !== 'f32' && backend === 'js' && batch > 1) continue;
      await idx.searchBatch(queries.slice(0, batch), K, { backend }); // warm-up (and the torch copy)
      const reps = Math.max(1, Math.min(20, Math.ceil(64 / batch)));
      t = performance.now();
      for (let i = 0; i < reps; i++) await idx.searchBatch(queries.slice(0, batch), K, { backend });
      const s = (performance.now() - t) / 1000;
      const row = { dtype, backend, batch, qps: (reps * batch) / s, msPerBatch: (s / reps) * 1000, buildS };
      results.push(row);
      console.error(JSON.stringify(row));
    }
  }
  idx.close();
  rmSync(dir, { recursive: true, force: true });
}
mkdirSync('bench/out', { recursive: true });
writeFileSync(
  'bench/out/index-dense.json',
  JSON.stringify(
    { date: new Date().toISOString(), docs: N, dim: D, k: K, torchThreads: getNumThreads(), results },
    null,
    2,
  ),
);
console.log(`| storage | backend | batch | queries/s | ms per batch |\n|---|---|---|---|---|`);
for (const x of results)
  console.log(
    `| ${x.dtype} | ${x.backend} | ${x.batch} | ${(x.qps as number).toFixed(1)} | ${(x.msPerBatch as number).toFixed(1)} |`,
  );
