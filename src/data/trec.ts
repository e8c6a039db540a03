/**
 * TREC formats: qrels (`qid iter docno grade`), runs (`qid Q0 docno rank score tag`) and topics
 * (`qid<TAB>text` lines, optionally gzipped, or the SGML `<top>` blocks of classic TREC).
 * Readers follow trec_eval: whitespace-separated fields, the rank column ignored, hits re-sorted by
 * score then doc id, and a duplicate doc within one query refused.
 * @module
 */
import { readLines, writeTextAtomic } from './lines.ts';
import { DataError, quote } from './errors.ts';
import { parseGrade, parseScore, wsFields } from './parse.ts';
import { compareHits, type Qrels, type Query, type Run } from './types.ts';

/** Adds one judgement, refusing a second grade for the same (query, doc) pair as trec_eval does. */
export function addJudgement(
  qrels: Qrels,
  qid: string,
  docId: string,
  grade: number,
  file: string,
  lineNo: number,
): void {
  let docs = qrels.get(qid);
  if (!docs) qrels.set(qid, (docs = new Map()));
  if (docs.has(docId)) {
    throw new DataError(
      file,
      lineNo,
      `duplicate judgement for query '${qid}' and doc '${docId}'`,
      'keep one line per (query, doc) pair; trec_eval refuses duplicates too',
    );
  }
  docs.set(docId, grade);
}

/** Reads TREC qrels: `qid iter docno grade` separated by spaces or tabs. `#` lines are comments. */
export async function readTrecQrels(path: string): Promise<Qrels> {
  const qrels: Qrels = new Map();
  for await (const { text, lineNo } of readLines(path)) {
    const t = text.trim();
    if (t === '' || t.startsWith('#')) continue;
    const f = wsFields(t);
    if (f.length !== 4) {
      throw new DataError(
        path,
        lineNo,
        `${f.length < 4 ? 'missing column' : 'extra column'}: expected 4 fields 'qid iter docno grade', got ${f.length} in ${quote(t)}`,
        'write one judgement per line as: 301 0 FBIS3-10082 1',
      );
    }
    addJudgement(qrels, f[0]!, f[2]!, parseGrade(f[3]!, path, lineNo), path, lineNo);
  }
  return qrels;
}

/** Options for reading a run. */
export interface ReadRunOptions {
  /** Receives the tag (6th column) of the last line, as trec_eval keeps it. */
  onTag?: (tag: string) => void;
}

/**
 * Reads a TREC run. The rank column is ignored; each query's hits come back sorted as trec_eval ranks
 * them (score descending, then doc id descending). Fields after the 6th are ignored (as trec_eval).
 * A doc listed twice for one query is an error naming both lines.
 */
export async function readTrecRun(path: string, opts: ReadRunOptions = {}): Promise<Run> {
  const run: Run = new Map();
  const seen = new Map<string, Map<string, number>>(); // qid -> docId -> line, for duplicate errors
  let tag = '';
  for await (const { text, lineNo } of readLines(path)) {
    const t = text.trim();
    if (t === '' || t.startsWith('#')) continue;
    const f = wsFields(t);
    if (f.length < 6) {
      throw new DataError(
        path,
        lineNo,
        `missing column: expected 6 fields 'qid Q0 docno rank score tag', got ${f.length} in ${quote(t)}`,
        'write each hit as: 301 Q0 FBIS3-10082 1 12.5 myrun',
      );
    }
    const [qid, , docId, , score] = f as [string, string, string, string, string];
    let hits = run.get(qid);
    let lines = seen.get(qid);
    if (!hits || !lines) {
      run.set(qid, (hits = []));
      seen.set(qid, (lines = new Map()));
    }
    const first = lines.get(docId);
    if (first !== undefined) {
      throw new DataError(
        path,
        lineNo,
        `duplicate doc '${docId}' for query '${qid}' (first at line ${first})`,
        'list each doc at most once per query; trec_eval refuses duplicates too',
      );
    }
    lines.set(docId, lineNo);
    hits.push({ docId, score: parseScore(score, path, lineNo) });
    tag = f[5]!;
  }
  if (run.size === 0) throw new Error(`lion: run file '${path}' holds no hits; hint: a TREC run has lines 'qid Q0 docno rank score tag'`);
  for (const hits of run.values()) hits.sort(compareHits);
  opts.onTag?.(tag);
  return run;
}

/** Formats a score so that it reads back as the same double (shortest round-trip form). */
function formatScore(x: number): string {
  return Number.isInteger(x) ? x.toFixed(1) : String(x);
}

