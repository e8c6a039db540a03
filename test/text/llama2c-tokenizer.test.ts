import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import fc from 'fast-check';
import { FormatError } from '../../src/formats/errors.ts';
import { Llama2cTokenizer } from '../../src/text/llama2c-tokenizer.ts';
import { loadTokenizer } from '../../src/text/load.ts';

const models = resolve(import.meta.dirname, '../../../shared/data/models');
const TOK512 = join(models, 'stories260K/tok512.bin');
const LLAMA2 = join(models, 'llama2c-tokenizer/tokenizer.bin');

test('shared data is present (tests below need ../shared/data)', () => {
  assert.ok(existsSync(TOK512) && existsSync(LLAMA2), `missing tokenizers under ${models}`);
});

/**
 * llama2.c run.c `encode`, ported line by line (quadratic: every step re-scans every pair), over the
 * raw file: the reference for the linked-list implementation in src/text/llama2c-tokenizer.ts.
 */
function runCEncode(file: string, text: string): number[] {
  const b = readFileSync(file);
  const vocab: Buffer[] = [];
  const scores: number[] = [];
  for (let p = 4; p < b.length;) {
    const len = b.readInt32LE(p + 4);
    scores.push(b.readFloatLE(p));
    vocab.push(b.subarray(p + 8, p + 8 + len));
    p += 8 + len;
  }
  const lookup = (s: Buffer): number => vocab.findIndex((v) => v.equals(s));
  const tokens: number[] = [1];
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length > 0) tokens.push(lookup(Buffer.from(' ')));
  let buf: number[] = [];
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i] as number;
    if ((c & 0xc0) !== 0x80) buf = [];
    buf.push(c);
    if (i + 1 < bytes.length && ((bytes[i + 1] as number) & 0xc0) === 0x80 && buf.length < 4) continue;
    const id = lookup(Buffer.from(buf));
    if (id !== -1) tokens.push(id);
    else for (const x of buf) tokens.push(x + 3);
    buf = [];
  }
  for (;;) {
    let bestScore = -1e10;
    let bestId = -1;
    let bestIdx = -1;
    for (let i = 0; i < tokens.length - 1; i++) {
      const id = lookup(Buffer.concat([vocab[tokens[i] as number] as Buffer, vocab[tokens[i + 1] as number] as Buffer]));
      if (id !== -1 && (scores[id] as number) > bestScore) {
        bestScore = scores[id] as number;
        bestId = id;
        bestIdx = i;
      }
    }
    if (bestIdx === -1) break;
    tokens.splice(bestIdx, 2, bestId);
  }
  return tokens;
}

test('stories260K tok512: the documented greedy output encodes and decodes back exactly', () => {
  const tok = Llama2cTokenizer.fromFile(TOK512);
  assert.equal(tok.vocabSize, 512);
  assert.equal(tok.kind, 'llama2c');
  const md = readFileSync(join(models, 'stories260K/stories260K.md'), 'utf8');
  const documented = (/-t 0\.0\n([\s\S]*?)\n```/.exec(md) as RegExpExecArray)[1] as string;
  assert.ok(documented.startsWith('Once upon a time, there was a little girl named Lily.'), 'found the documented text');
  const ids = tok.encode(documented);
  assert.equal(ids[0], 1);
  assert.equal(tok.decode(ids), documented);
  // Hand-checked start: ' Once' ' upon' ' a' ' time' ',' in the tok512 vocabulary.
  assert.deepEqual(ids.slice(0, 6).map((i) => tok.idToToken(i)), ['<s>', '▁Once', '▁upon', '▁a', '▁time', ',']);
  // Newlines are not in the 512-piece vocabulary: byte fallback <0x0A> = 10 + 3.
  assert.ok(ids.includes(13), 'newline through byte fallback');
  assert.deepEqual(ids, runCEncode(TOK512, documented));
});

test('Llama-2 tokenizer.bin: published Llama-2 ids', () => {
  const tok = loadTokenizer(LLAMA2);
  assert.equal(tok.vocabSize, 32000);
  // Llama-2's ids for these (as the HF Llama-2 tokenizer gives them): ▁Hello 15043, ▁world 3186; ▁Once 9038, ▁upon 2501, ▁a 263, ▁time 931.
  assert.deepEqual(tok.encode('Hello world'), [1, 15043, 3186]);
  assert.deepEqual(tok.encode('Once upon a time'), [1, 9038, 2501, 263, 931]);
  assert.deepEqual(tok.encode(''), [1]);
  const hard = 'naïve café — 日本語 🦙\n\ttabs  and   spaces';
  assert.deepEqual(tok.encode(hard), runCEncode(LLAMA2, hard));
  assert.equal(tok.decode(tok.encode(hard)), hard);
  assert.equal(tok.tokenToId('▁Hello'), 15043);
  assert.equal(tok.tokenToId(' Hello'), 15043);
  assert.equal(tok.idToToken(13), '<0x0A>');
  assert.equal(tok.decode([1, 15043, 3186]), 'Hello world');
  // As run.c prints: a piece right after any BOS loses its leading space.
  assert.equal(tok.decode([1, 15043, 2, 1, 3186]), 'Helloworld');
  assert.equal(tok.decode([15043, 2], { skipSpecialTokens: false }), 'Hello</s>');
});

test('the fast merge loop equals run.c on random text (property)', () => {
  const tok = Llama2cTokenizer.fromFile(TOK512);
  const chars = fc.constantFrom('a', 'e', 't', 'h', ' ', 'T', '.', ',', '!', "'", '\n', 'é', '日', '🦙', 'x', 'q', 'o', 'n', 's', 'Lily');
  fc.assert(
    fc.property(fc.array(chars, { maxLength: 40 }).map((a) => a.join('')), (s) => {
      assert.deepEqual(tok.encode(s), runCEncode(TOK512, s));
      assert.equal(tok.decode(tok.encode(s)), s);
    }),
    { numRuns: 150, seed: 42 },
  );
});

test('batches use pad = EOS (2), left padding, BOS counted in maxLength', () => {
  const tok = Llama2cTokenizer.fromFile(TOK512);
  const b = tok.encodeBatch(['Once upon a time', 'Lily'], 4);
  assert.equal(b.seqLen, 4);
  assert.deepEqual(Array.from(b.ids.slice(0, 4)), tok.encode('Once upon a time').slice(0, 4));
  const lily = tok.encode('Lily');
  assert.deepEqual(Array.from(b.ids.slice(4)), [...new Array(4 - lily.length).fill(2), ...lily]);
});

test('bad tokenizer.bin files name the file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lion-tok-'));
  const cut = join(dir, 'tokenizer.bin');
  writeFileSync(cut, readFileSync(TOK512).subarray(0, 3001));
  assert.throws(() => Llama2cTokenizer.fromFile(dir), (e: unknown) => e instanceof FormatError && e.file === cut && /truncated|cut off/.test(e.message));
  writeFileSync(cut, Buffer.alloc(2));
  assert.throws(() => Llama2cTokenizer.fromFile(cut), (e: unknown) => e instanceof FormatError && /too short/.test(e.message));
  rmSync(dir, { recursive: true });
});
