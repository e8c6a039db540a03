/**
 * BEIR's on-disk format: `corpus.jsonl` ({_id, title, text}), `queries.jsonl` ({_id, text}) and
 * `qrels/<split>.tsv` (query-id, corpus-id, score; with or without a header line).
 * @module
 */
import { readLines, writeTextAtomic } from './lines.ts';
import { DataError, quote } from './errors.ts';
import { idField, parseGrade, parseJsonLine, stringField } from './parse.ts';
import { addJudgement } from './trec.ts';
import type { Doc, Qrels, Query } from './types.ts';

/** Streams the documents of a BEIR `corpus.jsonl` (`title` defaults to ''). Blank lines are skipped. */
export async function* readBeirCorpus(path: string): AsyncGenerator<Doc> {
  for await (const { text, lineNo } of readLines(path)) {
    if (text.trim() === '') continue;
    const o = parseJsonLine(text, path, lineNo);
    yield {
      id: idField(o, '_id', path, lineNo),
      title: stringField(o, 'title', path, lineNo, ''),
      text: stringField(o, 'text', path, lineNo),
    };
  }
}

/** Streams the queries of a BEIR `queries.jsonl`. */
export async function* readBeirQueries(path: string): AsyncGenerator<Query> {
  for await (const { text, lineNo } of readLines(path)) {
    if (text.trim() === '') continue;
    const o = parseJsonLine(text, path, lineNo);
    yield { id: idField(o, '_id', path, lineNo), text: stringField(o, 'text', path, lineNo) };
  }
}

/**
 * Reads BEIR qrels (`query-id<TAB>corpus-id<TAB>score`). A first line whose score column is not a
 * number is the header; a non-integer grade anywhere else is an error. A duplicate (query, doc) pair is an
 * error, as in trec_eval.
 */
export async function readBeirQrels(path: string): Promise<Qrels> {
  const qrels: Qrels = new Map();
  for await (const { text, lineNo } of readLines(path)) {
    if (text.trim() === '') continue;
    const f = text.split('\t');
    // The header line ('query-id corpus-id score'): a first line whose third field is not a number.
    if (lineNo === 1 && f.length >= 3 && Number.isNaN(Number(f[2]))) continue;
    if (f.length !== 3 && f.length !== 4) {
      throw new DataError(
        path,
        lineNo,
        `missing column: expected query-id, corpus-id, score separated by tabs, got ${quote(text)}`,
        'write three tab-separated fields per line',
      );
    }
    // BEIR files have 3 columns; a 4-column line is TREC-style (qid, iter, docid, grade).
    const [qid, docId, grade] = f.length === 3 ? [f[0]!, f[1]!, f[2]!] : [f[0]!, f[2]!, f[3]!];
    addJudgement(qrels, qid.trim(), docId.trim(), parseGrade(grade.trim(), path, lineNo), path, lineNo);
  }
  return qrels;
}

/** Writes a BEIR corpus.jsonl atomically. */
export async function writeBeirCorpus(path: string, docs: Iterable<Doc> | AsyncIterable<Doc>): Promise<void> {
  await writeTextAtomic(
    path,
    (async function* () {
      for await (const d of docs) yield `${JSON.stringify({ _id: d.id, title: d.title, text: d.text })}\n`;
    })(),
  );
}

/** Writes a BEIR queries.jsonl atomically. */
export async function writeBeirQueries(path: string, queries: Iterable<Query> | AsyncIterable<Query>): Promise<void> {
  await writeTextAtomic(
    path,
    (async function* () {
      for await (const q of queries) yield `${JSON.stringify({ _id: q.id, text: q.text })}\n`;
    })(),
  );
}

/** Writes BEIR qrels (with the `query-id corpus-id score` header) atomically. */
export async function writeBeirQrels(path: string, qrels: Qrels): Promise<void> {
  await writeTextAtomic(
    path,
    (function* () {
      yield 'query-id\tcorpus-id\tscore\n';
      for (const [qid, docs] of qrels) for (const [docId, grade] of docs) yield `${qid}\t${docId}\t${grade}\n`;
    })(),
  );
}
