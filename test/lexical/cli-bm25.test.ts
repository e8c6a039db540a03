import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readTrecRun } from '../../src/data/trec.ts';
import { repoRoot, requireSharedData, tempDir } from '../data/helpers.ts';

const lion = join(repoRoot, 'bin/lion.js');
const dir = tempDir();
const data = requireSharedData();
const env = { ...process.env, LION_HOME: join(dir, 'home'), LION_DATA_MIRROR: data };

function run(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [lion, ...args], { encoding: 'utf8', env, cwd: repoRoot });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('lion bm25 --dataset dl19-mini writes a run that lion eval scores', async () => {
  const out = join(dir, 'dl19mini.run');
  const r = run(['bm25', '--dataset', 'msmarco-passage/dl19-mini', '--output', out, '--k', '100']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /indexed 5000 docs/);
  assert.match(r.stderr, /searched 43 queries/);
  const runMap = await readTrecRun(out);
  assert.equal(runMap.size, 43);
  for (const hits of runMap.values()) assert.ok(hits.length === 100);
  assert.match(readFileSync(out, 'utf8').split('\n')[0]!, /^\d+ Q0 \d+ 1 [\d.]+ lion-bm25$/);
  const e = run(['eval', '--dataset', 'msmarco-passage/dl19-mini', '--run', out, '-m', 'nDCG@10', '--json']);
  const ndcg = (JSON.parse(e.stdout) as Record<string, number>)['nDCG@10']!;
  assert.ok(ndcg > 0.6 && ndcg < 0.85, String(ndcg)); // 0.7266 on this subset, see bench/RESULTS.md
});

test('lion bm25 --corpus/--queries reads files directly (Cranfield, SMART format)', () => {
  const out = join(dir, 'cran.run');
  const r = run([
    'bm25',
    '--corpus',
    join(data, 'classic/cran/cran.all.1400'),
    '--queries',
    join(data, 'classic/cran/cran.qry'),
    '--output',
    out,
    '--k',
    '10',
    '--tag',
    'cran',
  ]);
  assert.equal(r.status, 0, r.stderr);
  const lines = readFileSync(out, 'utf8').trim().split('\n');
  assert.equal(lines.length, 2250);
  assert.match(lines[0]!, /^1 Q0 \d+ 1 \S+ cran$/);
});

test('lion bm25 flag errors', () => {
  assert.match(
    run(['bm25', '--output', join(dir, 'x.run')]).stderr,
    /^lion bm25: give --dataset, or --corpus and --queries/,
  );
  assert.match(
    run(['bm25', '--dataset', 'beir/scifact/test', '--output', join(dir, 'x.run'), '--k', '0']).stderr,
    /^lion bm25: --k must be a positive integer, got '0'/,
  );
  assert.match(
    run(['bm25', '--dataset', 'nope/x', '--output', join(dir, 'x.run')]).stderr,
    /^lion bm25: unknown dataset 'nope\/x'/,
  );
});
