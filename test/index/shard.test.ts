// Sharded encoding: `lion encode --shard i/N` files laid end to end are the one-pass file, and one
// index built from them (--vectors a,b,c) is the one-pass index; `lion index --model --shard` shards
// index to the index `lion index --model` builds in one pass. (Sparse vectors keep their top 24
// weights here: a random tiny model's are dense over the 128k-term vocabulary.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { HfTokenizer } from '../../src/text/hf-tokenizer.ts';
import { makeModel, resolveTokenizer } from '../../src/model/make-model.ts';
import { runEncode, type EncodeFlags } from '../../src/cli/commands/encode.ts';
import { runIndex, runIndexShard, type IndexFlags } from '../../src/cli/commands/index.ts';
import { parseShard, shardRange } from '../../src/parallel/shard.ts';

const work = mkdtempSync(path.join(tmpdir(), 'lion-shard-'));
process.on('exit', () => rmSync(work, { recursive: true, force: true }));
const model = path.join(work, 'model');
makeModel(model, { hidden: 32, layers: 2, heads: 4, intermediate: 64 }, HfTokenizer.fromFile(resolveTokenizer('llama3')), 2);
const words = 'protein cell gene cancer virus drug brain blood heart lung liver bone skin muscle immune'.split(' ');
const corpus = path.join(work, 'corpus.jsonl');
writeFileSync(corpus, Array.from({ length: 140 }, (_, i) => JSON.stringify({ _id: `d${i}`, title: i % 4 ? '' : `T${i}`, text: Array.from({ length: 3 + ((i * 7) % 11) }, (_, k) => words[(i + k * 5) % words.length]).join(' ') })).join('\n') + '\n');

test('shard ranges: whole groups, in order, covering every item once', () => {
  assert.deepEqual(parseShard('encode', '1/3'), { index: 1, count: 3 });
  assert.throws(() => parseShard('encode', '3/3'), /--shard must be i\/N with 0 <= i < N, got '3\/3'/);
  assert.throws(() => parseShard('encode', 'x'), /hint: --shard 0\/4/);
  for (const [total, group, n] of [[70, 32, 3], [70, 32, 5], [64, 8, 4], [1, 8, 2]] as const) {
    const ranges = Array.from({ length: n }, (_, i) => shardRange({ index: i, count: n }, total, group));
    assert.equal(ranges[0]!.start, 0);
    assert.equal(ranges.at(-1)!.end, total);
    ranges.forEach((r, i) => {
      if (i > 0) assert.equal(r.start, ranges[i - 1]!.end);
      assert.ok(r.start % group === 0 || r.start === total);
    });
  }
});

function indexFiles(dir: string): Map<string, Buffer> {
  // Everything but the manifest, which records where the vectors came from and when.
  return new Map(readdirSync(dir).filter((n) => n !== 'manifest.json').sort().map((n) => [n, readFileSync(path.join(dir, n))]));
}
function sameIndex(a: string, b: string): void {
  const fa = indexFiles(a);
  const fb = indexFiles(b);
  assert.deepEqual([...fa.keys()], [...fb.keys()]);
  assert.ok(fa.size > 1);
  for (const [n, x] of fa) assert.ok(x.equals(fb.get(n)!), `${n} differs`);
  const ma = JSON.parse(readFileSync(path.join(a, 'manifest.json'), 'utf8')) as { counts: unknown };
  const mb = JSON.parse(readFileSync(path.join(b, 'manifest.json'), 'utf8')) as { counts: unknown };
  assert.deepEqual(ma.counts, mb.counts);
}

const indexFlags = (paradigm: 'sparse' | 'dense', output: string, o: Partial<IndexFlags>): IndexFlags => ({ paradigm, output, bits: '8', docBlock: '32', bufferPostings: String(1 << 20), dtype: 'f32', batchSize: '2', docText: 'authors', ...o });

for (const paradigm of ['sparse', 'dense'] as const) {
  test(`${paradigm}: lion encode --shard i/3 files + lion index --vectors a,b,c = the one-pass file and index`, async () => {
    const enc = (output: string, shard?: string): Promise<unknown> => runEncode({ model, paradigm, kind: 'doc', batchSize: '2', input: corpus, output, docText: 'authors', ...(paradigm === 'sparse' ? { topK: '24' } : {}), ...(shard ? { shard } : {}) } as EncodeFlags);
    const one = path.join(work, `${paradigm}-one.jsonl`);
    await enc(one);
    const shards = [0, 1, 2].map((i) => path.join(work, `${paradigm}-shard${i}.jsonl`));
    for (const [i, s] of shards.entries()) await enc(s, `${i}/3`);
    const parts = shards.map((s) => readFileSync(s, 'utf8'));
    assert.ok(parts.every((p) => p.length > 0), 'every shard has documents');
    assert.equal(parts.join(''), readFileSync(one, 'utf8'), 'the shards laid end to end are the one-pass file, byte for byte');
    await runIndex(indexFlags(paradigm, path.join(work, `${paradigm}-idx-one`), { vectors: one }));
    await runIndex(indexFlags(paradigm, path.join(work, `${paradigm}-idx-shards`), { vectors: shards.join(',') }));
    sameIndex(path.join(work, `${paradigm}-idx-one`), path.join(work, `${paradigm}-idx-shards`));
  });
}

test('lion index --model --shard i/2 vectors, indexed together, = lion index --model in one pass', async () => {
  await runIndex(indexFlags('dense', path.join(work, 'm-one'), { model, corpus }));
  const shards = [0, 1].map((i) => path.join(work, `m-shard${i}.jsonl`));
  let n = 0;
  for (const [i, s] of shards.entries()) n += await runIndexShard(indexFlags('dense', s, { model, corpus, shard: `${i}/2` }));
  assert.equal(n, 140);
  await runIndex(indexFlags('dense', path.join(work, 'm-shards'), { vectors: shards.join(',') }));
  sameIndex(path.join(work, 'm-one'), path.join(work, 'm-shards'));
});
