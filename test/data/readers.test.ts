import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import {
  readBeirCorpus,
  readBeirQrels,
  readBeirQueries,
  writeBeirCorpus,
  writeBeirQrels,
  writeBeirQueries,
} from '../../src/data/beir.ts';
import { readMsmarcoCollection, writeMsmarcoCollection } from '../../src/data/msmarco.ts';
import { readSgmlTopics, readTrecQrels, readTrecRun, readTsvQueries, writeTrecRun } from '../../src/data/trec.ts';
import { readSmartDocs, readSmartQueries, readThreeColumnQrels } from '../../src/data/smart.ts';
import {
  detectCorpusFormat,
  detectQrelsFormat,
  detectQueriesFormat,
  loadQueries,
  readQrels,
} from '../../src/data/formats.ts';
import { DataError } from '../../src/data/errors.ts';
import type { Doc, Run } from '../../src/data/types.ts';
import { requireSharedData, tempDir } from './helpers.ts';

const dir = tempDir();
function file(name: string, content: string | Buffer): string {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
}
async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}
/** Asserts that `p` rejects with a DataError at `file:line` whose message matches `what`. */
async function rejectsAt(p: Promise<unknown>, path: string, line: number, what: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof DataError, `expected DataError, got ${String(e)}`);
    assert.equal(e.file, path);
    assert.equal(e.line, line);
    assert.ok(e.message.startsWith(`lion: ${path}:${line}: `), e.message);
    assert.match(e.message, what);
    assert.match(e.message, /; hint: /);
    return true;
  });
}

test('BEIR corpus, queries and qrels (header and no header) read correctly', async () => {
  const c = file('corpus.jsonl', '{"_id": "d1", "title": "T", "text": "hello"}\n\n{"_id": 7, "text": "no title"}\r\n');
  assert.deepEqual(await collect(readBeirCorpus(c)), [
    { id: 'd1', title: 'T', text: 'hello' },
    { id: '7', title: '', text: 'no title' },
  ]);
  const q = file('queries.jsonl', '\ufeff{"_id": "q1", "text": "what", "metadata": {}}\n');
  assert.deepEqual(await collect(readBeirQueries(q)), [{ id: 'q1', text: 'what' }]);
  const withHeader = file('h.tsv', 'query-id\tcorpus-id\tscore\nq1\td1\t1\nq1\td2\t0\nq2\td1\t2\n');
  const noHeader = file('nh.tsv', 'q1\td1\t1\nq1\td2\t0\nq2\td1\t2\n');
  const expected = new Map([
    [
      'q1',
      new Map([
        ['d1', 1],
        ['d2', 0],
      ]),
    ],
    ['q2', new Map([['d1', 2]])],
  ]);
  assert.deepEqual(await readBeirQrels(withHeader), expected);
  assert.deepEqual(await readBeirQrels(noHeader), expected);
});

test('the real shared files read with the documented counts', async () => {
  const data = requireSharedData();
  const docs = await collect(readBeirCorpus(join(data, 'beir/scifact/corpus.jsonl')));
  assert.equal(docs.length, 5183);
  assert.equal(new Set(docs.map((d) => d.id)).size, 5183);
  const qrels = await readBeirQrels(join(data, 'beir/scifact/qrels/test.tsv'));
  assert.equal(qrels.size, 300);
  assert.equal(
    [...qrels.values()].reduce((s, m) => s + m.size, 0),
    339,
  );
  const mini = await readBeirQrels(join(data, 'msmarco-passage/dl19-mini/qrels/test.tsv')); // no header line
  assert.equal(
    [...mini.values()].reduce((s, m) => s + m.size, 0),
    4102,
  );
  const dl19 = await readTrecQrels(join(data, 'msmarco-passage/topics-qrels/qrels.dl19-passage.txt'));
  assert.equal(dl19.size, 43);
  assert.equal(
    [...dl19.values()].reduce((s, m) => s + m.size, 0),
    9260,
  );
  const topics = await loadQueries(join(data, 'beir/topics-qrels/topics.beir-v1.0.0-scifact.test.tsv.gz'));
  assert.equal(topics.size, 300);
  assert.equal(topics.get('1'), '0-dimensional biomaterials show inductive properties.');
  const dev = await loadQueries(join(data, 'msmarco-passage/topics-qrels/topics.msmarco-passage.dev-subset.txt'));
  assert.equal(dev.size, 6980);
});

