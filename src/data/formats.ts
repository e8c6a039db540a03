/**
 * One entry point per kind of file: names the on-disk formats, guesses a file's format from its name
 * and first line, and reads any of them into the common types.
 * @module
 */
import { readLines } from './lines.ts';
import { readBeirCorpus, readBeirQrels, readBeirQueries } from './beir.ts';
import { readMsmarcoCollection } from './msmarco.ts';
import { readSgmlTopics, readTrecQrels, readTsvQueries } from './trec.ts';
import { readSmartDocs, readSmartQueries, readThreeColumnQrels } from './smart.ts';
import type { Doc, Qrels, Query } from './types.ts';

export type CorpusFormat = 'beir' | 'msmarco-tsv' | 'smart';
export type QueriesFormat = 'beir' | 'tsv' | 'trec-sgml' | 'smart';
export type QrelsFormat = 'beir' | 'trec' | 'three-column';

async function firstLine(path: string): Promise<string> {
  for await (const { text } of readLines(path)) if (text.trim() !== '') return text;
  return '';
}

const stem = (path: string): string => path.replace(/\.gz$/, '');

/** Guesses a corpus file's format: `.jsonl` is BEIR, a `.I` first line is SMART, else `pid<TAB>text`. */
export async function detectCorpusFormat(path: string): Promise<CorpusFormat> {
  if (/\.jsonl?$/.test(stem(path))) return 'beir';
  const first = await firstLine(path);
  if (first.trimStart().startsWith('{')) return 'beir';
  if (/^\.I\s/.test(first)) return 'smart';
  return 'msmarco-tsv';
}

/** Guesses a queries file's format from its name and first line. */
export async function detectQueriesFormat(path: string): Promise<QueriesFormat> {
  if (/\.jsonl?$/.test(stem(path))) return 'beir';
  const first = await firstLine(path);
  if (first.trimStart().startsWith('{')) return 'beir';
  if (/^\s*<top>/i.test(first)) return 'trec-sgml';
  if (/^\.I\s/.test(first)) return 'smart';
  return 'tsv';
}

/** Guesses a qrels file's format: tab-separated 3 columns is BEIR, 4 fields TREC, else 3 whitespace fields. */
export async function detectQrelsFormat(path: string): Promise<QrelsFormat> {
  const first = await firstLine(path);
  const tabs = first.split('\t');
  if (tabs.length === 3) return 'beir';
  const ws = first.trim().split(/\s+/);
  return ws.length === 3 ? 'three-column' : 'trec';
}

/** Streams the documents of `path` in `format` (guessed when omitted). */
export async function* readDocs(path: string, format?: CorpusFormat): AsyncGenerator<Doc> {
  const f = format ?? (await detectCorpusFormat(path));
  if (f === 'beir') yield* readBeirCorpus(path);
  else if (f === 'smart') yield* readSmartDocs(path);
  else yield* readMsmarcoCollection(path);
}

/** Streams the queries of `path` in `format` (guessed when omitted). */
export async function* readQueries(path: string, format?: QueriesFormat): AsyncGenerator<Query> {
  const f = format ?? (await detectQueriesFormat(path));
  if (f === 'beir') yield* readBeirQueries(path);
  else if (f === 'trec-sgml') yield* readSgmlTopics(path);
  else if (f === 'smart') yield* readSmartQueries(path);
  else yield* readTsvQueries(path);
}

/** Reads all queries into a Map (id -> text), in file order. */
export async function loadQueries(path: string, format?: QueriesFormat): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for await (const q of readQueries(path, format)) out.set(q.id, q.text);
  return out;
}

/** Reads qrels in `format` (guessed when omitted). */
export async function readQrels(path: string, format?: QrelsFormat): Promise<Qrels> {
  const f = format ?? (await detectQrelsFormat(path));
  if (f === 'beir') return readBeirQrels(path);
  if (f === 'three-column') return readThreeColumnQrels(path);
  return readTrecQrels(path);
}
