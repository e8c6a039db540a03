// lion serve with a model: text queries equal `lion search --queries`, explain sums to the score,
// /v1/encode equals `lion encode`, long queries are cut and said so, concurrent encodes are batched,
// and the event loop answers while a forward pass runs.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { fuseRuns } from '../../src/index/hybrid.ts';
import { loadTokenizer } from '../../src/text/index.ts';
import { tmp } from '../index/helpers.ts';
import { lionRun, post, readRun, sameRanking, serve, tinySetup, type SearchReply, type Served, type TinySetup } from './helpers.ts';

const dir = tmp('lion-serve-model-');
let t: TinySetup;
let s: Served;
let queries: { id: string; text: string }[];
let tokenizer: ReturnType<typeof loadTokenizer>;
const TOL = 1e-4;

before(async () => {
  t = await tinySetup(dir, { docs: 60, queries: 10, dense: true });
  tokenizer = loadTokenizer(t.model);
  queries = readFileSync(t.queries, 'utf8').trim().split('\n').map((l) => {
    const q = JSON.parse(l) as { _id: string; text: string };
    return { id: q._id, text: q.text };
  });
  await Promise.all([
    lionRun(['search', '--index', t.sparse, '--model', t.model, '--queries', t.queries, '--k', '11', '--output', join(dir, 'sparse.trec')]),
    lionRun(['search', '--index', t.dense!, '--model', t.model, '--queries', t.queries, '--k', '11', '--output', join(dir, 'dense.trec')]),
    lionRun(['encode', '--model', t.model, '--paradigm', 'sparse', '--kind', 'query', '--input', t.queries, '--output', join(dir, 'sparse-q.jsonl')]),
    lionRun(['encode', '--model', t.model, '--paradigm', 'dense', '--kind', 'query', '--input', t.queries, '--output', join(dir, 'dense-q.jsonl')]),
  ]);
  s = await serve(['--index', t.sparse, '--index', t.dense!, '--model', t.model, '--corpus', t.corpus, '--max-wait-ms', '20', '--threads', '1']);
});
after(async () => {
  if (s) assert.equal(await s.stop(), 0, s.stderr());
});

const search = (b: object) => post<SearchReply>(`${s.url}/v1/search`, b);

test('text queries: sparse and dense hits equal lion search --queries --model', async () => {
  for (const index of ['sparse', 'dense'] as const) {
    const want = readRun(join(dir, `${index}.trec`));
    for (const q of queries) {
      const r = await search({ query: q.text, index });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.equal(r.body.index, index);
      assert.equal(r.body.hits.length, 10);
      const w = (want.get(q.id) ?? []).map((h) => ({ id: h.docId, score: h.score }));
      sameRanking(r.body.hits, w, TOL, `${index} ${q.id}`);
      assert.ok(r.body.hits.every((h) => typeof h.text === 'string' && h.text.length > 0), 'hits carry their text');
    }
  }
});

test('hybrid: with both indexes a text query is fused from the sparse and dense runs (RRF)', async () => {
  for (const q of queries.slice(0, 4)) {
    const [h, sp, de] = await Promise.all([search({ query: q.text, k: 5 }), search({ query: q.text, k: 5, index: 'sparse' }), search({ query: q.text, k: 5, index: 'dense' })]);
    assert.equal(h.body.index, 'hybrid');
    const run = (r: SearchReply) => new Map([['q', r.hits.map((x) => ({ docId: x.id, score: x.score }))]]);
    const want = fuseRuns(run(sp.body), run(de.body), { k: 5 }).get('q')!;
    assert.deepEqual(h.body.hits.map((x) => x.id), want.map((x) => x.docId));
    h.body.hits.forEach((x, i) => assert.ok(Math.abs(x.score - want[i]!.score) < 1e-12));
  }
});

