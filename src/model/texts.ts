/**
 * Reading texts to encode: JSONL lines `{"id", "text"}` or BEIR lines `{"_id", "title", "text"}`.
 * @module
 */
import { readLines } from '../data/lines.ts';
import { DataError, quote } from '../data/errors.ts';
import { beirDocText, type DocTextRule } from './encoder.ts';
import { docsFrom } from '../data/sources.ts';
import type { Doc } from '../data/types.ts';

/** id → text of each document, as the paper encodes it (BEIR: title + " " + text). */
export function docTexts(docs: Iterable<Doc>, rule: DocTextRule = 'authors'): Map<string, string> {
  const m = new Map<string, string>();
  for (const d of docs) m.set(d.id, beirDocText(d, rule));
  return m;
}

/** {@link docTexts} of a corpus file or dataset id, read as a stream. */
export async function corpusTextsFrom(spec: string, rule: DocTextRule = 'authors'): Promise<Map<string, string>> {
  const m = new Map<string, string>();
  for await (const d of docsFrom(spec)) m.set(d.id, beirDocText(d, rule));
  return m;
}

export interface IdText {
  id: string;
  text: string;
}

/** Parses one input line; BEIR documents become title + " " + text, as the paper encodes them. */
export function parseTextLine(line: string, file: string, lineNo: number, rule: DocTextRule = 'authors'): IdText {
  let o: unknown;
  try {
    o = JSON.parse(line);
  } catch (e) {
    throw new DataError(file, lineNo, `not valid JSON (${(e as Error).message}) in ${quote(line)}`, 'each line must be one JSON object such as {"id": "d1", "text": "…"}');
  }
  if (o === null || typeof o !== 'object' || Array.isArray(o)) throw new DataError(file, lineNo, `expected a JSON object, got ${quote(line)}`, 'write {"id": …, "text": …}');
  const r = o as Record<string, unknown>;
  const id = r.id ?? r._id;
  if (typeof id !== 'string' && typeof id !== 'number') throw new DataError(file, lineNo, 'the line has no "id" (or BEIR "_id")', 'add a string id to every line');
  if (typeof r.text !== 'string') throw new DataError(file, lineNo, `the line for id ${quote(String(id))} has no "text" string`, 'add a "text" field (BEIR documents may add "title")');
  const title = typeof r.title === 'string' ? r.title : undefined;
  return { id: String(id), text: beirDocText({ title, text: r.text }, rule) };
}

/** Streams the texts of a JSONL file in groups of at most `size` (bounded memory for any file size). */
export async function* readTextGroups(file: string, size: number, rule: DocTextRule = 'authors'): AsyncGenerator<IdText[]> {
  let group: IdText[] = [];
  for await (const { text, lineNo } of readLines(file)) {
    if (text.trim() === '') continue;
    group.push(parseTextLine(text, file, lineNo, rule));
    if (group.length >= size) {
      yield group;
      group = [];
    }
  }
  if (group.length) yield group;
}

/** Counts non-empty lines (for a progress total) without parsing them. */
export async function countLines(file: string): Promise<number> {
  let n = 0;
  for await (const { text } of readLines(file)) if (text.trim() !== '') n++;
  return n;
}
