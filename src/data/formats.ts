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
import { DataError } from './errors.ts';

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
  const docs = f === 'beir' ? readBeirCorpus(path) : f === 'smart' ? readSmartDocs(path) : readMsmarcoCollection(path);
  yield* uniqueIds(docs, path, 'document', f !== 'smart');
}

/** Streams the queries of `path` in `format` (guessed when omitted). */
export async function* readQueries(path: string, format?: QueriesFormat): AsyncGenerator<Query> {
  const f = format ?? (await detectQueriesFormat(path));
  const queries = f === 'beir' ? readBeirQueries(path) : f === 'trec-sgml' ? readSgmlTopics(path) : f === 'smart' ? readSmartQueries(path) : readTsvQueries(path);
  yield* uniqueIds(queries, path, 'query', f === 'beir' || f === 'tsv');
}

/**
 * Passes records through, refusing a second record with an id already seen (it would silently
 * replace the first, or rank one id twice) and a file without records. `oneLine`: each record is one
 * non-blank line, so record numbers are turned into line numbers for the message.
 */
async function* uniqueIds<T extends { id: string }>(items: AsyncIterable<T>, path: string, kind: string, oneLine: boolean): AsyncGenerator<T> {
  const seen = new Map<string, number>();
  let n = 0;
  for await (const item of items) {
    n++;
    const first = seen.get(item.id);
    if (first !== undefined) {
      const where = oneLine ? `lines ${(await nonBlankLineNumbers(path, [first, n])).join(' and ')}` : `records ${first} and ${n}`;
      throw new DataError(path, (oneLine ? (await nonBlankLineNumbers(path, [n]))[0] : n) ?? n, `duplicate ${kind} id '${item.id}' (${where})`, `give every ${kind} its own id`);
    }
    seen.set(item.id, n);
    yield item;
  }
  if (n === 0) throw new Error(`lion: '${path}' holds no ${kind === 'query' ? 'queries' : 'documents'}; hint: check the file (an empty or wrong file, or the wrong format)`);
}

/** The line numbers of the given (1-based) non-blank lines: only read again to word an error. */
async function nonBlankLineNumbers(path: string, which: number[]): Promise<number[]> {
  const out = new Map<number, number>();
  let k = 0;
  for await (const { text, lineNo } of readLines(path)) {
    if (text.trim() === '') continue;
    if (which.includes(++k)) out.set(k, lineNo);
    if (out.size === which.length) break;
  }
  return which.map((w) => out.get(w) ?? w);
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
  const qrels = f === 'beir' ? await readBeirQrels(path) : f === 'three-column' ? await readThreeColumnQrels(path) : await readTrecQrels(path);
  if (qrels.size === 0) throw new Error(`lion: qrels file '${path}' holds no judgements; hint: check the file (an empty or wrong file)`);
  return qrels;
}
