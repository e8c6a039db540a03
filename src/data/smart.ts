/**
 * The SMART format of classic test collections such as Cranfield: records opened by `.I <id>` with
 * fields `.T` (title), `.A` (authors), `.B` (bibliography) and `.W` (text), and 3-column qrels
 * (`qid docid grade`, spaces).
 * @module
 */
import { readLines } from './lines.ts';
import { DataError, quote } from './errors.ts';
import { parseGrade, wsFields } from './parse.ts';
import { addJudgement } from './trec.ts';
import type { Doc, Qrels, Query } from './types.ts';

interface SmartRecord {
  id: string;
  lineNo: number;
  fields: Map<string, string[]>;
}

async function* readSmartRecords(path: string): AsyncGenerator<SmartRecord> {
  let rec: SmartRecord | null = null;
  let field = '';
  for await (const { text, lineNo } of readLines(path)) {
    const m = /^\.([A-Z])(?:\s+(.*))?$/.exec(text);
    if (m && m[1] === 'I') {
      if (rec) yield rec;
      const id = (m[2] ?? '').trim();
      if (!id) throw new DataError(path, lineNo, 'record without an id after .I', 'write records as ".I 12"');
      rec = { id, lineNo, fields: new Map() };
      field = '';
    } else if (m && rec) {
      field = m[1]!;
      if (!rec.fields.has(field)) rec.fields.set(field, []);
    } else if (rec && field) {
      rec.fields.get(field)!.push(text);
    } else if (text.trim() !== '') {
      throw new DataError(
        path,
        lineNo,
        `text outside a .I record: ${quote(text)}`,
        'a SMART file starts with ".I <id>"',
      );
    }
  }
  if (rec) yield rec;
}

const join = (lines: string[] | undefined): string => (lines ?? []).join(' ').replace(/\s+/g, ' ').trim();

/** Streams SMART documents: id from `.I`, title from `.T`, text from `.W`. */
export async function* readSmartDocs(path: string): AsyncGenerator<Doc> {
  for await (const r of readSmartRecords(path))
    yield { id: r.id, title: join(r.fields.get('T')), text: join(r.fields.get('W')) };
}

/**
 * Streams SMART queries. Cranfield's qrels number queries 1..225 in file order while `.I` numbers
 * skip values, so `sequentialIds` (default true, as ir_datasets does) renumbers them 1, 2, 3, …
 */
export async function* readSmartQueries(path: string, sequentialIds = true): AsyncGenerator<Query> {
  let n = 0;
  for await (const r of readSmartRecords(path)) {
    n++;
    yield { id: sequentialIds ? String(n) : String(Number(r.id)), text: join(r.fields.get('W')) };
  }
}

/** Reads 3-column whitespace qrels (`qid docid grade`), as Cranfield's `cranqrel`. */
export async function readThreeColumnQrels(path: string): Promise<Qrels> {
  const qrels: Qrels = new Map();
  for await (const { text, lineNo } of readLines(path)) {
    if (text.trim() === '') continue;
    const f = wsFields(text);
    if (f.length !== 3) {
      throw new DataError(
        path,
        lineNo,
        `${f.length < 3 ? 'missing column' : 'extra column'}: expected 'qid docid grade', got ${quote(text)}`,
        'write three fields per line',
      );
    }
    addJudgement(qrels, f[0]!, f[1]!, parseGrade(f[2]!, path, lineNo), path, lineNo);
  }
  return qrels;
}
