// A run killed with SIGKILL mid-way and restarted ends with the same weights as the uninterrupted run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { HfTokenizer } from '../../src/text/hf-tokenizer.ts';
import { makeModel } from '../../src/model/make-model.ts';
import { resolveTokenizer } from '../../src/model/make-model.ts';
import { readAll } from '../../src/formats/tensor-source.ts';
import { SafetensorsFile } from '../../src/formats/safetensors.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const lion = path.join(root, 'bin/lion.js');
const work = mkdtempSync(path.join(tmpdir(), 'lion-resume-'));
process.on('exit', () => rmSync(work, { recursive: true, force: true }));

const model = path.join(work, 'model');
makeModel(model, { hidden: 32, layers: 2, heads: 4, intermediate: 64 }, HfTokenizer.fromFile(resolveTokenizer('llama3')), 1);
const words = 'protein cell gene cancer virus drug brain blood heart lung liver bone skin muscle immune'.split(' ');
const train = path.join(work, 'train.jsonl');
writeFileSync(
  train,
  Array.from({ length: 24 }, (_, i) => {
    const w = (k: number): string => words[(i * 3 + k) % words.length]!;
    return JSON.stringify({ query: `what about ${w(0)}`, pos: [`${w(0)} and ${w(1)} studies`], neg: [`${w(2)} report`, `${w(4)} trial`, `${w(5)} ${w(6)} review`] });
  }).join('\n') + '\n',
);
const args = (out: string): string[] => ['train', '--model', model, '--paradigm', 'dense', '--objective', 'cl', '--train', train, '--negatives', '2', '--batch-size', '4', '--steps', '8', '--save-every', '1', '--lr', '1e-3', '--lora-dropout', '0.1', '--output', out];

function finalWeights(out: string): Map<string, Float32Array> {
  const ckpt = path.join(out, 'checkpoint-8', 'trainable.safetensors');
  const m = readAll(SafetensorsFile.open(ckpt));
  return new Map([...m].map(([k, v]) => [k, new Float32Array(v.data.buffer.slice(v.data.byteOffset, v.data.byteOffset + v.data.byteLength))]));
}

test('SIGKILL mid-run, then rerun: same final weights as an uninterrupted run (max abs diff < 1e-6)', async () => {
  const a = path.join(work, 'a');
  execFileSync(lion, args(a), { stdio: 'pipe' });
  const b = path.join(work, 'b');
  const child = spawn(lion, args(b), { stdio: 'ignore' });
  // Kill once a few checkpoints exist, while training continues.
  const killedAt = await new Promise<number>((resolve, reject) => {
    const timer = setInterval(() => {
      const log = path.join(b, 'train.jsonl');
      if (!existsSync(log)) return;
      const steps = readFileSync(log, 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { step?: number }).step ?? 0);
      const last = Math.max(...steps);
      if (last >= 3) {
        clearInterval(timer);
        child.kill('SIGKILL');
        resolve(last);
      }
    }, 20);
    child.on('exit', (code) => code === 0 && reject(new Error('the run finished before it could be killed')));
  });
  await new Promise((r) => child.on('exit', r));
  assert.ok(killedAt < 8, `killed at step ${killedAt}`);
  assert.ok(!existsSync(path.join(b, 'checkpoint-8')), 'the killed run had not finished');
  execFileSync(lion, args(b), { stdio: 'pipe' });
  const log = readFileSync(path.join(b, 'train.jsonl'), 'utf8');
  assert.match(log, /"event":"resume"/, 'the second run resumed');
  const wa = finalWeights(a);
  const wb = finalWeights(b);
  assert.equal(wa.size, wb.size);
  assert.ok(wa.size > 0);
  let worst = 0;
  for (const [k, va] of wa) {
    const vb = wb.get(k)!;
    for (let i = 0; i < va.length; i++) worst = Math.max(worst, Math.abs(va[i]! - vb[i]!));
  }
  assert.ok(worst < 1e-6, `max abs diff ${worst}`);
  // and training changed the weights at all
  const first = readAll(SafetensorsFile.open(path.join(a, 'checkpoint-8', 'trainable.safetensors')));
  assert.ok([...first.keys()].every((k) => /lora_[AB]/.test(k)));
});

test('a finished run leaves its export in OUTPUT/final/, equal to the last checkpoint export, also after a rerun', () => {
  const a = path.join(work, 'a'); // finished by the test above
  const final = path.join(a, 'final');
  const files = (dir: string): string[] => execFileSync('find', ['.', '-type', 'f'], { cwd: dir, encoding: 'utf8' }).trim().split('\n').sort();
  const same = (): void => {
    const want = files(path.join(a, 'checkpoint-8', 'export'));
    assert.ok(want.includes('./adapter_config.json'), want.join(' '));
    assert.deepEqual(files(final), want);
    for (const f of want) assert.ok(readFileSync(path.join(final, f)).equals(readFileSync(path.join(a, 'checkpoint-8', 'export', f))), f);
  };
  same();
  // rerunning a finished run takes no step and rewrites final/ atomically, leaving no temporary folder
  rmSync(path.join(final, 'adapter_config.json'));
  execFileSync(lion, args(a), { stdio: 'pipe' });
  same();
  assert.deepEqual(execFileSync('ls', ['-A', a], { encoding: 'utf8' }).split('\n').filter((n) => n.startsWith('.')), []);
});