test('explain: each shared term with token, weights and contribution; contributions sum to the score', async () => {
  for (const q of queries.slice(0, 3)) {
    const r = await search({ query: q.text, index: 'sparse', k: 3, explain: true });
    assert.ok(r.body.query_terms!.length > 0, 'expansion terms');
    assert.ok(r.body.query_terms!.every((x, i, a) => i === 0 || a[i - 1]!.weight >= x.weight), 'largest first');
    for (const hit of r.body.hits) {
      const e = await post<{ score: number; terms: { id: number; token: string; query_weight: number; doc_weight: number; contribution: number }[] }>(`${s.url}/v1/explain`, { query: q.text, id: hit.id });
      assert.equal(e.status, 200);
      assert.ok(Math.abs(e.body.score - hit.score) <= 1e-6 * hit.score, `explain ${e.body.score} vs search ${hit.score}`);
      const sum = e.body.terms.reduce((a, x) => a + x.contribution, 0);
      assert.ok(Math.abs(sum - e.body.score) <= 1e-4, `sum ${sum} vs score ${e.body.score}`);
      assert.ok(e.body.terms.length > 0);
      for (const x of e.body.terms) {
        assert.equal(x.token, tokenizer.idToToken(x.id), 'token strings from the model tokenizer');
        assert.ok(x.query_weight > 0 && x.doc_weight > 0 && x.contribution > 0);
      }
    }
  }
  const nf = await post<{ error: string }>(`${s.url}/v1/explain`, { query: 'x', id: 'missing' });
  assert.equal(nf.status, 404);
});