/** The lines of a TREC run, each query's hits in trec_eval order with ranks 1..n. */
export function* trecRunLines(run: Run, tag: string): Generator<string> {
  if (/\s/.test(tag) || tag === '')
    throw new Error(`lion: run tag must be one word, got '${tag}'; hint: use a tag such as lion-bm25`);
  for (const [qid, hits] of run) {
    if (/\s/.test(qid) || qid === '')
      throw new Error(`lion: query id '${qid}' is empty or contains whitespace, which a TREC run cannot hold; hint: give queries single-word ids`);
    const sorted = [...hits].sort(compareHits);
    const seen = new Set<string>();
    let rank = 0;
    for (const h of sorted) {
      if (/\s/.test(h.docId) || h.docId === '')
        throw new Error(`lion: doc id '${h.docId}' is empty or contains whitespace, which a TREC run cannot hold; hint: give documents single-word ids`);
      if (seen.has(h.docId))
        throw new Error(`lion: doc '${h.docId}' is ranked twice for query '${qid}'; hint: the collection holds two documents with this id: give each document its own id`);
      seen.add(h.docId);
      yield `${qid} Q0 ${h.docId} ${++rank} ${formatScore(h.score)} ${tag}\n`;
    }
  }
}

/** Writes a TREC run atomically (`.gz` when the name says so). */
export async function writeTrecRun(path: string, run: Run, tag = 'lion'): Promise<void> {
  await writeTextAtomic(path, trecRunLines(run, tag));
}

/** Writes TREC qrels atomically. */
export async function writeTrecQrels(path: string, qrels: Qrels): Promise<void> {
  await writeTextAtomic(
    path,
    (function* () {
      for (const [qid, docs] of qrels) for (const [docId, g] of docs) yield `${qid} 0 ${docId} ${g}\n`;
    })(),
  );
}

/** Streams `qid<TAB>text` query lines (MS MARCO queries, Anserini topics; `.gz` too). */
export async function* readTsvQueries(path: string): AsyncGenerator<Query> {
  for await (const { text, lineNo } of readLines(path)) {
    if (text.trim() === '') continue;
    const tab = text.indexOf('\t');
    if (tab <= 0) {
      throw new DataError(
        path,
        lineNo,
        `missing column: expected 'qid<TAB>text', got ${quote(text)}`,
        'separate the query id and its text with a tab',
      );
    }
    yield { id: text.slice(0, tab).trim(), text: text.slice(tab + 1) };
  }
}

/** Which part of an SGML TREC topic becomes the query text. */
export type TopicField = 'title' | 'desc' | 'narr';

/**
 * Streams classic TREC SGML topics (`<top> <num> Number: 301 <title> ... </top>`), taking `field`
 * (default: title) as the query text. Tags are matched case-insensitively; "Number:" and
 * "Description:" labels are dropped.
 */
export async function* readSgmlTopics(path: string, field: TopicField = 'title'): AsyncGenerator<Query> {
  let block: string[] = [];
  let startLine = 0;
  for await (const { text, lineNo } of readLines(path)) {
    if (/<top>/i.test(text)) {
      block = [];
      startLine = lineNo;
      continue;
    }
    if (/<\/top>/i.test(text)) {
      yield sgmlTopic(block.join('\n'), field, path, startLine);
      startLine = 0;
      continue;
    }
    if (startLine) block.push(text);
  }
  if (startLine) throw new DataError(path, startLine, '<top> block without </top>', 'close every topic with </top>');
}

function sgmlTopic(body: string, field: TopicField, path: string, lineNo: number): Query {
  // Each tag's text runs to the next tag (classic topics do not close <num>, <title>, <desc>).
  const parts = new Map<string, string>();
  const re = /<(num|title|desc|narr)>([\s\S]*?)(?=<\/?(?:num|title|desc|narr)>|$)/gi;
  for (const m of body.matchAll(re)) parts.set(m[1]!.toLowerCase(), m[2]!);
  const num = parts
    .get('num')
    ?.replace(/number:/i, '')
    .trim();
  if (!num) throw new DataError(path, lineNo, 'topic without <num>', 'give every topic a <num> Number: N line');
  const raw = parts.get(field);
  if (raw === undefined)
    throw new DataError(
      path,
      lineNo,
      `topic '${num}' has no <${field}>`,
      `choose a field the topics have (title, desc or narr)`,
    );
  const text = raw
    .replace(/^\s*(description|narrative):/i, '')
    .replace(/\s+/g, ' ')
    .trim();
  return { id: num, text };
}
