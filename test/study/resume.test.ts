// A study killed mid-way and rerun finishes the grid without retraining finished cells.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const lion = path.join(root, 'bin/lion.js');
const shared = path.resolve(root, '../shared/data');
const work = mkdtempSync(path.join(tmpdir(), 'lion-study-'));
process.on('exit', () => rmSync(work, { recursive: true, force: true }));

// A grid small enough for a test: one tiny size, dense, two objectives, Cranfield only.
const config = {
  sizes: [{ name: 'pico', hidden: 16, layers: 1, heads: 2, intermediate: 32 }],
  paradigms: ['dense'],
  objectives: ['cl', 'kd'],
  tokenizer: { vocabSize: 512 },
  pretrain: { steps: 4, batchSize: 2, block: 32, lr: 1e-3 },
  mntp: { steps: 2, batchSize: 2, block: 32, lr: 1e-3 },
  finetune: { flopsPerCell: 3e9, batchSize: 4, negatives: 2, lr: 1e-3, warmupRatio: 0, maxLength: { query: 16, doc: 32 }, flopsLambda: { query: 0.05, doc: 0.04 } },
  evalMaxLength: { query: 16, doc: 32 },
  evalSets: [{ id: 'cranfield', label: 'Cranfield', metric: 'nDCG@10', domain: 'out' }],
  pretrainCorpora: ['cranfield'],
};
const cfgFile = path.join(work, 'config.json');
writeFileSync(cfgFile, JSON.stringify(config));
const out = path.join(work, 'study');
const args = ['study', '--output', out, '--config', cfgFile, '--jobs', '1', '--no-report'];
const env = { ...process.env, LION_DATA_MIRROR: shared };
const cell = (name: string): string => path.join(out, 'cells', `pico-dense-${name}`, 'done.json');

test('a killed study resumes without retraining finished cells', async () => {
  const child = spawn(lion, args, { env, stdio: 'ignore' });
  await new Promise<void>((resolve, reject) => {
    const t = setInterval(() => {
      if (existsSync(cell('cl'))) {
        clearInterval(t);
        child.kill('SIGKILL');
        resolve();
      }
    }, 50);
    child.on('exit', (code) => code === 0 && reject(new Error('the study finished before it could be killed')));
  });
  await new Promise((r) => child.on('exit', r));
  assert.ok(!existsSync(path.join(out, 'results.json')), 'the killed study had not finished');
  const clDone = statSync(cell('cl')).mtimeMs;
  const clLog = readFileSync(path.join(out, 'cells', 'pico-dense-cl', 'train', 'train.jsonl'), 'utf8');
  const stdout = execFileSync(lion, args, { env, encoding: 'utf8' });
  assert.equal(statSync(cell('cl')).mtimeMs, clDone, 'the finished cell was not redone');
  assert.equal(readFileSync(path.join(out, 'cells', 'pico-dense-cl', 'train', 'train.jsonl'), 'utf8'), clLog, 'the finished cell did not train again');
  assert.ok(existsSync(cell('kd')), 'the unfinished cell ran');
  const results = JSON.parse(readFileSync(path.join(out, 'results.json'), 'utf8')) as { rows: { paradigm: string; objective: string | null; metrics: Record<string, number> }[] };
  assert.equal(results.rows.length, 3, 'BM25 and two cells');
  for (const r of results.rows) assert.ok(Number.isFinite(r.metrics.cranfield), `${r.paradigm} ${r.objective} has a measured value`);
  assert.match(stdout, /pico/);
});
