/**
 * A sparse index's vocabulary: declared from the model (so any id below it is a valid query term),
 * or guessed as the largest indexed id + 1 (so ids beyond it are terms no document holds). Either way a
 * query term without postings contributes nothing; only an id beyond a declared vocabulary is an error.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readFileSync, writeFileSync } from 'node:fs';
import { buildSparseIndex } from '../../src/index/sparse/build.ts';
import { SparseIndex, SPARSE_ALGORITHMS } from '../../src/index/sparse/index.ts';
import { searchIndex } from '../../src/index/search.ts';
import { runIndex } from '../../src/cli/commands/index.ts';
import { SyntheticSparse } from '../../src/index/synthetic.ts';
import type { SparseVector } from '../../src/index/types.ts';
import { tmp } from './helpers.ts';

// Documents use term ids below 400 only.
const gen = new SyntheticSparse({ vocabSize: 400, topics: 8, seed: 21 });
const docs = Array.from({ length: 300 }, (_, i) => ({ id: `d${i}`, vector: gen.vectorAround(20) }));
const maxDocTerm = Math.max(...docs.map((d) => d.vector.indices[d.vector.indices.length - 1]!));
const queries = Array.from({ length: 80 }, () => gen.vectorAround(8));

/** `q` with extra terms of the given ids (weight = the query's largest, so they would matter). */
function withTerms(q: SparseVector, extra: number[]): SparseVector {
  const max = Math.max(...q.values);
  const m = new Map<number, number>();
  q.indices.forEach((t, i) => m.set(t, q.values[i]!));
  for (const t of extra) if (!m.has(t)) m.set(t, max);
  const ids = [...m.keys()].sort((a, b) => a - b);
  return { indices: Uint32Array.from(ids), values: Float32Array.from(ids.map((t) => m.get(t)!)) };
}

async function build(vocabSize?: number): Promise<SparseIndex> {
  const dir = join(tmp(), 'idx');
  await buildSparseIndex(dir, docs, vocabSize === undefined ? {} : { vocabSize });
  return SparseIndex.load(dir);
}

test('declared vocabulary: an in-vocabulary term no document holds contributes nothing, in every algorithm', async () => {
  const idx = await build(128256);
  assert.equal(idx.manifest.sparse!.vocabSize, 128256);
  assert.equal(idx.manifest.sparse!.vocabDeclared, true);
  for (const algorithm of SPARSE_ALGORITHMS)
    for (const q of queries.slice(0, 20)) {
      const plain = idx.searchRaw(q, 10, { algorithm });
      const extra = idx.searchRaw(withTerms(q, [4087, 128255]), 10, { algorithm });
      assert.deepEqual(Array.from(extra.docs), Array.from(plain.docs), algorithm);
      assert.deepEqual(Array.from(extra.scores), Array.from(plain.scores), algorithm);
    }
  // beyond the declared vocabulary: vectors from another model
  assert.throws(
    () => idx.searchRaw(withTerms(queries[0]!, [128256]), 10),
    /term id '128256' but the index's vocabulary has 128256 terms/,
  );
});

test('undeclared vocabulary: ids beyond the largest indexed id are not an error (worker threads too)', async () => {
  const idx = await build();
  assert.equal(idx.manifest.sparse!.vocabSize, maxDocTerm + 1);
  assert.equal(idx.manifest.sparse!.vocabDeclared, false);
  const asItems = (f: (q: SparseVector) => SparseVector) => queries.map((q, i) => ({ id: `q${i}`, vector: f(q) }));
  const plain = await searchIndex(idx, asItems((q) => q), { k: 10, threads: 1 });
  // more than 64 queries with threads: the worker pool's path
  const extra = await searchIndex(idx, asItems((q) => withTerms(q, [maxDocTerm + 1, 4087, 128000])), { k: 10, threads: 2 });
  assert.deepEqual(extra, plain);
  // a query made only of unknown terms finds nothing rather than failing
  const none = idx.searchRaw({ indices: Uint32Array.from([maxDocTerm + 5]), values: Float32Array.from([2]) }, 10);
  assert.equal(none.docs.length, 0);
});

test('lion index declares the vocabulary from a vector file sidecar or _meta line', async () => {
  const dir = tmp();
  const body = docs.map((d) => JSON.stringify({ id: d.id, indices: Array.from(d.vector.indices), values: Array.from(d.vector.values) }));
  const withSidecar = join(dir, 'a.jsonl');
  writeFileSync(withSidecar, body.join('\n') + '\n');
  writeFileSync(`${withSidecar}.meta.json`, JSON.stringify({ model: 'm', paradigm: 'sparse', vocabSize: 5000 }));
  const withLine = join(dir, 'b.jsonl');
  writeFileSync(withLine, [JSON.stringify({ _meta: { model: 'm', paradigm: 'sparse', vocabSize: 6000 } }), ...body].join('\n') + '\n');
  const common = { paradigm: 'sparse' as const, bits: '8', docBlock: '32', bufferPostings: String(1 << 20), dtype: 'f32' as const, batchSize: '8', docText: 'authors' as const, device: 'cpu', modelDtype: 'f32' };
  for (const [file, V] of [[withSidecar, 5000], [withLine, 6000]] as const) {
    const out = join(dir, `idx-${V}`);
    const m = await runIndex({ ...common, vectors: file, output: out });
    assert.equal(m.sparse!.vocabSize, V);
    assert.equal(m.sparse!.vocabDeclared, true);
    const onDisk = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
    assert.equal(onDisk.identity.vocabSize, undefined, 'the vocabulary is a parameter, not part of the identity');
  }
  // a declared vocabulary smaller than the documents' ids is refused by name
  writeFileSync(`${withSidecar}.meta.json`, JSON.stringify({ paradigm: 'sparse', vocabSize: 10 }));
  await assert.rejects(runIndex({ ...common, vectors: withSidecar, output: join(dir, 'bad') }), /outside the vocabulary of 10 terms/);
});
