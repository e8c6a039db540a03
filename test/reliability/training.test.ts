// The reliability matrix, part 2: resume refuses any changed setting or input, checkpoints are
// checksummed, flag values are validated at the edge, and broken weights are refused at load.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { assertUnchanged, expectCase, lion, lionAsync, scratch, snapshot, write } from './helpers.ts';

const d = scratch();
const mk = (out: string, seed: string): void => {
  const r = lion(['make-model', '--output', out, '--hidden', '32', '--layers', '2', '--heads', '4', '--intermediate', '64', '--seed', seed], d);
  assert.equal(r.code, 0, r.stderr);
};
mk('model', '1');
const words = 'protein cell gene cancer virus drug brain blood heart lung liver bone skin muscle immune'.split(' ');
const trainText = Array.from({ length: 24 }, (_, i) => {
  const w = (k: number): string => words[(i * 3 + k) % words.length]!;
  return JSON.stringify({ query: `what about ${w(0)}`, pos: [`${w(0)} and ${w(1)} studies`], neg: [`${w(2)} report`, `${w(4)} trial`, `${w(5)} ${w(6)} review`] });
}).join('\n') + '\n';
write(d, 'train.jsonl', trainText);

const train = (out: string, paradigm: 'sparse' | 'dense', ...more: string[]): string[] => [
  'train', '--model', 'model', '--paradigm', paradigm, '--objective', 'cl', '--train', 'train.jsonl',
  '--negatives', '2', '--batch-size', '4', '--lr', '1e-3', '--save-every', '1', '--output', out, ...more,
];

// One finished sparse run: every change below is refused before anything is read or written.
const done = lion(train('run', 'sparse', '--steps', '3'), d);
assert.equal(done.code, 0, done.stderr);

for (const [flag, value, shown] of [
  ['--clip', '0.5', /--clip was 1 when it started, now 0\.5/],
  ['--warmup-ratio', '0.5', /warm-up steps .* was 0 when it started, now 2|--warmup-ratio was 0\.04 when it started, now 0\.5/],
  ['--weight-decay', '0.1', /--weight-decay was 0 when it started, now 0\.1/],
  ['--flops-q', '0.5', /--flops-q was 0\.05 when it started, now 0\.5/],
  ['--flops-d', '0.5', /--flops-d was 0\.04 when it started, now 0\.5/],
  ['--lora-r', '8', /--lora-r was 16 when it started, now 8/],
  ['--seed', '3', /--seed was 0 when it started, now 3/],
] as const) {
  test(`resume with another ${flag} is refused, naming the setting and both values`, () => {
    expectCase(d, train('run', 'sparse', '--steps', '3', flag, value), { code: 1, message: new RegExp(`lion train: cannot resume the run in 'run': (${shown.source}); hint:`) });
  });
}

test('resume with a changed training file or base model at the same path is refused', () => {
  write(d, 'train.jsonl', trainText.replace('what about', 'tell me about'));
  try {
    expectCase(d, train('run', 'sparse', '--steps', '3'), { code: 1, message: /cannot resume .*: the training file \(--train\) was .* when it started, now /, allowed: ['train.jsonl'] });
  } finally {
    write(d, 'train.jsonl', trainText);
  }
  mk('model2', '2');
  // the same path, other weights
  const r = lion(['make-model', '--output', 'model', '--overwrite', '--hidden', '32', '--layers', '2', '--heads', '4', '--intermediate', '64', '--seed', '2'], d);
  assert.equal(r.code, 0, r.stderr);
  try {
    expectCase(d, train('run', 'sparse', '--steps', '3'), { code: 1, message: /cannot resume .*: the base model \(--model\) was .* when it started, now / });
  } finally {
    mk('model-restore', '1');
    const back = lion(['make-model', '--output', 'model', '--overwrite', '--hidden', '32', '--layers', '2', '--heads', '4', '--intermediate', '64', '--seed', '1'], d);
    assert.equal(back.code, 0, back.stderr);
  }
  // unchanged inputs resume (here: a finished run, nothing to do)
  expectCase(d, train('run', 'sparse', '--steps', '3'), { code: 0, allowed: ['run'] });
});

