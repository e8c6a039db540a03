import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { buildSparseIndex } from '../../src/index/sparse/build.ts';
import { SparseIndex, SPARSE_ALGORITHMS } from '../../src/index/sparse/index.ts';
import type { BmpStats } from '../../src/index/query/bmp.ts';
import { SyntheticSparse } from '../../src/index/synthetic.ts';
import type { SparseVector } from '../../src/index/types.ts';
import { bruteForce, tmp } from './helpers.ts';

function corpus(n: number, opts: { vocab: number; topics: number; seed: number; nnz: number }) {
  const g = new SyntheticSparse({ vocabSize: opts.vocab, topics: opts.topics, seed: opts.seed });
  const docs = Array.from({ length: n }, () => g.vectorAround(opts.nnz));
  const queries = Array.from({ length: 40 }, () => g.vectorAround(Math.max(2, opts.nnz / 3)));
  return { docs, queries };
}

async function build(docs: SparseVector[], opts: Parameters<typeof buildSparseIndex>[2]) {
  const dir = join(tmp(), 'idx');
  await buildSparseIndex(
    dir,
    docs.map((v, i) => ({ id: `d${i}`, vector: v })),
    opts,
  );
  return SparseIndex.load(dir);
}

// Shapes that reach every code path: several spill runs (tiny buffer), 1-document blocks, blocks
// larger than the corpus, 16-bit impacts, a vocabulary larger than the terms used.
const CASES = [
  {
    name: '8-bit, doc block 32, 5 spill runs',
    n: 3000,
    bits: 8 as const,
    docBlock: 32,
    buffer: 20_000,
    vocab: 3000,
    topics: 20,
    nnz: 30,
  },
  {
    name: '16-bit, doc block 1',
    n: 700,
    bits: 16 as const,
    docBlock: 1,
    buffer: 1 << 20,
    vocab: 500,
    topics: 0,
    nnz: 20,
  },
  {
    name: '8-bit, doc block 256 > N',
    n: 150,
    bits: 8 as const,
    docBlock: 256,
    buffer: 1 << 20,
    vocab: 5000,
    topics: 3,
    nnz: 12,
  },
];

for (const c of CASES) {
  test(`every algorithm equals the brute-force reference (${c.name})`, async () => {
    const { docs, queries } = corpus(c.n, { vocab: c.vocab, topics: c.topics, seed: c.n, nnz: c.nnz });
    const idx = await build(docs, { bits: c.bits, docBlock: c.docBlock, bufferPostings: c.buffer, vocabSize: c.vocab });
    assert.equal(idx.size, c.n);
    assert.equal(
      idx.postings,
      docs.reduce((a, d) => a + d.indices.length, 0),
    );
    for (const k of [1, 10, 100, 1000]) {
      for (const q of queries) {
        const ref = bruteForce(docs, q, k, c.bits);
        const qq = idx.quantize(q);
        for (const algorithm of SPARSE_ALGORITHMS) {
          const r = idx.searchRaw(q, k, { algorithm });
          assert.deepEqual(Array.from(r.docs), ref.docs, `${algorithm} k=${k}`);
          assert.deepEqual(
            Array.from(r.scores),
            ref.ints.map((s) => s * qq.scoreScale),
            `${algorithm} k=${k} scores`,
          );
        }
        // without the cost-based hand-over, BMP alone must still be exact
        assert.deepEqual(Array.from(idx.searchRaw(q, k, { algorithm: 'bmp', fallback: false }).docs), ref.docs);
      }
    }
  });
}

test('ties are broken by document number in every algorithm', async () => {
  const v: SparseVector = { indices: Uint32Array.from([3, 7, 9]), values: Float32Array.from([0.5, 1, 2]) };
  const other: SparseVector = { indices: Uint32Array.from([7]), values: Float32Array.from([1]) };
  // 300 copies of the same vector, interleaved with another: every copy ties
  const docs = Array.from({ length: 600 }, (_, i) => (i % 2 ? v : other));
  const idx = await build(docs, { docBlock: 16, vocabSize: 10 });
  for (const o of [
    ...SPARSE_ALGORITHMS.map((algorithm) => ({ algorithm })),
    { algorithm: 'bmp' as const, fallback: false },
  ]) {
    const r = idx.searchRaw({ indices: Uint32Array.from([7, 9]), values: Float32Array.from([1, 1]) }, 50, o);
    assert.deepEqual(
      Array.from(r.docs),
      Array.from({ length: 50 }, (_, i) => 2 * i + 1),
      JSON.stringify(o),
    );
  }
});

