import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { execFile } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync, writeFileSync } from 'node:fs';
import { promisify } from 'node:util';
import path from 'node:path';
import { filesToFetch, hubCacheDir, parseModelRef, resolveBackbone, resolveModel } from '../../src/model/hub.ts';
import { tempDir } from '../data/helpers.ts';
import { commit, fakeHub, gitOid, isLfs, sha256, type FakeRepo } from './hub-server.ts';

const execFileAsync = promisify(execFile);

/** A forward proxy (CONNECT tunnels, as undici's proxy agent opens them) that records each target. */
async function fakeProxy(): Promise<{ url: string; seen: string[]; close(): Promise<void> }> {
  const seen: string[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((_req, res) => res.writeHead(405).end());
  server.on('connect', (req: IncomingMessage, client: Socket, head: Buffer) => {
    seen.push(req.url!);
    const [host, port] = req.url!.split(':');
    const upstream = connect(Number(port), host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => {});
      s.on('close', () => sockets.delete(s));
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

const weights = randomBytes(300_000);
const model: FakeRepo = {
  commit: commit('a'),
  files: {
    'config.json': Buffer.from('{"model_type":"llama"}'),
    'tokenizer.json': Buffer.from('{"version":"1.0"}'),
    'model.safetensors': weights,
    'pytorch_model.bin': Buffer.from('not needed: safetensors exist'),
  },
};

test('model references: org/name[@revision]; local paths and odd strings are not hub names', () => {
  assert.deepEqual(parseModelRef('hzeng/Lion-SP-1B-llama3-marco-mntp'), { repo: 'hzeng/Lion-SP-1B-llama3-marco-mntp', revision: 'main' });
  assert.deepEqual(parseModelRef('org/name@v1.0'), { repo: 'org/name', revision: 'v1.0' });
  for (const s of ['./org/name', '/abs/dir', 'name', 'a/b/c', 'org/name@', '../x/y']) assert.equal(parseModelRef(s), null, s);
  assert.equal(parseModelRef(path.dirname(import.meta.dirname)), null);
  assert.deepEqual(filesToFetch(['README.md', 'config.json', 'model.safetensors', 'pytorch_model.bin', 'adapter_model.bin', 'tokenizer.json', 'onnx/model.onnx']), ['adapter_model.bin', 'config.json', 'model.safetensors', 'tokenizer.json']);
});

test('the cache folder follows HF_HUB_CACHE, then HF_HOME/hub, then ~/.cache/huggingface/hub', () => {
  assert.equal(hubCacheDir({ HF_HUB_CACHE: '/c/hub2', HF_HOME: '/h' }), '/c/hub2');
  assert.equal(hubCacheDir({ HF_HOME: '/h' }), '/h/hub');
  assert.match(hubCacheDir({}), /\.cache\/huggingface\/hub$/);
});

test('--model org/name fetches into the hub cache layout, reuses it, and works offline', async () => {
  const hub = await fakeHub({ 'org/tiny': model });
  const cache = tempDir();
  try {
    const logs: string[] = [];
    const progress: number[] = [];
    const dir = await resolveModel('org/tiny', { endpoint: hub.url, cacheDir: cache, log: (m) => logs.push(m), onProgress: (f, b) => f === 'model.safetensors' && progress.push(b) });
    const folder = path.join(cache, 'models--org--tiny');
    assert.equal(dir, path.join(folder, 'snapshots', model.commit));
    assert.equal(readFileSync(path.join(folder, 'refs', 'main'), 'utf8'), model.commit);
    for (const name of ['config.json', 'tokenizer.json', 'model.safetensors']) {
      const link = path.join(dir, name);
      assert.ok(lstatSync(link).isSymbolicLink(), `${name} is a symlink into blobs/`);
      const etag = isLfs(name) ? sha256(model.files[name]!) : gitOid(model.files[name]!);
      assert.equal(readlinkSync(link), `../../blobs/${etag}`);
      assert.deepEqual(readFileSync(link), model.files[name]);
    }
    assert.ok(!existsSync(path.join(dir, 'pytorch_model.bin')), '.bin weights are skipped when safetensors exist');
    assert.ok(!existsSync(path.join(dir, 'README.md')));
    assert.equal(progress.at(-1), weights.length, 'progress reaches the file size');
    assert.ok(logs.some((l) => /fetching model\.safetensors/.test(l)));

    // a second resolve downloads nothing
    const before = hub.requests.filter((r) => r.method === 'GET' && r.path.startsWith('/cdn/')).length;
    assert.equal(await resolveModel('org/tiny', { endpoint: hub.url, cacheDir: cache }), dir);
    assert.equal(hub.requests.filter((r) => r.method === 'GET' && r.path.startsWith('/cdn/')).length, before);

    // offline: the cache alone, even with the hub gone
    await hub.close();
    process.env.HF_HUB_OFFLINE = '1';
    try {
      assert.equal(await resolveModel('org/tiny', { endpoint: hub.url, cacheDir: cache }), dir);
      await assert.rejects(resolveModel('org/other', { endpoint: hub.url, cacheDir: cache }), /not in the Hugging Face cache .*HF_HUB_OFFLINE is set; hint:/);
    } finally {
      delete process.env.HF_HUB_OFFLINE;
    }
  } finally {
    await hub.close();
  }
});

test('a broken download resumes: a cut connection and a leftover .incomplete blob continue with Range requests', async () => {
  const hub = await fakeHub({ 'org/tiny': model });
  const cache = tempDir();
  try {
    hub.cutAfter = 100_000;
    const dir = await resolveModel('org/tiny', { endpoint: hub.url, cacheDir: cache });
    assert.deepEqual(readFileSync(path.join(dir, 'model.safetensors')), weights);
    const cdn = hub.requests.filter((r) => r.path.startsWith('/cdn/'));
    assert.ok(cdn.length >= 2, 'the cut transfer was retried');
    assert.match(cdn.at(-1)!.range ?? '', /^bytes=[1-9]\d*-$/, 'the retry asked only for the missing bytes');

    // a partial blob left by an earlier process (ours or huggingface_hub's) is continued, not restarted
    const cache2 = tempDir();
    const blobs = path.join(cache2, 'models--org--tiny', 'blobs');
    mkdirSync(blobs, { recursive: true });
    writeFileSync(path.join(blobs, `${sha256(weights)}.incomplete`), weights.subarray(0, 123_456));
    hub.requests.length = 0;
    const dir2 = await resolveModel('org/tiny', { endpoint: hub.url, cacheDir: cache2 });
    assert.deepEqual(readFileSync(path.join(dir2, 'model.safetensors')), weights);
    assert.deepEqual(hub.requests.filter((r) => r.path.startsWith('/cdn/')).map((r) => r.range), ['bytes=123456-']);
  } finally {
    await hub.close();
  }
});

test('gated repositories need HF_TOKEN; requests go through HTTP_PROXY when it is set', async () => {
  const hub = await fakeHub({ 'org/gated': { ...model, gated: true } });
  const proxy = await fakeProxy();
  const cache = tempDir();
  try {
    await assert.rejects(resolveModel('org/gated', { endpoint: hub.url, cacheDir: cache, token: '' }), /HTTP 401.*hint: .*HF_TOKEN/);
    assert.deepEqual(proxy.seen, [], 'no proxy variable, no proxy');
    process.env.HF_TOKEN = 'hf_secret';
    process.env.HTTP_PROXY = proxy.url;
    try {
      const dir = await resolveModel('org/gated', { endpoint: hub.url, cacheDir: cache });
      assert.deepEqual(readFileSync(path.join(dir, 'model.safetensors')), weights);
    } finally {
      delete process.env.HF_TOKEN;
      delete process.env.HTTP_PROXY;
    }
    assert.ok(hub.requests.some((r) => r.auth === 'Bearer hf_secret'), 'the token was sent');
    assert.ok(proxy.seen.length > 0, 'the requests went through the proxy');
    assert.ok(proxy.seen.every((t) => t === new URL(hub.url).host), 'tunnels to the hub only');
  } finally {
    await proxy.close();
    await hub.close();
  }
});

test('an adapter repository resolves its base_model_name_or_path through the hub too', async () => {
  const adapter: FakeRepo = {
    commit: commit('b'),
    files: {
      'adapter_config.json': Buffer.from(JSON.stringify({ peft_type: 'LORA', r: 2, lora_alpha: 4, lora_dropout: 0, target_modules: ['q_proj'], base_model_name_or_path: 'org/tiny' })),
      'adapter_model.bin': randomBytes(1000),
      'config.json': model.files['config.json']!,
    },
  };
  const hub = await fakeHub({ 'org/tiny': model, 'org/tiny-lora': adapter });
  const cache = tempDir();
  try {
    const spec = await resolveBackbone({ model: 'org/tiny-lora', paradigm: 'sparse' }, { endpoint: hub.url, cacheDir: cache });
    assert.equal(spec.model, path.join(cache, 'models--org--tiny', 'snapshots', model.commit));
    assert.equal(spec.adapter, path.join(cache, 'models--org--tiny-lora', 'snapshots', adapter.commit));
    assert.ok(existsSync(path.join(spec.adapter!, 'adapter_model.bin')));
    await assert.rejects(resolveModel('org/missing', { endpoint: hub.url, cacheDir: cache }), /no model 'org\/missing' at revision 'main' on .*HTTP 404\); hint:/);
  } finally {
    await hub.close();
  }
});

test('lion encode --model org/name encodes with the fetched model, as the same folder does locally', async () => {
  const { makeModel, resolveTokenizer } = await import('../../src/model/make-model.ts');
  const { HfTokenizer } = await import('../../src/text/hf-tokenizer.ts');
  const { loadBackbone } = await import('../../src/model/backbone.ts');
  const { Encoder } = await import('../../src/model/encoder.ts');
  const work = tempDir();
  const local = path.join(work, 'model');
  makeModel(local, { hidden: 32, layers: 1, heads: 4, intermediate: 64 }, HfTokenizer.fromFile(resolveTokenizer('llama3')), 5);
  const files = Object.fromEntries(readdirSync(local).map((f) => [f, readFileSync(path.join(local, f))]));
  const hub = await fakeHub({ 'org/tiny-llama': { commit: commit('c'), files } });
  try {
    const texts = ['What is the capital of France?', 'George Orwell wrote 1984.'];
    const input = path.join(work, 'in.jsonl');
    writeFileSync(input, texts.map((t, i) => JSON.stringify({ id: `q${i}`, text: t })).join('\n') + '\n');
    const out = path.join(work, 'out.jsonl');
    const lion = path.join(import.meta.dirname, '../../bin/lion.js');
    const env = { ...process.env, HF_ENDPOINT: hub.url, HF_HOME: path.join(work, 'hf') };
    const args = ['encode', '--model', 'org/tiny-llama', '--paradigm', 'dense', '--kind', 'query', '--input', input, '--output', out];
    const r = await execFileAsync(process.execPath, [lion, ...args], { env });
    assert.match(r.stderr, /fetching model\.safetensors/);
    assert.ok(lstatSync(path.join(work, 'hf/hub/models--org--tiny-llama/snapshots', commit('c'), 'config.json')).isSymbolicLink());
    const rows = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { id: string; vector: number[] });
    const b = loadBackbone({ model: local, paradigm: 'dense' });
    const want = new Encoder(b.model, b.tokenizer, { paradigm: 'dense' }).encodeAll(texts, 'query') as Float32Array[];
    b.model.dispose();
    rows.forEach((row, i) => assert.ok(row.vector.every((x, j) => Math.abs(x - want[i]![j]!) < 1e-5), `row ${i} matches the local folder`));
  } finally {
    await hub.close();
  }
});