test('a killed training run, resumed from another folder with a changed --clip, is refused; with the same settings it resumes', async () => {
  const w = scratch();
  for (const f of ['train.jsonl']) writeFileSync(join(w, f), readFileSync(join(d, f)));
  const args = train('k', 'dense', '--steps', '40').map((a) => (a === 'model' ? join(d, 'model') : a));
  const child = lionAsync(args, w);
  const t0 = Date.now();
  while (!existsSync(join(w, 'k/checkpoint-2/state.json'))) {
    if (Date.now() - t0 > 120_000) throw new Error('no checkpoint within 2 minutes');
    await new Promise((r) => setTimeout(r, 10));
  }
  child.kill('SIGKILL');
  await new Promise((r) => child.on('exit', r));
  assert.ok(!existsSync(join(w, 'k/checkpoint-40')), 'killed before the end');
  const leftovers = readdirSync(join(w, 'k')).filter((n) => n.includes('.tmp-')).map((n) => `k/${n}`);
  expectCase(w, [...args, '--clip', '0.5'], { code: 1, message: /cannot resume the run in 'k': --clip was 1 when it started, now 0\.5; hint:/, allowed: leftovers });
  expectCase(w, args, { code: 0, allowed: ['k'] });
  assert.match(readFileSync(join(w, 'k/train.jsonl'), 'utf8'), /"event":"resume"/);
  assert.deepEqual(readdirSync(join(w, 'k')).filter((n) => n.startsWith('.')), [], 'no temporary checkpoint left');
});

