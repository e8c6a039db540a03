import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { loadTokenizer } from '../../src/text/load.ts';

const repoRoot = resolve(import.meta.dirname, '../..');
const lion = join(repoRoot, 'bin/lion.js');
const shared = resolve(repoRoot, '../shared/data');
const SCIFACT = join(shared, 'beir/scifact/corpus.jsonl');
const work = mkdtempSync(join(tmpdir(), 'lion-train-tok-'));
process.on('exit', () => rmSync(work, { recursive: true, force: true }));
const env = { ...process.env, COLUMNS: '80', LION_DATA_MIRROR: shared };

async function cli(args: string[]): Promise<{ stdout: string; stderr: string }> {
  return promisify(execFile)(process.execPath, [lion, ...args], { env, encoding: 'utf8' });
}

interface Report {
  texts: number;
  vocabSize: number;
  merges: number;
  bytesPerToken: number;
  tokens: number;
  bytes: number;
  roundTripChecked: number;
  stoppedBy: string;
}

test('lion train-tokenizer on SciFact: files, report, the written tokenizer loads and agrees', async () => {
  assert.ok(existsSync(SCIFACT), `missing ${SCIFACT}: this test needs ../shared/data`);
  const out = join(work, 'sf');
  const { stdout, stderr } = await cli(['train-tokenizer', '--corpus', SCIFACT, '--vocab-size', '1024', '--max-texts', '500', '--output', out, '--json']);
  const r = JSON.parse(stdout) as Report;
  assert.equal(r.texts, 500);
  assert.equal(r.vocabSize, 1024);
  assert.equal(r.merges, 1024 - 258);
  assert.equal(r.stoppedBy, 'vocab-size');
  assert.equal(r.roundTripChecked, 200);
  assert.match(stderr, /compression on the training texts: \d\.\d{3} bytes\/token/);
  assert.deepEqual(readdirSync(out).sort(), ['tokenizer.json', 'tokenizer_config.json'], 'no temp files left');
  const cfg = JSON.parse(readFileSync(join(out, 'tokenizer_config.json'), 'utf8')) as { bos_token: string; eos_token: string; lion_bpe: { format_version: number; texts: number } };
  assert.deepEqual([cfg.bos_token, cfg.eos_token, cfg.lion_bpe.format_version, cfg.lion_bpe.texts], ['<|begin_of_text|>', '<|end_of_text|>', 1, 500]);
  const tok = loadTokenizer(out);
  assert.deepEqual([tok.vocabSize, tok.bosId, tok.eosId], [1024, 1022, 1023]);
  // The reported compression is what the loaded tokenizer gives on the same 500 texts.
  const lines = readFileSync(SCIFACT, 'utf8').split('\n').slice(0, 500);
  let tokens = 0;
  for (const l of lines) {
    const d = JSON.parse(l) as { title: string; text: string };
    tokens += tok.encodeRaw(d.title ? `${d.title} ${d.text}` : d.text).length;
  }
  assert.equal(tokens, r.tokens);
  assert.ok(Math.abs(r.bytes / tokens - r.bytesPerToken) < 1e-9);
});

test('lion train-tokenizer: .txt lines and a registered dataset together', async () => {
  const txt = join(work, 'plain.txt');
  writeFileSync(txt, 'the cat sat on the mat\n\nthe cat ate the rat\n');
  const out = join(work, 'mixed');
  const { stdout } = await cli(['train-tokenizer', '--corpus', txt, '--dataset', 'msmarco-passage/dl19-mini', '--max-texts', '102', '--vocab-size', '600', '--output', out, '--json']);
  const r = JSON.parse(stdout) as Report;
  assert.equal(r.texts, 102, 'two non-blank lines, then 100 passages');
  const tok = loadTokenizer(join(out, 'tokenizer.json'));
  assert.equal(tok.decode(tok.encodeRaw('the cat sat on the mat')), 'the cat sat on the mat');
  assert.ok(tok.encodeRaw(' the').length === 1, "' the' is frequent enough to be one token");
});

test('lion train-tokenizer: bad input names the flag and value', async () => {
  // exit 1: a failure while running; 2: a usage error (a bad flag value)
  const fails = async (args: string[], re: RegExp, code = 1): Promise<void> =>
    assert.rejects(cli(['train-tokenizer', ...args]), (e: { stderr: string; code: number }) => {
      assert.equal(e.code, code);
      assert.match(e.stderr, re);
      return true;
    });
  const out = join(work, 'bad');
  await fails(['--vocab-size', '1000', '--output', out], /^lion train-tokenizer: no text to train on; hint:/);
  await fails(['--corpus', join(work, 'nope.jsonl'), '--vocab-size', '1000', '--output', out], /no such corpus file '.*nope\.jsonl'; hint:/);
  await fails(['--corpus', SCIFACT, '--vocab-size', '100', '--output', out], /--vocab-size must be at least 258 .* got '100'/);
  await fails(['--corpus', SCIFACT, '--vocab-size', 'x', '--output', out], /--vocab-size must be a positive integer, got 'x'/, 2);
  await fails(['--corpus', SCIFACT, '--vocab-size', '1000', '--min-frequency', '0', '--output', out], /--min-frequency must be a positive integer, got '0'/, 2);
  assert.ok(!existsSync(out), 'nothing written on bad input');
});