test('Cranfield in SMART format: docs, sequentially renumbered queries, 3-column qrels', async () => {
  const data = requireSharedData();
  const docs = await collect(readSmartDocs(join(data, 'classic/cran/cran.all.1400')));
  assert.equal(docs.length, 1400);
  assert.equal(docs[0]!.id, '1');
  assert.equal(docs[0]!.title, 'experimental investigation of the aerodynamics of a wing in a slipstream .');
  assert.match(
    docs[0]!.text,
    /^experimental investigation of the aerodynamics of a wing in a slipstream \. an experimental study/,
  );
  const qs = await collect(readSmartQueries(join(data, 'classic/cran/cran.qry')));
  assert.equal(qs.length, 225);
  assert.deepEqual(
    qs.slice(0, 3).map((q) => q.id),
    ['1', '2', '3'],
  ); // file ids are 001, 002, 004
  assert.match(qs[2]!.text, /^what problems of heat conduction in composite slabs/);
  const qrels = await readThreeColumnQrels(join(data, 'classic/cran/cran.qrels'));
  assert.equal(qrels.size, 225);
  assert.equal(qrels.get('1')!.get('184'), 2);
  assert.equal(await detectCorpusFormat(join(data, 'classic/cran/cran.all.1400')), 'smart');
  assert.equal(await detectQueriesFormat(join(data, 'classic/cran/cran.qry')), 'smart');
  assert.equal(await detectQrelsFormat(join(data, 'classic/cran/cran.qrels')), 'three-column');
});

test('MS MARCO collection TSV: exactly two fields, else an error naming file:line', async () => {
  const ok = file('collection.tsv', '0\tThe presence of communication\n1\tsecond passage\n');
  assert.deepEqual(await collect(readMsmarcoCollection(ok)), [
    { id: '0', text: 'The presence of communication' },
    { id: '1', text: 'second passage' },
  ]);
  const bad = file('bad-collection.tsv', '0\tfine\n1 no tab here\n');
  await rejectsAt(collect(readMsmarcoCollection(bad)), bad, 2, /missing column: expected 2 tab-separated fields/);
  const extra = file('extra-collection.tsv', '0\tfine\textra\n');
  await rejectsAt(collect(readMsmarcoCollection(extra)), extra, 1, /extra column/);
});

test('TREC run: rank column ignored, ties by doc id descending, extra fields ignored, .gz read', async () => {
  const text = ['q1 Q0 dA 1 1.0 r', 'q1 Q0 dC 2 2.5 r', 'q1 Q0 dB 3 2.5 r extra fields', 'q2 Q0 x 9 -3e-1 r', ''].join(
    '\n',
  );
  const plain = file('run.txt', text);
  const gz = file('run.txt.gz', gzipSync(text));
  for (const p of [plain, gz]) {
    let tag = '';
    const run = await readTrecRun(p, { onTag: (t) => (tag = t) });
    assert.deepEqual(run.get('q1'), [
      { docId: 'dC', score: 2.5 },
      { docId: 'dB', score: 2.5 },
      { docId: 'dA', score: 1 },
    ]);
    assert.deepEqual(run.get('q2'), [{ docId: 'x', score: -0.3 }]);
    assert.equal(tag, 'r');
  }
});

test('TREC run round trip keeps scores exactly and re-ranks', async () => {
  const run: Run = new Map([
    [
      'q',
      [
        { docId: 'a', score: 0.1 + 0.2 },
        { docId: 'b', score: 7 },
        { docId: 'c', score: 1e-300 },
      ],
    ],
  ]);
  const p = join(dir, 'out', 'rt.run');
  await writeTrecRun(p, run, 'tag1');
  const back = await readTrecRun(p);
  assert.deepEqual(back.get('q'), [
    { docId: 'b', score: 7 },
    { docId: 'a', score: 0.1 + 0.2 },
    { docId: 'c', score: 1e-300 },
  ]);
  await assert.rejects(writeTrecRun(p, run, 'two words'), /run tag must be one word/);
});