test("BMP's first cost check: a tiny collection goes straight to exhaustive scoring, a larger one is block-scored, results unchanged", async () => {
  const small = corpus(150, { vocab: 500, topics: 3, seed: 5, nnz: 12 });
  const large = corpus(20000, { vocab: 20000, topics: 200, seed: 6, nnz: 60 });
  for (const [c, vocabSize] of [
    [small, 500],
    [large, 20000],
  ] as const) {
    const idx = await build(c.docs, { vocabSize });
    let handed = 0;
    for (const q of c.queries) {
      const stats: BmpStats = { blocksScored: -1, blocksWithBound: -1, fellBack: false };
      const r = idx.searchRaw(q, 10, { algorithm: 'bmp' }, stats);
      assert.deepEqual(r, idx.searchRaw(q, 10, { algorithm: 'exhaustive' }));
      if (stats.fellBack && stats.blocksScored === 0) handed++;
    }
    if (c === small)
      assert.equal(handed, c.queries.length, 'every query of the tiny collection is handed over at once');
    else assert.ok(handed < c.queries.length, `larger collection: all ${handed} queries handed over at once`);
  }
});

test('BMP remembers a depth at which the probe keeps handing queries over: it skips the probe, re-checking one query in 16', async () => {
  const g = new SyntheticSparse({ vocabSize: 20000, topics: 200, seed: 6 });
  const docs = Array.from({ length: 20000 }, () => g.vectorAround(60));
  const queries = Array.from({ length: 80 }, () => g.vectorAround(20));
  const idx = await build(docs, { vocabSize: 20000 });
  const probed: number[] = [];
  queries.forEach((q, i) => {
    const stats: BmpStats = { blocksScored: -1, blocksWithBound: -1, fellBack: false };
    const r = idx.searchRaw(q, 1000, {}, stats);
    assert.deepEqual(r, idx.searchRaw(q, 1000, { algorithm: 'exhaustive' }), `query ${i}`);
    // at k = 1000 on this collection every query that reaches the probe is handed over after it
    if (stats.blocksScored > 0) probed.push(i);
  });
  assert.ok(probed.length > 8, `only ${probed.length} queries probed`);
  const after = probed.slice(8);
  const left = queries.length - 1 - probed[7]!;
  assert.ok(
    after.length >= 1 && after.length <= Math.ceil(left / 16),
    `${after.length} probes in the last ${left} queries`,
  );
  // another depth keeps its own record
  const stats: BmpStats = { blocksScored: -1, blocksWithBound: -1, fellBack: false };
  idx.searchRaw(queries[probed[0]!]!, 10, {}, stats);
  assert.ok(stats.blocksScored > 0, 'k = 10 is still block-scored');
});

test('approximate BMP: alpha = 1 is exact, lower alpha keeps a subset of plausible hits', async () => {
  const { docs, queries } = corpus(4000, { vocab: 4000, topics: 40, seed: 11, nnz: 40 });
  const idx = await build(docs, { vocabSize: 4000 });
  let recall = 0;
  for (const q of queries) {
    const exact = idx.searchRaw(q, 10, { algorithm: 'exhaustive' });
    assert.deepEqual(idx.searchRaw(q, 10, { alpha: 1 }).docs, exact.docs);
    const approx = idx.searchRaw(q, 10, { alpha: 0.5, fallback: false });
    const set = new Set(exact.docs);
    recall += Array.from(approx.docs).filter((d) => set.has(d)).length / exact.docs.length;
    // approximate scores are true scores of real documents, never inflated
    for (let i = 0; i < approx.docs.length; i++) assert.ok(approx.scores[i]! <= exact.scores[0]! + 1e-9);
  }
  recall /= queries.length;
  assert.ok(recall > 0.3 && recall <= 1, `recall ${recall}`);
});

test('the forward index gives back each document (impact-quantised)', async () => {
  const { docs } = corpus(300, { vocab: 1000, topics: 0, seed: 5, nnz: 25 });
  const idx = await build(docs, { docBlock: 8, vocabSize: 1000 });
  const scale = idx.manifest.sparse!.scale;
  for (const i of [0, 7, 8, 150, 299]) {
    const d = idx.document(i);
    assert.deepEqual(d.indices, docs[i]!.indices);
    d.values.forEach((v, j) => assert.ok(Math.abs(v - docs[i]!.values[j]!) <= scale / 2 + 1e-6, `doc ${i} term ${j}`));
  }
});

test('bad input is refused with file:line style messages', async () => {
  const dir = join(tmp(), 'bad');
  const bad = (vector: SparseVector) =>
    buildSparseIndex(dir, [{ id: 'a', vector, where: 'docs.jsonl:3' }], { vocabSize: 10 });
  await assert.rejects(
    bad({ indices: Uint32Array.from([2, 1]), values: Float32Array.from([1, 1]) }),
    /docs\.jsonl:3 has indices out of order/,
  );
  await assert.rejects(
    bad({ indices: Uint32Array.from([12]), values: Float32Array.from([1]) }),
    /term id '12' outside the vocabulary of 10/,
  );
  await assert.rejects(bad({ indices: Uint32Array.from([1]), values: Float32Array.from([-1]) }), /non-negative/);
  const v = { indices: Uint32Array.from([1]), values: Float32Array.from([1]) };
  await assert.rejects(
    buildSparseIndex(dir, [
      { id: 'a', vector: v },
      { id: 'a', vector: v },
    ]),
    /duplicate document id 'a'/,
  );
});
