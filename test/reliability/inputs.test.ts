// The reliability matrix, part 3: bad input files and bad command lines. Duplicate ids, empty
// inputs, ids a TREC run cannot hold, damaged gzip and folders given as files are errors naming the
// file; usage errors exit 2 and runtime errors 1; `--output -` writes to standard output.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { spawnSync } from 'node:child_process';
import { expectCase, repoRoot, scratch, write } from './helpers.ts';

const d = scratch();
const docs = ['protein folding in cells', 'gene expression in cancer', 'virus and immune response', 'drug trial for the heart'];
const corpus = (ids: string[]): string => ids.map((id, i) => JSON.stringify({ _id: id, title: '', text: docs[i % docs.length] })).join('\n') + '\n';
write(d, 'corpus.jsonl', corpus(['d1', 'd2', 'd3', 'd4']));
write(d, 'queries.jsonl', [JSON.stringify({ _id: 'q1', text: 'protein cells' }), JSON.stringify({ _id: 'q2', text: 'immune virus' })].join('\n') + '\n');
write(d, 'qrels.tsv', 'query-id\tcorpus-id\tscore\nq1\td1\t1\nq2\td3\t1\n');
const bm25 = (c = 'corpus.jsonl', q = 'queries.jsonl', out = 'run.trec'): string[] => ['bm25', '--corpus', c, '--queries', q, '--output', out, '--k', '10'];

test('the clean case: bm25 then eval exit 0 and write only their outputs', () => {
  expectCase(d, bm25(), { code: 0, allowed: ['run.trec'] });
  const r = expectCase(d, ['eval', '--qrels', 'qrels.tsv', '--run', 'run.trec', '--measure', 'nDCG@10'], { code: 0 });
  assert.match(r.stdout + r.stderr, /nDCG@10/);
});

test('duplicate doc ids are an error naming both lines (no run with a doc ranked twice)', () => {
  write(d, 'dup-corpus.jsonl', corpus(['d1', 'd2', 'd1', 'd4']));
  expectCase(d, bm25('dup-corpus.jsonl', 'queries.jsonl', 'dup.trec'), { code: 1, message: /lion bm25: dup-corpus\.jsonl:3: duplicate document id 'd1' \(lines 1 and 3\); hint:/ });
});

test('a duplicate query id is an error naming both lines, not a silent replacement', () => {
  write(d, 'dup-queries.tsv', 'q1\tprotein\n\nq2\tvirus\nq1\tgene\n');
  expectCase(d, bm25('corpus.jsonl', 'dup-queries.tsv', 'dq.trec'), { code: 1, message: /lion bm25: dup-queries\.tsv:4: duplicate query id 'q1' \(lines 1 and 4\); hint:/ });
});

test('ids with whitespace are refused by the TREC writer (no 7-column lines)', () => {
  write(d, 'space-corpus.jsonl', corpus(['d1', 'doc two', 'd3', 'd4']));
  write(d, 'gene-query.jsonl', JSON.stringify({ _id: 'q1', text: 'gene cancer' }) + '\n');
  expectCase(d, bm25('space-corpus.jsonl', 'gene-query.jsonl', 'sp.trec'), { code: 1, message: /lion bm25: doc id 'doc two' is empty or contains whitespace, which a TREC run cannot hold; hint:/ });
  write(d, 'space-query.tsv', 'query one\tprotein\n');
  expectCase(d, bm25('corpus.jsonl', 'space-query.tsv', 'sq.trec'), { code: 1, message: /query id 'query one' is empty or contains whitespace/ });
});

test('empty corpus, queries, qrels and run files are errors, not 0-document indexes or zero metrics', () => {
  write(d, 'empty.jsonl', '\n');
  write(d, 'empty.tsv', '');
  write(d, 'empty.trec', '');
  expectCase(d, bm25('empty.jsonl'), { code: 1, message: /lion bm25: 'empty\.jsonl' holds no documents; hint:/ });
  expectCase(d, bm25('corpus.jsonl', 'empty.tsv', 'e.trec'), { code: 1, message: /lion bm25: 'empty\.tsv' holds no queries; hint:/ });
  expectCase(d, ['eval', '--qrels', 'empty.tsv', '--run', 'run.trec'], { code: 1, message: /lion eval: qrels file 'empty\.tsv' holds no judgements; hint:/ });
  expectCase(d, ['eval', '--qrels', 'qrels.tsv', '--run', 'empty.trec'], { code: 1, message: /lion eval: run file 'empty\.trec' holds no hits; hint:/ });
  write(d, 'empty-vectors.jsonl', '');
  expectCase(d, ['index', '--vectors', 'empty-vectors.jsonl', '--paradigm', 'sparse', '--output', 'eidx'], { code: 1, message: /lion index: 'empty-vectors\.jsonl' holds no documents; hint:/ });
});

