import type { Doc } from '../../src/data/types.ts';
import { beirDocText } from '../../src/model/encoder.ts';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync, appendFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tar from 'tar';
import { listDatasets, getDataset, type FileSpec } from '../../src/data/registry.ts';
import { openDataset, resolveFile } from '../../src/data/datasets.ts';
import { ChecksumError, downloadFile, hashFile } from '../../src/data/download.ts';
import { requireSharedData, serveFolder, storedZip, tempDir } from './helpers.ts';

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
const md5 = (b: Buffer): string => createHash('md5').update(b).digest('hex');

test('registry ids follow ir_datasets and every mirror path maps onto ../shared/data with its checksum', async () => {
  const data = requireSharedData();
  const ids = listDatasets().map((e) => e.id);
  for (const id of [
    'beir/scifact/test',
    'beir/scifact/train',
    'beir/nfcorpus/test',
    'msmarco-passage/dev/small',
    'msmarco-passage/trec-dl-2019/judged',
    'msmarco-passage/trec-dl-2020/judged',
    'msmarco-passage/dl19-mini',
    'cranfield',
  ]) {
    assert.ok(ids.includes(id), id);
  }
  let checked = 0;
  for (const e of listDatasets()) {
    for (const spec of [e.docs, e.queries, e.qrels] as FileSpec<string>[]) {
      assert.ok(spec.official || spec.mirror, `${e.id}: a file with no source`);
      if (spec.official)
        assert.ok(spec.official.md5 || spec.official.sha256, `${e.id}: official source without checksum`);
      if (!spec.mirror) continue;
      const p = join(data, spec.mirror.path);
      const got = await hashFile(p, ['sha256']);
      assert.equal(got['sha256'], spec.mirror.sha256, p);
      assert.equal(readFileSync(p).length, spec.mirror.size, p);
      checked++;
    }
  }
  assert.ok(checked >= 20, `checked ${checked} mirror files`);
  assert.throws(() => getDataset('beir/nope'), /unknown dataset 'beir\/nope'; hint: known ids are beir\/scifact\/test/);
});

test('a folder mirror resolves in place, and every dataset loads with its documented counts', async () => {
  const data = requireSharedData();
  const home = tempDir();
  for (const e of listDatasets()) {
    const ds = openDataset(e.id, { mirror: data, home });
    const queries = await ds.queries();
    const qrels = await ds.qrels();
    assert.equal(queries.size, e.counts.queries, `${e.id} queries`);
    assert.equal(
      [...qrels.values()].reduce((s, m) => s + m.size, 0),
      e.counts.qrels,
      `${e.id} qrels`,
    );
    for (const q of queries.keys()) assert.ok(qrels.has(q), `${e.id}: query ${q} has no judgements`);
    if (e.docs.mirror && e.counts.docs < 10_000) {
      let n = 0;
      for await (const _ of ds.docs()) n++;
      assert.equal(n, e.counts.docs, `${e.id} docs`);
    }
  }
  const f = await resolveFile(getDataset('beir/scifact/test').qrels, 'qrels', { mirror: data, home });
  assert.equal(f.path, join(data, 'beir/scifact/qrels/test.tsv')); // used in place, not copied
  assert.ok(existsSync(join(home, 'verified.json')));
});

test('a folder mirror with a changed file is refused', async () => {
  const data = requireSharedData();
  const mirror = tempDir();
  mkdirSync(join(mirror, 'beir/scifact/qrels'), { recursive: true });
  cpSync(join(data, 'beir/scifact/qrels/test.tsv'), join(mirror, 'beir/scifact/qrels/test.tsv'));
  appendFileSync(join(mirror, 'beir/scifact/qrels/test.tsv'), '1\t999\t1\n');
  await assert.rejects(
    openDataset('beir/scifact/test', { mirror, home: tempDir() }).qrels(),
    (e: unknown) => e instanceof ChecksumError && /expected sha256 0864bb98/.test((e as Error).message),
  );
  await assert.rejects(
    openDataset('beir/scifact/test', { mirror, home: tempDir() }).queries(),
    /not found in the mirror/,
  );
});

test('MS MARCO passages kept in BEIR layout are read without titles, so they encode as their text', async () => {
  const data = requireSharedData();
  const docs: Doc[] = [];
  for await (const d of openDataset('msmarco-passage/dl19-mini', { mirror: data, home: tempDir() }).docs()) docs.push(d);
  assert.equal(docs.length, 5000);
  assert.ok(docs.every((d) => d.title === undefined));
  assert.equal(beirDocText(docs[0]!), docs[0]!.text);
  // a BEIR corpus keeps its titles (SciFact's are all non-empty)
  for await (const d of openDataset('beir/scifact/test', { mirror: data, home: tempDir() }).docs()) {
    assert.equal(beirDocText(d), `${d.title} ${d.text}`);
    break;
  }
});

test('a mirror-only dataset without a mirror says how to get one', async () => {
  await assert.rejects(
    openDataset('msmarco-passage/dl19-mini', { mirror: '', home: tempDir() }).qrels(),
    /has no official download, only a mirror copy; hint: set LION_DATA_MIRROR/,
  );
});

test('a URL mirror (127.0.0.1 serving ../shared/data) downloads, verifies and caches', async () => {
  const data = requireSharedData();
  const server = await serveFolder(data);
  try {
    const home = tempDir();
    const ds = openDataset('beir/scifact/test', { mirror: `${server.url}/`, home });
    assert.equal((await ds.queries()).size, 300);
    let n = 0;
    for await (const _ of ds.docs()) n++;
    assert.equal(n, 5183);
    const cached = join(home, 'mirror/beir/scifact/corpus.jsonl');
    assert.equal(sha256(readFileSync(cached)), getDataset('beir/scifact/test').docs.mirror!.sha256);
    const before = server.requests.length;
    for await (const _ of openDataset('beir/scifact/test', { mirror: server.url, home }).docs()) break;
    assert.equal(server.requests.length, before, 'a cached file is not downloaded again');
  } finally {
    await server.close();
  }
});