test('/v1/encode equals lion encode (sparse and dense query vectors)', async () => {
  const texts = queries.map((q) => q.text);
  const sp = await post<{ vectors: { indices: number[]; values: number[] }[]; truncated: boolean[] }>(`${s.url}/v1/encode`, { texts, kind: 'query', paradigm: 'sparse' });
  assert.equal(sp.status, 200);
  const spWant = readFileSync(join(dir, 'sparse-q.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { indices: number[]; values: number[] });
  sp.body.vectors.forEach((v, i) => {
    const a = new Map(v.indices.map((t, j) => [t, v.values[j]!]));
    const b = new Map(spWant[i]!.indices.map((t, j) => [t, spWant[i]!.values[j]!]));
    assert.ok(v.indices.every((x, j) => j === 0 || x > v.indices[j - 1]!), 'ascending');
    for (const term of new Set([...a.keys(), ...b.keys()]))
      assert.ok(Math.abs((a.get(term) ?? 0) - (b.get(term) ?? 0)) <= TOL, `text ${i} term ${term}`);
  });
  assert.deepEqual(sp.body.truncated, texts.map((x) => tokenizer.encode(x).length > 64), 'truncated: more than 64 tokens (BOS included)');
  const de = await post<{ vectors: { vector: number[] }[] }>(`${s.url}/v1/encode`, { texts, kind: 'query', paradigm: 'dense' });
  const deWant = readFileSync(join(dir, 'dense-q.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { vector: number[] });
  de.body.vectors.forEach((v, i) => {
    assert.equal(v.vector.length, 32);
    v.vector.forEach((x, j) => assert.ok(Math.abs(x - deWant[i]!.vector[j]!) <= TOL, `dense text ${i} dim ${j}`));
  });
  const both = await post<{ error: string }>(`${s.url}/v1/encode`, { texts, kind: 'query' });
  assert.equal(both.status, 400);
  assert.match(both.body.error, /^paradigm: /);
  const bad = await post<{ error: string }>(`${s.url}/v1/encode`, { texts: [1], kind: 'query', paradigm: 'dense' });
  assert.match(bad.body.error, /^texts\.0: must be a string/);
});

test('dense and hybrid query vectors: a wrong dimension or a missing half is a 400 naming the field', async () => {
  const dim = 32;
  const cases: [object, RegExp][] = [
    [{ vector: [0.1, 0.2] }, /^vector: has dimension 2 but the dense index has 32$/],
    [{ vector: { sparse: { indices: [1], values: [1] } }, index: 'hybrid' }, /^vector: searching the hybrid index needs a dense vector/],
    [{ vector: Array(dim).fill(0.1), index: 'sparse' }, /^vector: searching the sparse index needs a sparse vector/],
    [{ vector: { dense: Array(dim).fill('x') } }, /^vector\.dense\.0: must be a number/],
    [{ query: 'x', index: 'both' }, /^index: must be 'sparse', 'dense' or 'hybrid'/],
  ];
  for (const [b, re] of cases) {
    const r = await post<{ error: string }>(`${s.url}/v1/search`, b);
    assert.equal(r.status, 400, JSON.stringify(r.body));
    assert.match(r.body.error, re);
  }
  const ok = await search({ vector: { sparse: { indices: [5, 9], values: [1, 2] }, dense: Array(dim).fill(0.1) }, k: 3 });
  assert.equal(ok.status, 200);
  assert.equal(ok.body.index, 'hybrid');
  assert.equal(ok.body.hits.length, 3);
});

test('an over-long query is cut to the query length, and the answer says so', async () => {
  const long = 'cerebral white matter development '.repeat(60);
  const r = await search({ query: long, index: 'sparse' });
  assert.equal(r.status, 200);
  assert.equal(r.body.truncated, true);
  assert.match(r.body.warning!, /truncated to the model's query length of 64/);
  const short = await search({ query: queries[0]!.text, index: 'sparse' });
  assert.equal(short.body.truncated, undefined);
  const e = await post<{ truncated: boolean[]; tokens: number[] }>(`${s.url}/v1/encode`, { texts: [long, 'short'], kind: 'query', paradigm: 'sparse' });
  assert.deepEqual(e.body.truncated, [true, false]);
  assert.equal(e.body.tokens[0], 64);
});

test('concurrent encode requests are batched, and each answer equals the text encoded alone', async () => {
  const texts = queries.slice(0, 8).map((q) => q.text);
  const alone = await post<{ vectors: { vector: number[] }[] }>(`${s.url}/v1/encode`, { texts, kind: 'doc', paradigm: 'dense' });
  const before = await metric(/^lion_batch_size_count\{queue="encode:dense:doc"\} (\d+)$/m);
  const each = await Promise.all(texts.map((x) => post<{ vectors: { vector: number[] }[] }>(`${s.url}/v1/encode`, { texts: [x], kind: 'doc', paradigm: 'dense' })));
  each.forEach((r, i) => {
    assert.equal(r.status, 200);
    r.body.vectors[0]!.vector.forEach((x, j) => assert.ok(Math.abs(x - alone.body.vectors[i]!.vector[j]!) <= TOL));
  });
  const batches = (await metric(/^lion_batch_size_count\{queue="encode:dense:doc"\} (\d+)$/m)) - before;
  assert.ok(batches >= 1 && batches < 8, `8 concurrent requests went out in ${batches} batches`);
});

test('the event loop keeps answering while the model thread runs a long batch', async () => {
  const docs = readFileSync(t.corpus, 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { text: string }).text);
  let encodeDone = 0;
  const big = post(`${s.url}/v1/encode`, { texts: docs.slice(0, 48), kind: 'doc', paradigm: 'sparse' }).then((r) => {
    encodeDone = performance.now();
    return r;
  });
  await new Promise((r) => setTimeout(r, 50));
  const h = await fetch(`${s.url}/healthz`);
  const healthAt = performance.now();
  assert.equal(h.status, 200);
  assert.equal((await big).status, 200);
  assert.ok(healthAt < encodeDone, 'healthz answered before the forward passes finished');
});

async function metric(re: RegExp): Promise<number> {
  const m = await (await fetch(`${s.url}/metrics`)).text();
  return Number(re.exec(m)?.[1] ?? 0);
}
