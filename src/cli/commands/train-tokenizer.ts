/**
 * `lion train-tokenizer`: trains a byte-level BPE tokenizer (Llama-3's design, a chosen vocabulary
 * size) on corpus files or registered datasets and writes tokenizer.json + tokenizer_config.json.
 * @module
 */
import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { openDataset } from '../../data/datasets.ts';
import { readDocs } from '../../data/formats.ts';
import { readLines } from '../../data/lines.ts';
import { trainByteLevelBpe, type BpeTrainStats } from '../../text/bpe-train.ts';
import { saveTokenizerFiles } from '../../text/bpe-files.ts';
import { HfTokenizer } from '../../text/hf-tokenizer.ts';
import { positiveInt } from '../flags.ts';
import { progress, type Progress } from '../progress.ts';

export interface TrainTokenizerFlags {
  corpus?: string[];
  dataset?: string[];
  vocabSize: string;
  output: string;
  minFrequency: string;
  maxTexts?: string;
  json?: boolean;
}

/** What `lion train-tokenizer` reports (also its `--json` output). */
export interface TrainTokenizerReport extends BpeTrainStats {
  output: string;
  seconds: number;
  /** Texts decoded back to check the written file (decode(encode(x)) === x). */
  roundTripChecked: number;
}

const isPlainText = (path: string): boolean => /\.txt(\.gz)?$/.test(path);

/**
 * The texts of every source in turn, at most `maxTexts` in all: BEIR / MS MARCO / SMART documents as
 * title + " " + text (as Lion encodes documents), `.txt` files a non-blank line per text.
 */
async function* sourceTexts(corpora: readonly string[], datasets: readonly string[], maxTexts: number, log: (s: string) => void): AsyncGenerator<string> {
  let n = 0;
  const docText = (d: { title?: string; text: string }): string => (d.title ? `${d.title} ${d.text}` : d.text);
  for (const file of corpora) {
    if (isPlainText(file)) {
      for await (const { text } of readLines(file)) {
        if (text.trim() === '') continue;
        if (n++ >= maxTexts) return;
        yield text;
      }
    } else {
      for await (const d of readDocs(file)) {
        if (n++ >= maxTexts) return;
        yield docText(d);
      }
    }
  }
  for (const id of datasets) {
    for await (const d of openDataset(id, { log }).docs()) {
      if (n++ >= maxTexts) return;
      yield docText(d);
    }
  }
}

/** Runs the command; returns the report (the CLI prints it). */
export async function runTrainTokenizer(f: TrainTokenizerFlags, log: (line: string) => void = console.error): Promise<TrainTokenizerReport> {
  const cmd = 'train-tokenizer';
  const corpora = f.corpus ?? [];
  const datasets = f.dataset ?? [];
  if (corpora.length + datasets.length === 0) throw new Error(`lion ${cmd}: no text to train on; hint: give --corpus FILE... or --dataset ID`);
  for (const c of corpora) if (!existsSync(c)) throw new Error(`lion ${cmd}: no such corpus file '${c}'; hint: BEIR corpus.jsonl, an MS MARCO collection TSV, SMART, or .txt (one text a line)`);
  const vocabSize = positiveInt(cmd, '--vocab-size', f.vocabSize);
  const minFrequency = positiveInt(cmd, '--min-frequency', f.minFrequency);
  const maxTexts = f.maxTexts === undefined ? Infinity : positiveInt(cmd, '--max-texts', f.maxTexts);
  if (vocabSize < 258) throw new Error(`lion ${cmd}: --vocab-size must be at least 258 (256 byte symbols + BOS + EOS), got '${f.vocabSize}'; hint: 4096–32768 for small models`);

  const t0 = performance.now();
  let bar: Progress | undefined;
  let phase = '';
  const trained = await trainByteLevelBpe(sourceTexts(corpora, datasets, maxTexts, log), {
    vocabSize,
    minFrequency,
    onProgress: (p) => {
      if (p.phase !== phase) {
        bar?.stop();
        phase = p.phase;
        bar = p.phase === 'count' ? progress(Number.isFinite(maxTexts) ? maxTexts : 0, 'texts', 'counting') : progress(vocabSize - 258, 'merges', 'merging');
      }
      bar?.update(p.phase === 'count' ? p.texts : p.merges);
    },
  }).catch((e: unknown) => {
    const msg = (e as Error).message;
    throw new Error(msg.startsWith('lion: ') ? `lion ${cmd}: ${msg.slice(6)}` : msg, { cause: e });
  });
  bar?.stop();
  const s = trained.stats;
  if (s.texts === 0) throw new Error(`lion ${cmd}: the sources hold no text; hint: check --corpus / --dataset`);
  saveTokenizerFiles(f.output, trained);

  // Read the written file back with the loader Lion uses and check it on the first texts.
  const tok = HfTokenizer.fromFile(f.output);
  let checked = 0;
  for await (const text of sourceTexts(corpora, datasets, Math.min(maxTexts, 200), () => {})) {
    const back = tok.decode(tok.encodeRaw(text), { skipSpecialTokens: false });
    if (back !== text) throw new Error(`lion ${cmd}: the written tokenizer does not round-trip text ${checked + 1} of the corpus; hint: report this as a bug`);
    checked++;
  }
  const seconds = (performance.now() - t0) / 1000;
  const report: TrainTokenizerReport = { ...s, output: f.output, seconds, roundTripChecked: checked };
  if (s.vocabSize < vocabSize) log(`note: only ${s.vocabSize} of ${vocabSize} ids: no pair is left seen ${minFrequency}+ times (lower --min-frequency or add text)`);
  log(
    `trained on ${s.texts} texts (${(s.bytes / 1e6).toFixed(2)} MB, ${s.uniqueWords} distinct pre-tokens): ${s.merges} merges, vocab ${s.vocabSize} ` +
      `in ${seconds.toFixed(1)} s (count ${s.countSeconds.toFixed(1)} s, merge ${s.mergeSeconds.toFixed(1)} s)`,
  );
  log(`compression on the training texts: ${s.bytesPerToken.toFixed(3)} bytes/token (${s.tokens} tokens)`);
  log(`wrote ${f.output}/tokenizer.json and tokenizer_config.json (BOS ${tok.bosId}, EOS = pad ${tok.eosId})`);
  return report;
}

export function register(program: Command): void {
  program
    .command('train-tokenizer')
    .description('train a byte-level BPE tokenizer (Llama-3 design, your vocabulary size) and write tokenizer.json')
    .option('--corpus <file...>', 'BEIR corpus.jsonl, MS MARCO collection TSV, SMART, or .txt (one text a line); .gz too')
    .option('--dataset <id...>', 'registered datasets whose corpus to read (e.g. beir/scifact/test)')
    .requiredOption('--vocab-size <n>', 'ids in all, BOS and EOS included')
    .requiredOption('--output <dir>', 'folder for tokenizer.json and tokenizer_config.json')
    .option('--min-frequency <n>', 'merge only pairs seen at least this often', '2')
    .option('--max-texts <n>', 'read at most this many texts (in source order)')
    .option('--json', 'print the report as JSON on stdout')
    .action(async (f: TrainTokenizerFlags) => {
      const r = await runTrainTokenizer(f);
      if (f.json) console.log(JSON.stringify(r));
    });
}
