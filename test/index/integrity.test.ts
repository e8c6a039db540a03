import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { cpSync, readFileSync, writeFileSync, truncateSync, statSync, existsSync, readdirSync } from 'node:fs';
import { buildSparseIndex } from '../../src/index/sparse/build.ts';
import { SparseIndex } from '../../src/index/sparse/index.ts';
import { buildDenseIndex } from '../../src/index/dense/build.ts';
import { DenseIndex } from '../../src/index/dense/index.ts';
import { searchIndex, SparsePool } from '../../src/index/search.ts';
import { SyntheticSparse } from '../../src/index/synthetic.ts';
import { tmp } from './helpers.ts';

const gen = new SyntheticSparse({ vocabSize: 2000, topics: 10, seed: 9 });
const docs = Array.from({ length: 2000 }, (_, i) => ({ id: `doc-${i}`, vector: gen.vectorAround(30) }));
const queries = Array.from({ length: 300 }, (_, i) => ({ id: `q${i}`, vector: gen.vectorAround(10) }));
const identity = { model: 'lion-sp-test', tokenizer: 'tokenizer.json', tokenizerHash: 'abc123' };

async function fresh(): Promise<string> {
  const dir = join(tmp(), 'idx');
  await buildSparseIndex(dir, docs, { vocabSize: 2000, identity });
  return dir;
}

test('a bit flip in any index file is caught by its checksum', async () => {
  const base = await fresh();
  for (const name of ['postings.bin', 'forward.bin', 'blockmax.bin', 'docids.jsonl']) {
    const dir = join(tmp(), 'flip');
    cpSync(base, dir, { recursive: true });
    const p = join(dir, name);
    const bytes = readFileSync(p);
    bytes[Math.floor(bytes.length / 2)]! ^= 0x10;
    writeFileSync(p, bytes);
    assert.throws(
      () => SparseIndex.load(dir),
      new RegExp(`${name.replace('.', '\\.')}' fails its checksum .*corrupted; hint: rebuild`),
      name,
    );
  }
});

test('a truncated index file is detected with a clear message', async () => {
  const dir = await fresh();
  const p = join(dir, 'postings.bin');
  truncateSync(p, statSync(p).size - 100);
  assert.throws(
    () => SparseIndex.load(dir),
    /postings\.bin' has \d+ bytes, its manifest says \d+: the file is truncated/,
  );
});

test('an unknown format version and a missing manifest are refused', async () => {
  const dir = await fresh();
  const m = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ ...m, formatVersion: 99 }));
  assert.throws(() => SparseIndex.load(dir), /format version 99; this Lion reads version 1/);
  assert.throws(() => SparseIndex.load(tmp()), /missing manifest\.json/);
});

test('the build is atomic: no temporary folders are left, a rebuild replaces the index', async () => {
  const dir = await fresh();
  // Replacing an existing index needs overwrite (the CLI's --overwrite); without it the old one stays.
  await assert.rejects(buildSparseIndex(dir, docs.slice(0, 10), { vocabSize: 2000 }), /already holds a Lion index; hint: pass --overwrite/);
  assert.equal(SparseIndex.load(dir).size, docs.length);
  await buildSparseIndex(dir, docs.slice(0, 10), { vocabSize: 2000, overwrite: true });
  assert.equal(SparseIndex.load(dir).size, 10);
  assert.deepEqual(
    readdirSync(join(dir, '..')).filter((f) => f.startsWith('.')),
    [],
  );
  assert.ok(!existsSync(join(dir, '.build')));
});

test('queries from another model or tokenizer are refused', async () => {
  const idx = SparseIndex.load(await fresh());
  const q = [queries[0]!];
  await assert.rejects(
    searchIndex(idx, q, { k: 5, identity: { model: 'other-model' } }),
    /query vectors come from model 'other-model' but index .* was built from model 'lion-sp-test'/,
  );
  await assert.rejects(
    searchIndex(idx, q, { k: 5, identity: { tokenizer: 'x.json', tokenizerHash: 'fff' } }),
    /tokenizerHash 'fff'/,
  );
  // same fingerprint, other file name (another machine): accepted
  const ok = await searchIndex(idx, q, {
    k: 5,
    identity: { tokenizer: 'elsewhere.json', tokenizerHash: 'abc123', model: 'lion-sp-test' },
  });
  assert.equal(ok.get('q0')!.length, 5);
  // a term id beyond the vocabulary means another tokenizer
  await assert.rejects(
    searchIndex(
      idx,
      [{ id: 'x', vector: { indices: Uint32Array.from([5, 128000]), values: Float32Array.from([1, 1]) } }],
      { k: 5 },
    ),
    /term id '128000' but the index's vocabulary has 2000 terms; hint: the query vectors come from another tokenizer/,
  );
});

test('two concurrent searches (worker pools and this thread) give identical runs', async () => {
  const dir = await fresh();
  const shared = SparseIndex.load(dir, { shared: true });
  const plain = SparseIndex.load(dir);
  const [a, b, c] = await Promise.all([
    searchIndex(shared, queries, { k: 100, threads: 2 }),
    searchIndex(shared, queries, { k: 100, threads: 2 }),
    searchIndex(plain, queries, { k: 100, threads: 1, algorithm: 'exhaustive' }),
  ]);
  assert.deepEqual(a, b);
  assert.deepEqual(a, c);
  const pool = new SparsePool(shared, 2);
  try {
    const [x, y] = await Promise.all([
      pool.search(
        queries.map((q) => q.vector),
        10,
      ),
      pool.search(
        queries.map((q) => q.vector),
        10,
      ),
    ]);
    assert.deepEqual(x, y);
  } finally {
    await pool.close();
  }
});

test('dense indexes check their files and query dimensions too', async () => {
  const dir = join(tmp(), 'dense');
  await buildDenseIndex(
    dir,
    Array.from({ length: 50 }, (_, i) => ({
      id: `e${i}`,
      vector: Float32Array.from({ length: 8 }, (_, j) => Math.sin(i + j)),
    })),
    { identity: { model: 'lion-ds-test' } },
  );
  const idx = DenseIndex.load(dir);
  await assert.rejects(
    searchIndex(idx, [{ id: 'q', vector: new Float32Array(16) }], { k: 3, backend: 'js' }),
    /query 0 has dimension 16 but index .* has 8; hint: the query vectors come from another model/,
  );
  await assert.rejects(
    searchIndex(idx, [{ id: 'q', vector: new Float32Array(8) }], { k: 3, backend: 'js', identity: { model: 'm2' } }),
    /from model 'm2'/,
  );
  const p = join(dir, 'vectors.bin');
  const bytes = readFileSync(p);
  bytes[40]! ^= 1;
  writeFileSync(p, bytes);
  assert.throws(() => DenseIndex.load(dir), /vectors\.bin' fails its checksum/);
});

test('file checksums stream: a file of several read pieces hashes as one buffer does', async () => {
  const { hashFile, sha256 } = await import('../../src/index/format.ts');
  const { createHash } = await import('node:crypto');
  // 40 MiB + 3 bytes: two whole 16 MiB pieces and a ragged tail
  const bytes = new Uint8Array(40 * 2 ** 20 + 3);
  for (let i = 0; i < bytes.length; i += 4093) bytes[i] = (i * 7) & 255;
  const path = join(tmp(), 'big.bin');
  writeFileSync(path, bytes);
  const want = createHash('sha256').update(bytes).digest('hex');
  assert.deepEqual(hashFile(path), { bytes: bytes.length, sha256: want });
  assert.equal(sha256(bytes), want);
  assert.equal(sha256(new Uint8Array(0)), createHash('sha256').digest('hex'));
});