test('a flipped byte in checkpoint weights, or a truncated state.json or latest.json, is a clear error naming the file', () => {
  const file = join(d, 'run/checkpoint-3/trainable.safetensors');
  const good = readFileSync(file);
  const bad = Buffer.from(good);
  bad[bad.length - 3]! ^= 0x10;
  writeFileSync(file, bad);
  try {
    expectCase(d, train('run', 'sparse', '--steps', '3'), { code: 1, message: /lion train: checkpoint file '.*checkpoint-3\/trainable\.safetensors' fails its checksum .*; hint: delete that checkpoint folder/ });
  } finally {
    writeFileSync(file, good);
  }
  for (const name of ['checkpoint-3/state.json', 'latest.json']) {
    const p = join(d, 'run', name);
    const text = readFileSync(p, 'utf8');
    writeFileSync(p, text.slice(0, Math.floor(text.length / 2)));
    try {
      expectCase(d, train('run', 'sparse', '--steps', '3'), { code: 1, message: new RegExp(`lion train: .*'.*run/${name.replace('.', '\\.')}'.* (is truncated or not JSON|fails its checksum).*; hint:`) });
    } finally {
      writeFileSync(p, text);
    }
  }
  const state = join(d, 'run/checkpoint-3/state.json');
  const text = readFileSync(state, 'utf8');
  writeFileSync(state, text.replace('"step": 3', '"step": 2'));
  try {
    expectCase(d, train('run', 'sparse', '--steps', '3'), { code: 1, message: /state\.json' fails its checksum: it was corrupted or edited/ });
  } finally {
    writeFileSync(state, text);
  }
});

for (const [flag, value, problem] of [
  ['--clip', '0', /--clip must be a number > 0, got '0'; hint: 0 would zero every update/],
  ['--clip', 'off', /--clip must be a number > 0, got 'off'/],
  ['--lora-dropout', '1', /--lora-dropout must be a number in \[0, 1\), got '1'/],
  ['--lora-alpha', '0', /--lora-alpha must be a number > 0, got '0'/],
  ['--lora-r', '0', /--lora-r must be a positive integer, got '0'/],
  ['--warmup-ratio', '1.5', /--warmup-ratio must be a number in \[0, 1\], got '1\.5'/],
  ['--lr', 'abc', /--lr must be a number > 0, got 'abc'/],
] as const) {
  test(`train ${flag} ${value} is a usage error (exit 2) before anything is written`, () => {
    expectCase(d, train('fresh', 'dense', '--steps', '2', flag, value), { code: 2, message: new RegExp(`lion train: ${problem.source}`) });
  });
}

test('train --clip none turns clipping off and trains', () => {
  expectCase(d, train('noclip', 'dense', '--steps', '2', '--clip', 'none'), { code: 0, allowed: ['noclip'] });
  const log = readFileSync(join(d, 'noclip/train.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { gradNorm?: number });
  assert.ok(log.some((r) => typeof r.gradNorm === 'number' && r.gradNorm > 0), 'gradient norms are still logged');
});

/** Sets the first f32 weight of `file` (a safetensors file) to NaN. */
function poison(file: string): void {
  const buf = readFileSync(file);
  const n = Number(buf.readBigUInt64LE(0));
  const header = JSON.parse(buf.subarray(8, 8 + n).toString('utf8')) as Record<string, { dtype: string; data_offsets: [number, number] }>;
  const [, t] = Object.entries(header).find(([k, v]) => k !== '__metadata__' && v.dtype === 'F32')!;
  buf.writeFloatLE(NaN, 8 + n + t.data_offsets[0] + 4);
  writeFileSync(file, buf);
}

test('one NaN weight is refused at load, naming the file and tensor, before anything is encoded', () => {
  mk('nanmodel', '1');
  poison(join(d, 'nanmodel/model.safetensors'));
  write(d, 'texts.jsonl', '{"id":"a","text":"protein folding"}\n');
  expectCase(d, ['encode', '--model', 'nanmodel', '--paradigm', 'sparse', '--kind', 'doc', '--input', 'texts.jsonl', '--output', 'v.jsonl'], { code: 1, message: /lion encode: tensor '.*nanmodel\/model\.safetensors:.*' holds a NaN or infinite value \(element 1 of \d+\); hint:/ });
  assert.ok(!existsSync(join(d, 'v.jsonl')));
});

test('encode --output - writes the vectors to standard output, the identity as a first _meta line, and no file', () => {
  write(d, 'two.jsonl', '{"id":"a","text":"protein folding"}\n{"id":"b","text":"heart drug trial"}\n');
  const r = expectCase(d, ['encode', '--model', 'model', '--paradigm', 'sparse', '--kind', 'doc', '--input', 'two.jsonl', '--output', '-'], { code: 0 });
  const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { _meta?: { paradigm?: string; vocabSize?: number }; id?: string; indices?: number[] });
  assert.equal(lines.length, 3);
  assert.equal(lines[0]!._meta?.paradigm, 'sparse');
  assert.ok((lines[0]!._meta?.vocabSize ?? 0) > 0);
  assert.deepEqual(lines.slice(1).map((l) => l.id), ['a', 'b']);
  assert.ok(lines[1]!.indices!.length > 0);
});

test('make-model refuses a non-empty folder it did not write, and leaves no half-written folder', () => {
  mkdirSync(join(d, 'notes'));
  write(d, 'notes/a.txt', 'mine');
  expectCase(d, ['make-model', '--output', 'notes', '--hidden', '32', '--layers', '1', '--heads', '4', '--intermediate', '64'], { code: 1, message: /lion make-model: --output 'notes' is a folder that is not empty and does not hold a Lion model folder/ });
  const before = snapshot(d);
  expectCase(d, ['make-model', '--output', 'm3', '--hidden', '32', '--layers', '1', '--heads', '4', '--intermediate', '64'], { code: 0, allowed: ['m3'] });
  assertUnchanged(d, before, ['m3']);
  assert.deepEqual(readdirSync(d).filter((n) => n.startsWith('.')), []);
});