test('bad input: malformed JSON line, non-integer grade, duplicate doc in a run, missing column', async () => {
  const json = file('bad.jsonl', '{"_id": "1", "text": "ok"}\n{"_id": "2", "text": "unterminated}\n');
  await rejectsAt(collect(readBeirCorpus(json)), json, 2, /malformed JSON line/);
  const grade = file('grade.txt', 'q1 0 d1 1\nq1 0 d2 1.5\n');
  await rejectsAt(readTrecQrels(grade), grade, 2, /non-integer relevance grade '1\.5'/);
  const beirGrade = file('grade.tsv', 'query-id\tcorpus-id\tscore\nq1\td1\tyes\n');
  await rejectsAt(readBeirQrels(beirGrade), beirGrade, 2, /non-integer relevance grade 'yes'/);
  const dup = file('dup.run', 'q1 Q0 d1 1 3 r\nq2 Q0 d1 1 3 r\nq1 Q0 d1 2 2 r\n');
  await rejectsAt(readTrecRun(dup), dup, 3, /duplicate doc 'd1' for query 'q1' \(first at line 1\)/);
  const short = file('short.run', 'q1 Q0 d1 1 3 r\nq1 Q0 d2 1 3\n');
  await rejectsAt(readTrecRun(short), short, 2, /missing column: expected 6 fields/);
  const shortQrels = file('short.qrels', 'q1 0 d1\n');
  await rejectsAt(readTrecQrels(shortQrels), shortQrels, 1, /missing column: expected 4 fields/);
  const badScore = file('score.run', 'q1 Q0 d1 1 high r\n');
  await rejectsAt(readTrecRun(badScore), badScore, 1, /score is not a finite number 'high'/);
  const dupQrels = file('dup.qrels', 'q1 0 d1 1\nq1 0 d1 0\n');
  await rejectsAt(readTrecQrels(dupQrels), dupQrels, 2, /duplicate judgement/);
  const noId = file('noid.jsonl', '{"text": "x"}\n');
  await rejectsAt(collect(readBeirCorpus(noId)), noId, 1, /missing field '_id'/);
  const noTab = file('q.tsv', '1\tfine\n2 no tab\n');
  await rejectsAt(collect(readTsvQueries(noTab)), noTab, 2, /missing column/);
});

test('SGML TREC topics: title by default, desc on request, labels dropped', async () => {
  const p = file(
    'topics.txt',
    [
      '<top>',
      '<num> Number: 301',
      '<title> International Organized Crime',
      '',
      '<desc> Description:',
      'Identify organizations',
      'that participate.',
      '<narr> Narrative:',
      'A relevant document',
      '</top>',
      '<top>',
      '<num> Number: 302 <title> Poliomyelitis',
      '</top>',
      '',
    ].join('\n'),
  );
  assert.deepEqual(await collect(readSgmlTopics(p)), [
    { id: '301', text: 'International Organized Crime' },
    { id: '302', text: 'Poliomyelitis' },
  ]);
  // Topic 302 has no <desc>: asking for it names the topic.
  await rejectsAt(collect(readSgmlTopics(p, 'desc')), p, 11, /topic '302' has no <desc>/);
  const one = file(
    'one-topic.txt',
    [
      '<top>',
      '<num> Number: 301',
      '<title> Crime',
      '<desc> Description:',
      'Identify organizations',
      'that participate.',
      '</top>',
    ].join('\n'),
  );
  assert.deepEqual(await collect(readSgmlTopics(one, 'desc')), [
    { id: '301', text: 'Identify organizations that participate.' },
  ]);
  assert.equal(await detectQueriesFormat(p), 'trec-sgml');
  const unclosed = file('unclosed.txt', '<top>\n<num> Number: 1\n');
  await rejectsAt(collect(readSgmlTopics(unclosed)), unclosed, 1, /without <\/top>/);
});

test('writers round-trip BEIR and MS MARCO files; qrels format detection', async () => {
  const docs: Doc[] = [
    { id: 'a', title: 'Title', text: 'text with\ttab' },
    { id: 'b', title: '', text: 'plain' },
  ];
  const c = join(dir, 'w', 'corpus.jsonl.gz');
  await writeBeirCorpus(c, docs);
  assert.deepEqual(await collect(readBeirCorpus(c)), docs);
  const q = join(dir, 'w', 'queries.jsonl');
  await writeBeirQueries(q, [{ id: 'q', text: 'hi' }]);
  assert.deepEqual(await collect(readBeirQueries(q)), [{ id: 'q', text: 'hi' }]);
  const qrels = new Map([
    [
      'q',
      new Map([
        ['a', 2],
        ['b', 0],
      ]),
    ],
  ]);
  const qp = join(dir, 'w', 'qrels.tsv');
  await writeBeirQrels(qp, qrels);
  assert.equal(await detectQrelsFormat(qp), 'beir');
  assert.deepEqual(await readQrels(qp), qrels);
  const m = join(dir, 'w', 'collection.tsv');
  await writeMsmarcoCollection(m, docs);
  assert.deepEqual(await collect(readMsmarcoCollection(m)), [
    { id: 'a', text: 'Title text with tab' },
    { id: 'b', text: 'plain' },
  ]);
});