test('damaged gzip names the file (not zlib\'s bare "unexpected end of file" or "incorrect header check")', () => {
  const gz = gzipSync(readFileSync(join(d, 'corpus.jsonl')));
  write(d, 'cut.jsonl.gz', gz.subarray(0, gz.length - 12) as unknown as string);
  write(d, 'plain.jsonl.gz', readFileSync(join(d, 'corpus.jsonl'), 'utf8'));
  expectCase(d, bm25('cut.jsonl.gz'), { code: 1, message: /lion bm25: 'cut\.jsonl\.gz' is not valid gzip \(unexpected end of file.*\): .*; hint:/ });
  expectCase(d, bm25('plain.jsonl.gz'), { code: 1, message: /lion bm25: 'plain\.jsonl\.gz' is not valid gzip \(incorrect header check\).*; hint: .*drop the \.gz suffix/ });
});

test('a folder where a file is expected, and a missing file, are named', () => {
  mkdirSync(join(d, 'adir'), { recursive: true });
  expectCase(d, ['eval', '--qrels', 'qrels.tsv', '--run', 'adir'], { code: 1, message: /lion eval: cannot read 'adir': is a folder, not a file \(EISDIR\); hint:/ });
  expectCase(d, ['index', '--vectors', 'adir', '--paradigm', 'sparse', '--output', 'x'], { code: 1, message: /lion index: vector file 'adir' is a folder, not a file; hint:/ });
  expectCase(d, bm25('missing.jsonl'), { code: 1, message: /lion bm25: cannot open 'missing\.jsonl': no such file or folder \(ENOENT\); hint:/ });
  expectCase(d, ['bm25', '--dataset', 'data/missing.jsonl', '--output', 'm.trec'], { code: 1, message: /lion bm25: no such file 'data\/missing\.jsonl' \(and it is not a dataset id\); hint:/ });
});

test('usage errors exit 2: unknown flag, missing required option, bad choice, bad value, flags that do not go together', () => {
  expectCase(d, ['bm25', '--corpus', 'corpus.jsonl', '--queries', 'queries.jsonl', '--output', 'u.trec', '--nope'], { code: 2, message: /unknown option '--nope'/ });
  expectCase(d, ['bm25', '--corpus', 'corpus.jsonl', '--queries', 'queries.jsonl'], { code: 2, message: /required option '--output <run>' not specified/ });
  expectCase(d, ['index', '--vectors', 'v.jsonl', '--paradigm', 'fuzzy', '--output', 'x'], { code: 2, message: /option '--paradigm <p>' argument 'fuzzy' is invalid/ });
  expectCase(d, [...bm25(), '--k', '0'], { code: 2, message: /lion bm25: --k must be a positive integer, got '0'; hint:/ });
  expectCase(d, ['bm25', ...bm25().slice(1), '--b', '1.5'], { code: 2, message: /lion bm25: --b must be a number in \[0, 1\], got '1\.5'; hint: Anserini uses 0\.4/ });
  expectCase(d, ['bm25', '--corpus', 'corpus.jsonl', '--output', 'x.trec'], { code: 2, message: /lion bm25: --corpus and --queries go together; hint:/ });
  expectCase(d, ['search', '--index', 'idx', '--output', 'x.trec'], { code: 2, message: /lion search: give exactly one of --query-vectors FILE or --queries ID\|FILE; hint:/ });
  expectCase(d, ['nonsense'], { code: 2, message: /unknown command 'nonsense'/ });
  expectCase(d, ['--help'], { code: 0 });
  expectCase(d, ['--version'], { code: 0 });
});

test('--output - writes the run to standard output and no file', () => {
  const r = expectCase(d, bm25('corpus.jsonl', 'queries.jsonl', '-'), { code: 0 });
  assert.equal(r.stdout, readFileSync(join(d, 'run.trec'), 'utf8'));
  assert.match(r.stdout, /^q1 Q0 d1 1 /);
});

test("with the checkout's bin/ on PATH, `lion` runs by name from any folder", () => {
  const r = spawnSync('lion', bm25('corpus.jsonl', 'queries.jsonl', 'path.trec'), { cwd: d, encoding: 'utf8', env: { ...process.env, PATH: `${join(repoRoot, 'bin')}:${process.env.PATH}` } });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(readFileSync(join(d, 'path.trec'), 'utf8'), readFileSync(join(d, 'run.trec'), 'utf8'));
});
