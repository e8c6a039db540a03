import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { buildDenseIndex } from '../../src/index/dense/build.ts';
import { DenseIndex } from '../../src/index/dense/index.ts';
import { fromHalf, toHalf } from '../../src/index/dense/f16.ts';
import { rng } from '../../src/index/synthetic.ts';
import { tmp } from './helpers.ts';

const N = 5000;
const D = 64;
const r = rng(42);
const rows = Array.from({ length: N }, () => Float32Array.from({ length: D }, () => r() * 2 - 1));
const queries = Array.from({ length: 20 }, () => Float32Array.from({ length: D }, () => r() * 2 - 1));

/** Float64 brute force, ties by doc number. */
function brute(q: Float32Array, k: number, data = rows): { docs: number[]; scores: number[] } {
  const s = data.map((v, i) => {
    let x = 0;
    for (let j = 0; j < D; j++) x += v[j]! * q[j]!;
    return [x, i] as const;
  });
  s.sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  return { docs: s.slice(0, k).map((x) => x[1]), scores: s.slice(0, k).map((x) => x[0]) };
}

/** Batched, or one query per call (libtorch's matrix-vector path). */
async function search(
  idx: DenseIndex,
  qs: Float32Array[],
  k: number,
  mode: 'torch' | 'torch one by one' | 'js',
  blockRows: number,
) {
  if (mode !== 'torch one by one') return idx.searchBatch(qs, k, { backend: mode, blockRows });
  const out = [];
  for (const q of qs) out.push(...(await idx.searchBatch([q], k, { backend: 'torch', blockRows })));
  return out;
}

async function build(dtype: 'f32' | 'f16' | 'int8'): Promise<DenseIndex> {
  const dir = join(tmp(), dtype);
  await buildDenseIndex(
    dir,
    rows.map((v, i) => ({ id: `d${i}`, vector: v })),
    { dtype },
  );
  return DenseIndex.load(dir);
}

test('dense f32 exact top-k equals float64 brute force, torch and js, in blocks', async () => {
  const idx = await build('f32');
  for (const mode of ['torch', 'torch one by one', 'js'] as const) {
    for (const k of [1, 10, 100]) {
      // block sizes that do not divide N exercise the merging across blocks; one query alone takes
      // libtorch's matrix-vector path
      const res = await search(idx, queries, k, mode, 777);
      res.forEach((got, qi) => {
        const want = brute(queries[qi]!, k);
        assert.deepEqual(Array.from(got.docs), want.docs, `${mode} k=${k} q=${qi}`);
        got.scores.forEach((s, i) =>
          assert.ok(Math.abs(s - want.scores[i]!) < 1e-5, `${mode} score ${s} vs ${want.scores[i]}`),
        );
      });
    }
  }
  idx.close();
});

test('f16 and int8 storage stay close to exact', async () => {
  for (const [dtype, tol] of [
    ['f16', 0.02],
    ['int8', 0.2],
  ] as const) {
    const idx = await build(dtype);
    const res = await idx.searchBatch(queries, 10, { backend: 'js' });
    // libtorch widens the stored rows itself: same top-k as the JS path
    const viaTorch = await idx.searchBatch(queries, 10, { backend: 'torch', blockRows: 1000 });
    viaTorch.forEach((t, i) => {
      assert.deepEqual(Array.from(t.docs), Array.from(res[i]!.docs), `${dtype} torch vs js`);
      t.scores.forEach((x, j) => assert.ok(Math.abs(x - res[i]!.scores[j]!) < 1e-4));
    });
    idx.close();
    let overlap = 0;
    res.forEach((got, qi) => {
      const want = brute(queries[qi]!, 10);
      overlap += Array.from(got.docs).filter((d) => want.docs.includes(d)).length / 10;
      // the returned scores are exact for the stored (rounded) rows: compare with float64 over them
      const stored = idx.rows(0, N);
      const d0 = got.docs[0]!;
      let s = 0;
      for (let j = 0; j < D; j++) s += stored[d0 * D + j]! * queries[qi]![j]!;
      assert.ok(Math.abs(s - got.scores[0]!) < 1e-4);
      assert.ok(Math.abs(got.scores[0]! - want.scores[0]!) < tol, `${dtype}: ${got.scores[0]} vs ${want.scores[0]}`);
    });
    overlap /= queries.length;
    assert.ok(overlap >= (dtype === 'f16' ? 0.95 : 0.8), `${dtype} overlap@10 ${overlap}`);
  }
});

test('half-precision conversion rounds to nearest even and keeps specials', () => {
  for (const v of [0, 1, -2, 0.5, 65504, 6.103515625e-5, 5.960464477539063e-8]) assert.equal(fromHalf(toHalf(v)), v);
  assert.equal(fromHalf(toHalf(1 + 2 ** -11)), 1); // halfway rounds to even
  assert.equal(fromHalf(toHalf(1 + 3 * 2 ** -11)), 1 + 2 ** -9);
  assert.equal(fromHalf(toHalf(1e6)), Infinity);
  assert.ok(Number.isNaN(fromHalf(toHalf(NaN))));
});

test('ties across the k-th place go to the smaller doc number (selection inside libtorch and in JS)', async () => {
  // small integer coordinates: many exactly equal inner products, all exact in float32
  const t = rng(9);
  const ints = Array.from({ length: 3000 }, () => Float32Array.from({ length: D }, () => Math.floor(t() * 3) - 1));
  const dir = join(tmp(), 'ties');
  await buildDenseIndex(
    dir,
    ints.map((v, i) => ({ id: `d${i}`, vector: v })),
    { dtype: 'f32' },
  );
  const idx = DenseIndex.load(dir);
  const qs = Array.from({ length: 8 }, () => Float32Array.from({ length: D }, () => Math.floor(t() * 3) - 1));
  let tied = 0;
  for (const k of [1, 7, 50]) {
    for (const backend of ['torch', 'torch one by one', 'js'] as const) {
      const res = await search(idx, qs, k, backend, 512);
      res.forEach((got, qi) => {
        const want = brute(qs[qi]!, k, ints);
        assert.deepEqual(Array.from(got.docs), want.docs, `${backend} k=${k} q=${qi}`);
        if (want.scores.filter((s) => s === want.scores[k - 1]).length > 1) tied++;
      });
    }
  }
  assert.ok(tied > 0, 'the data must produce ties at the k-th place');
  idx.close();
});