test('a download cut in the middle resumes with a Range request and verifies', async () => {
  const data = requireSharedData();
  const spec = getDataset('beir/scifact/test').docs.mirror!;
  const server = await serveFolder(data, { cutAfter: 1_000_000, cutTimes: 2 });
  try {
    const dest = join(tempDir(), 'corpus.jsonl');
    const logs: string[] = [];
    await downloadFile(`${server.url}/${spec.path}`, dest, {
      sha256: spec.sha256,
      size: spec.size,
      log: (m) => logs.push(m),
      backoffMs: 10,
    });
    assert.equal(sha256(readFileSync(dest)), spec.sha256);
    const ranges = server.requests.map((r) => r.range);
    assert.equal(ranges[0], undefined);
    assert.equal(ranges.length, 3, `requests: ${JSON.stringify(server.requests)}`);
    const starts = ranges.slice(1).map((r) => Number(/^bytes=(\d+)-$/.exec(r ?? '')?.[1]));
    assert.ok(starts[0]! > 0 && starts[1]! > starts[0]!, `resumed from ${starts}`);
    assert.ok(
      logs.some((l) => /interrupted at byte/.test(l)) && logs.some((l) => /resuming at byte/.test(l)),
      logs.join('\n'),
    );
  } finally {
    await server.close();
  }
});

test('a partial file left by an earlier run is resumed, not restarted', async () => {
  const data = requireSharedData();
  const spec = getDataset('beir/scifact/test').queries.mirror!;
  const bytes = readFileSync(join(data, spec.path));
  const server = await serveFolder(data);
  try {
    const dest = join(tempDir(), 'queries.jsonl');
    writeFileSync(`${dest}.part`, bytes.subarray(0, 12345));
    await downloadFile(`${server.url}/${spec.path}`, dest, { sha256: spec.sha256, size: spec.size });
    assert.deepEqual(
      server.requests.map((r) => r.range),
      ['bytes=12345-'],
    );
    assert.ok(readFileSync(dest).equals(bytes));
    assert.ok(!existsSync(`${dest}.part`));
  } finally {
    await server.close();
  }
});

test('a checksum mismatch is refused and leaves nothing behind', async () => {
  const data = requireSharedData();
  const spec = getDataset('beir/scifact/test').qrels.mirror!;
  const server = await serveFolder(data, { corrupt: true });
  try {
    const home = tempDir();
    await assert.rejects(
      openDataset('beir/scifact/test', { mirror: server.url, home }).qrels(),
      (e: unknown) =>
        e instanceof ChecksumError && /checksum mismatch .* expected sha256 0864bb98/.test((e as Error).message),
    );
    const dest = join(home, 'mirror', spec.path);
    assert.ok(!existsSync(dest) && !existsSync(`${dest}.part`));
    // With the server healthy again the same call succeeds.
    server.controls.corrupt = false;
    assert.equal((await openDataset('beir/scifact/test', { mirror: server.url, home }).qrels()).size, 300);
  } finally {
    await server.close();
  }
});

test('official sources: a zip (BEIR) and a tar.gz (MS MARCO, Cranfield) are verified by md5 and members extracted', async () => {
  const data = requireSharedData();
  const root = tempDir();
  const qrels = readFileSync(join(data, 'beir/scifact/qrels/test.tsv'));
  const zip = storedZip({
    'scifact/queries.jsonl': Buffer.from('{"_id":"1","text":"x"}\n'),
    'scifact/qrels/test.tsv': qrels,
  });
  writeFileSync(join(root, 'scifact.zip'), zip);
  mkdirSync(join(root, 'cran-src'));
  cpSync(join(data, 'classic/cran/cran.qry'), join(root, 'cran-src/cran.qry'));
  await tar.c({ gzip: true, file: join(root, 'cran.tar.gz'), cwd: join(root, 'cran-src') }, ['cran.qry']);
  const tgz = readFileSync(join(root, 'cran.tar.gz'));
  const server = await serveFolder(root);
  try {
    const home = tempDir();
    const zipSpec: FileSpec<'beir'> = {
      official: { format: 'beir', url: `${server.url}/scifact.zip`, md5: md5(zip), member: 'scifact/qrels/test.tsv' },
      mirror: null,
    };
    const f = await resolveFile(zipSpec, 'qrels', { home, mirror: '' });
    assert.ok(readFileSync(f.path).equals(qrels));
    const tarSpec: FileSpec<'smart'> = {
      official: {
        format: 'smart',
        url: `${server.url}/cran.tar.gz`,
        md5: md5(tgz),
        size: tgz.length,
        member: 'cran.qry',
      },
      mirror: null,
    };
    const g = await resolveFile(tarSpec, 'queries', { home, mirror: '' });
    assert.ok(readFileSync(g.path).equals(readFileSync(join(data, 'classic/cran/cran.qry'))));
    const missing: FileSpec<'smart'> = { official: { ...tarSpec.official!, member: 'nope' }, mirror: null };
    await assert.rejects(resolveFile(missing, 'x', { home, mirror: '' }), /'nope' not found in/);
    const wrong: FileSpec<'beir'> = {
      official: {
        ...zipSpec.official!,
        url: `${server.url}/scifact.zip?x`,
        md5: '0'.repeat(32),
        member: 'scifact/queries.jsonl',
      },
      mirror: null,
    };
    await assert.rejects(resolveFile(wrong, 'q', { home: tempDir(), mirror: '' }), ChecksumError);
  } finally {
    await server.close();
  }
});
