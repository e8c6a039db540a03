// `lion study --preset smoke`: every paradigm × objective cell of one tiny size, end to end (tokenizer,
// pre-training, MNTP, fine-tuning, indexing, search, evaluation, table and report). A cell that fails
// fails this test, on any CPU: the numbers themselves are not asserted beyond being measured.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PRESETS } from '../../src/study/config.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const work = mkdtempSync(path.join(tmpdir(), 'lion-smoke-'));
process.on('exit', () => rmSync(work, { recursive: true, force: true }));

test('the smoke study completes every cell and writes the table and the report', () => {
  const out = path.join(work, 'study');
  const env = { ...process.env, LION_DATA_MIRROR: path.resolve(root, '../shared/data'), LION_HOME: path.join(work, 'home') };
  const r = spawnSync(process.execPath, [path.join(root, 'bin/lion.js'), 'study', '--preset', 'smoke', '--output', out], { env, encoding: 'utf8', maxBuffer: 1 << 26 });
  assert.equal(r.status, 0, r.stderr.slice(-4000));
  const results = JSON.parse(readFileSync(path.join(out, 'results.json'), 'utf8')) as { rows: { kind: string; paradigm: string; objective: string | null; metrics: Record<string, number>; failed?: string }[] };
  const c = PRESETS.smoke!;
  const models = results.rows.filter((x) => x.kind === 'model');
  assert.equal(models.length, c.paradigms.length * c.objectives.length);
  for (const p of c.paradigms)
    for (const o of c.objectives) {
      const row = models.find((x) => x.paradigm === p && x.objective === o);
      assert.ok(row && !row.failed, `${p} ${o}: ${row?.failed}`);
      for (const s of c.evalSets) {
        const v = row.metrics[s.id];
        assert.ok(typeof v === 'number' && v >= 0 && v <= 1, `${p} ${o} ${s.id}: ${v}`);
      }
    }
  assert.match(r.stdout, /BM25/);
  assert.ok(existsSync(path.join(out, 'report', 'report.html')), 'the HTML report');
});
