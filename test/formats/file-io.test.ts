// Output safety and temporary files (formats/file-io), input identities (formats/identity), and the
// resume comparison (train/loop configDifference): the library rules behind the reliability matrix.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { checkOutputDir, sweepStaleTemps, sweepStaleTempsIn, tempPath, withAtomicDir } from '../../src/formats/file-io.ts';
import { fileIdentity, pathIdentity, textsIdentity } from '../../src/formats/identity.ts';
import { configDifference } from '../../src/train/loop.ts';
import { tmp } from '../index/helpers.ts';

/** A process id that is not running (a child that has exited). */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' });
  return Number(r.stdout.trim());
}

test('checkOutputDir: new paths and empty folders pass; files, foreign folders, cwd and inputs are refused', () => {
  const d = tmp();
  assert.equal(checkOutputDir(join(d, 'new')), false);
  mkdirSync(join(d, 'empty'));
  assert.equal(checkOutputDir(join(d, 'empty')), true);
  writeFileSync(join(d, 'file'), 'x');
  assert.throws(() => checkOutputDir(join(d, 'file'), { cmd: 'index' }), /^Error: lion index: --output '.*file' is an existing file/);
  mkdirSync(join(d, 'foreign'));
  writeFileSync(join(d, 'foreign/a'), 'x');
  assert.throws(() => checkOutputDir(join(d, 'foreign'), { overwrite: true, what: 'index' }), /not empty and does not hold a Lion index/);
  const ours = (dir: string): boolean => existsSync(join(dir, 'a'));
  assert.throws(() => checkOutputDir(join(d, 'foreign'), { isOurs: ours }), /pass --overwrite/);
  assert.equal(checkOutputDir(join(d, 'foreign'), { isOurs: ours, overwrite: true }), true);
  assert.throws(() => checkOutputDir(process.cwd()), /current folder or a folder above it/);
  assert.throws(() => checkOutputDir(join(process.cwd(), '..')), /current folder or a folder above it/);
  assert.throws(() => checkOutputDir(d, { inputs: [join(d, 'foreign/a')] }), /would replace the input/);
  // a sibling whose name merely starts like the output's is not "inside" it
  assert.equal(checkOutputDir(join(d, 'fore'), { inputs: [join(d, 'foreign/a')] }), false);
});

test('withAtomicDir: a failing fill leaves nothing; a successful one replaces only what it may', async () => {
  const d = tmp();
  const out = join(d, 'out');
  await assert.rejects(withAtomicDir(out, async () => { throw new Error('boom'); }), /boom/);
  assert.deepEqual(readdirSync(d), []);
  await withAtomicDir(out, async (t) => writeFileSync(join(t, 'v1'), '1'));
  await assert.rejects(withAtomicDir(out, async (t) => writeFileSync(join(t, 'v2'), '2')), /not empty and does not hold/);
  await withAtomicDir(out, async (t) => writeFileSync(join(t, 'v2'), '2'), { overwrite: true, isOurs: (x) => existsSync(join(x, 'v1')) });
  assert.deepEqual(readdirSync(out), ['v2']);
  assert.deepEqual(readdirSync(d), ['out']);
});

test('sweepStaleTemps removes a dead writer\'s leftovers only, and puts back an output moved aside', () => {
  const d = tmp();
  const dead = deadPid();
  mkdirSync(join(d, `.idx.tmp-${dead}-0123abcd`));
  mkdirSync(join(d, `.idx.tmp-${process.pid}-0123abcd`)); // a write in progress (this process)
  mkdirSync(join(d, `.other.tmp-${dead}-89abcdef`));
  writeFileSync(join(d, `.notes.tmp-${dead}`), 'not our naming'); // no random suffix: not ours
  mkdirSync(join(d, `.gone.old-${dead}-00000000`));
  writeFileSync(join(d, `.gone.old-${dead}-00000000/data`), 'previous output');
  assert.equal(sweepStaleTemps(join(d, 'idx')).length, 1);
  assert.ok(existsSync(join(d, `.idx.tmp-${process.pid}-0123abcd`)));
  assert.ok(existsSync(join(d, `.other.tmp-${dead}-89abcdef`)), 'a sibling of another output is left to sweepStaleTempsIn');
  sweepStaleTempsIn(d);
  assert.deepEqual(readdirSync(d).sort(), [`.idx.tmp-${process.pid}-0123abcd`, `.notes.tmp-${dead}`, 'gone'].sort());
  assert.equal(readFileSync(join(d, 'gone/data'), 'utf8'), 'previous output');
  assert.match(tempPath(join(d, 'x')), new RegExp(`/\\.x\\.tmp-${process.pid}-[0-9a-f]{8}$`));
});

test('input identities change with any edit at the head or tail, or the size', () => {
  const d = tmp();
  const f = join(d, 'big.bin');
  const bytes = Buffer.alloc(5 << 20, 7);
  writeFileSync(f, bytes);
  const id = fileIdentity(f);
  assert.equal(fileIdentity(f), id);
  bytes[10] = 8;
  writeFileSync(f, bytes);
  assert.notEqual(fileIdentity(f), id);
  bytes[10] = 7;
  bytes[bytes.length - 10] = 8;
  writeFileSync(f, bytes);
  assert.notEqual(fileIdentity(f), id);
  writeFileSync(f, Buffer.concat([Buffer.alloc(5 << 20, 7), Buffer.from([7])]));
  assert.notEqual(fileIdentity(f), id);
  assert.equal(pathIdentity('beir/scifact/train'), 'id:beir/scifact/train');
  assert.match(pathIdentity(d), /^dir:[0-9a-f]{32}$/);
  assert.notEqual(textsIdentity(new Map([['a', 'x y']])), textsIdentity(new Map([['a', 'x'], ['y', '']])));
});

test('configDifference names the first changed setting by its flag, with both values', () => {
  const was = { task: 'train', flopsLambda: { query: 0.05, doc: 0.04 }, loop: { clip: 1, warmup: 4 }, identity: { train: '10:aa' } };
  assert.equal(configDifference(was, structuredClone(was)), null);
  assert.deepEqual(configDifference(was, { ...was, loop: { clip: 0.5, warmup: 4 } }), { key: 'loop.clip', what: '--clip', was: '1', now: '0.5' });
  assert.equal(configDifference(was, { ...was, flopsLambda: { query: 0.05, doc: 0.5 } })!.what, '--flops-d');
  assert.equal(configDifference(was, { ...was, identity: { train: '11:bb' } })!.what, 'the training file (--train)');
  assert.deepEqual(configDifference(was, { ...was, weightDecay: 0.1 }), { key: 'weightDecay', what: '--weight-decay', was: '(not set)', now: '0.1' });
});
