import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot, requireSharedData, tempDir } from '../data/helpers.ts';

const lion = join(repoRoot, 'bin/lion.js');
const dir = tempDir();
const env = { ...process.env, LION_HOME: join(dir, 'home'), LION_DATA_MIRROR: requireSharedData() };

function run(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [lion, ...args], { encoding: 'utf8', env, cwd: repoRoot });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const qrels = join(dir, 'qrels.txt');
const runFile = join(dir, 'run.txt');
writeFileSync(qrels, 'q1 0 d1 2\nq1 0 d2 0\nq1 0 d3 1\nq1 0 d4 3\nq2 0 a 1\nq3 0 x 1\n');
writeFileSync(
  runFile,
  'q1 Q0 d2 1 1 r\nq1 Q0 d1 2 2 r\nq1 Q0 d9 3 0.5 r\nq1 Q0 d5 4 3 r\nq1 Q0 d3 5 2 r\nq2 Q0 a 1 1 r\nq2 Q0 b 2 1 r\nq4 Q0 z 1 1 r\n',
);

test('lion eval --json prints one object mapping each default measure to its mean', () => {
  const r = run(['eval', '--qrels', qrels, '--run', runFile, '--json']);
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout) as Record<string, number>;
  assert.deepEqual(Object.keys(out), ['RR@10', 'nDCG@10', 'R@1000', 'P@10', 'AP']);
  // q1: RR 1/2, AP (1/2 + 2/3)/3; q2: RR 1/2, AP 1/2 (worked in test/eval/measures.test.ts)
  assert.ok(Math.abs(out['RR@10']! - 0.5) < 1e-12);
  assert.ok(Math.abs(out['AP']! - ((1 / 2 + 2 / 3) / 3 + 1 / 2) / 2) < 1e-12);
  assert.match(r.stderr, /evaluated 2 queries \(1 in the qrels without results, 1 in the run without qrels/);
});

test('lion eval text output, per query, rel level and measure options', () => {
  const r = run([
    'eval',
    '--qrels',
    qrels,
    '--run',
    runFile,
    '-m',
    'RR@10',
    '-m',
    'R(rel=1)@5',
    '--rel-level',
    '2',
    '--per-query',
  ]);
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout
    .trim()
    .split('\n')
    .map((l) => l.split('\t').map((x) => x.trim()));
  assert.deepEqual(lines, [
    ['RR@10', 'q1', '0.3333'],
    ['R(rel=1)@5', 'q1', '0.6667'],
    ['RR@10', 'q2', '0.0000'],
    ['R(rel=1)@5', 'q2', '1.0000'],
    ['RR@10', 'all', '0.1667'],
    ['R(rel=1)@5', 'all', '0.8333'],
  ]);
  const j = JSON.parse(
    run(['eval', '--qrels', qrels, '--run', runFile, '-m', 'AP', '--json', '--per-query']).stdout,
  ) as { mean: Record<string, number>; perQuery: Record<string, Record<string, number>>; queries: number };
  assert.equal(j.queries, 2);
  assert.equal(j.perQuery['q2']!['AP'], 0.5);
});

test('lion eval --dataset takes the qrels from the registry and removes BEIR self-hits', () => {
  const r = run(['eval', '--dataset', 'beir/scifact/test', '--run', runFile, '--json', '-m', 'nDCG@10']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /evaluated 0 queries.*self-hits removed/);
});

test('lion eval errors: bad input names file:line; bad flags say how to fix them', () => {
  const dup = join(dir, 'dup.run');
  writeFileSync(dup, 'q1 Q0 d1 1 3 r\nq1 Q0 d1 2 2 r\n');
  let r = run(['eval', '--qrels', qrels, '--run', dup]);
  assert.equal(r.status, 1);
  assert.match(
    r.stderr,
    new RegExp(
      `^lion eval: ${dup.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:2: duplicate doc 'd1' for query 'q1' \\(first at line 1\\); hint: `,
    ),
  );
  r = run(['eval', '--qrels', qrels, '--run', runFile, '--rel-level', 'two']);
  assert.match(r.stderr, /^lion eval: --rel-level must be an integer 'two'; hint: /);
  r = run(['eval', '--qrels', qrels, '--run', runFile, '-m', 'MAP@x']);
  assert.match(r.stderr, /^lion eval: unknown measure 'MAP@x'/);
  r = run(['eval', '--run', runFile]);
  assert.match(r.stderr, /give exactly one of --qrels or --dataset/);
});
