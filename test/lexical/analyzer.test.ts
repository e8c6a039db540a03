import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { englishAnalyzer, tokenize, LUCENE_ENGLISH_STOP_WORDS } from '../../src/lexical/analyzer.ts';
import { readBeirCorpus } from '../../src/data/beir.ts';
import { requireSharedData } from '../data/helpers.ts';

test('tokenizer follows UAX #29 word boundaries for the common cases', () => {
  assert.deepEqual(tokenize("U.S.A. don't 3.5 1,000 e-mail CD33’s First,CsA 2:1 a:b x_y 漢字 naïve"), [
    'U.S.A',
    "don't",
    '3.5',
    '1,000',
    'e',
    'mail',
    'CD33',
    's',
    'First',
    'CsA',
    '2',
    '1',
    'a:b',
    'x_y',
    '漢',
    '字',
    'naïve',
  ]);
  assert.deepEqual(tokenize('  ...  '), []);
});

test('the English analyser: possessive, lower case, Lucene stop words, Porter', () => {
  const a = englishAnalyzer();
  assert.deepEqual(a("The Dog's toys were running into THE caresses of ponies"), [
    'dog',
    'toi',
    'were',
    'run',
    'caress',
    'poni',
  ]);
  assert.equal(LUCENE_ENGLISH_STOP_WORDS.size, 33);
  assert.deepEqual(englishAnalyzer({ stopWords: new Set(), stem: false })('The Dogs'), ['the', 'dogs']);
});

test('on SciFact the regex tokenizer agrees with ICU word segmentation (Intl.Segmenter) on >= 99.5% of documents', async () => {
  const data = requireSharedData();
  const seg = new Intl.Segmenter('en', { granularity: 'word' });
  let same = 0;
  let n = 0;
  for await (const d of readBeirCorpus(join(data, 'beir/scifact/corpus.jsonl'))) {
    if (n++ >= 1500) break; // a third of the corpus keeps the test fast; the bench checks all
    const text = `${d.title} ${d.text}`;
    const icu = [...seg.segment(text)].filter((s) => s.isWordLike).map((s) => s.segment);
    if (icu.join('\u0000') === tokenize(text).join('\u0000')) same++;
  }
  assert.ok(same / 1500 >= 0.995, `${same}/1500`);
});
