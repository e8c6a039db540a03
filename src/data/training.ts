/**
 * Training examples. Every supported file reads into one internal type, `TrainingExample`:
 *
 * | format | one JSON line |
 * |---|---|
 * | `cl` | `{question, pos_pid, neg_pids[]}` (docs/paper.md §7, contrastive) |
 * | `cl-kd` | `{question, pos_pid, neg_pids[], pos_score, neg_scores[]}` (docs/paper.md §7, CL+KD) |
 * | `kd` | `{query, docids[], scores[]}`, positive first (docs/paper.md §7, MarginMSE); `qid` may replace `query` |
 * | `st-hard-negatives` | `{qid, pos[], neg: {system: [pid…]}}` (sentence-transformers msmarco-hard-negatives) |
 * | `text` | `{query, pos[], neg[], pos_scores?, neg_scores?}` with texts instead of ids |
 * @module
 */
import { readLines, writeTextAtomic } from './lines.ts';
import { DataError, quote } from './errors.ts';
import { parseJsonLine } from './parse.ts';

/** A query or passage: by id (looked up in a corpus) and/or by its text. */
export interface TextRef {
  id?: string;
  text?: string;
}

/** One training example: a query, its positives, its negatives, and teacher scores when known. */
export interface TrainingExample {
  query: TextRef;
  positives: TextRef[];
  negatives: TextRef[];
  /** Teacher scores aligned with `positives` (KD formats). */
  positiveScores?: number[];
  /** Teacher scores aligned with `negatives` (KD formats). */
  negativeScores?: number[];
}

export type TrainingFormat = 'cl' | 'cl-kd' | 'kd' | 'st-hard-negatives' | 'text';

/** Which format one parsed line is in, from its keys. */
export function detectTrainingFormat(o: Record<string, unknown>): TrainingFormat | null {
  if ('question' in o && 'pos_pid' in o) return 'pos_score' in o || 'neg_scores' in o ? 'cl-kd' : 'cl';
  if ('docids' in o) return 'kd';
  if ('pos' in o && 'neg' in o) {
    const neg = o['neg'];
    return neg !== null && typeof neg === 'object' && !Array.isArray(neg) ? 'st-hard-negatives' : 'text';
  }
  return null;
}

export interface ReadTrainingOptions {
  /** The file's format; detected from the first line when omitted. */
  format?: TrainingFormat;
  /** st-hard-negatives: take negatives only from these systems (default: all, in file order). */
  systems?: string[];
}

type Ctx = { file: string; line: number };

function fail(c: Ctx, what: string, hint: string): never {
  throw new DataError(c.file, c.line, what, hint);
}

function id(v: unknown, key: string, c: Ctx): string {
  if (typeof v === 'string' && v !== '') return v;
  if (typeof v === 'number' && Number.isSafeInteger(v)) return String(v);
  return fail(
    c,
    v === undefined ? `missing field '${key}'` : `field '${key}' is not an id: ${quote(JSON.stringify(v))}`,
    `give "${key}" as a string or integer id`,
  );
}

function ids(v: unknown, key: string, c: Ctx): string[] {
  if (!Array.isArray(v))
    fail(
      c,
      v === undefined ? `missing field '${key}'` : `field '${key}' is not a list`,
      `give "${key}" as a list of ids`,
    );
  return v.map((x, i) => id(x, `${key}[${i}]`, c));
}

function texts(v: unknown, key: string, c: Ctx): string[] {
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string'))
    fail(c, `field '${key}' is not a list of strings`, `give "${key}" as a list of passage texts`);
  return v as string[];
}

function text(v: unknown, key: string, c: Ctx): string {
  if (typeof v !== 'string')
    fail(
      c,
      v === undefined ? `missing field '${key}'` : `field '${key}' is not a string`,
      `give "${key}" as the query text`,
    );
  return v;
}

function scores(v: unknown, key: string, n: number, c: Ctx): number[] {
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'number' || !Number.isFinite(x)))
    fail(c, `field '${key}' is not a list of numbers`, `give "${key}" as a list of teacher scores`);
  if (v.length !== n)
    fail(c, `field '${key}' has ${v.length} scores for ${n} passages`, 'give one score per passage, in the same order');
  return v as number[];
}

function score(v: unknown, key: string, c: Ctx): number {
  if (typeof v !== 'number' || !Number.isFinite(v))
    fail(c, `field '${key}' is not a number`, `give "${key}" as a teacher score`);
  return v;
}

/** Converts one parsed line in `format` into a TrainingExample. */
export function toTrainingExample(
  o: Record<string, unknown>,
  format: TrainingFormat,
  c: Ctx,
  systems?: string[],
): TrainingExample {
  switch (format) {
    case 'cl':
    case 'cl-kd': {
      const negs = ids(o['neg_pids'], 'neg_pids', c);
      const ex: TrainingExample = {
        query: { text: text(o['question'], 'question', c) },
        positives: [{ id: id(o['pos_pid'], 'pos_pid', c) }],
        negatives: negs.map((x) => ({ id: x })),
      };
      if (format === 'cl-kd') {
        ex.positiveScores = [score(o['pos_score'], 'pos_score', c)];
        ex.negativeScores = scores(o['neg_scores'], 'neg_scores', negs.length, c);
      }
      return ex;
    }
    case 'kd': {
      const docs = ids(o['docids'], 'docids', c);
      if (docs.length < 2)
        fail(c, `field 'docids' has ${docs.length} ids`, 'list the positive first, then at least one negative');
      const s = scores(o['scores'], 'scores', docs.length, c);
      // A string `query` is the query text; `qid` (or a numeric `query`) is an id.
      const q: TextRef =
        typeof o['query'] === 'string' ? { text: o['query'] } : { id: id(o['qid'] ?? o['query'], 'qid', c) };
      return {
        query: q,
        positives: [{ id: docs[0]! }],
        negatives: docs.slice(1).map((x) => ({ id: x })),
        positiveScores: [s[0]!],
        negativeScores: s.slice(1),
      };
    }
    case 'st-hard-negatives': {
      const pos = ids(o['pos'], 'pos', c);
      const neg = o['neg'] as Record<string, unknown>;
      const seen = new Set(pos);
      const negatives: TextRef[] = [];
      for (const sys of systems ?? Object.keys(neg)) {
        if (!(sys in neg)) continue;
        for (const x of ids(neg[sys], `neg.${sys}`, c)) {
          if (seen.has(x)) continue; // a positive, or already taken from an earlier system
          seen.add(x);
          negatives.push({ id: x });
        }
      }
      return { query: { id: id(o['qid'], 'qid', c) }, positives: pos.map((x) => ({ id: x })), negatives };
    }
    case 'text': {
      const pos = texts(o['pos'], 'pos', c);
      const neg = texts(o['neg'], 'neg', c);
      const ex: TrainingExample = {
        query: { text: text(o['query'], 'query', c) },
        positives: pos.map((t) => ({ text: t })),
        negatives: neg.map((t) => ({ text: t })),
      };
      if ('pos_scores' in o) ex.positiveScores = scores(o['pos_scores'], 'pos_scores', pos.length, c);
      if ('neg_scores' in o) ex.negativeScores = scores(o['neg_scores'], 'neg_scores', neg.length, c);
      return ex;
    }
  }
}

/** Streams the examples of a training JSONL file (`.gz` too), one line at a time. */
export async function* readTrainingExamples(
  path: string,
  opts: ReadTrainingOptions = {},
): AsyncGenerator<TrainingExample> {
  let format = opts.format;
  for await (const { text: line, lineNo } of readLines(path)) {
    if (line.trim() === '') continue;
    const o = parseJsonLine(line, path, lineNo);
    const c = { file: path, line: lineNo };
    if (!format) {
      const f = detectTrainingFormat(o);
      if (!f)
        fail(
          c,
          `unknown training-example format, keys ${quote(Object.keys(o).join(', '))}`,
          'use {question, pos_pid, neg_pids}, {query, docids, scores}, {qid, pos, neg:{…}} or {query, pos, neg}',
        );
      format = f;
    }
    yield toTrainingExample(o, format, c, opts.systems);
  }
}

function refId(r: TextRef, what: string): string {
  if (r.id === undefined)
    throw new Error(
      `lion: ${what} has no id; hint: the docs/paper.md §7 formats store passage ids, use the 'text' format for texts`,
    );
  return r.id;
}

/** Serialises one example in `format` (the inverse of toTrainingExample for that format). */
export function fromTrainingExample(
  ex: TrainingExample,
  format: Exclude<TrainingFormat, 'st-hard-negatives'>,
): Record<string, unknown> {
  const pos = ex.positives[0];
  if (!pos) throw new Error('lion: training example without a positive; hint: every example needs one positive');
  switch (format) {
    case 'cl':
    case 'cl-kd': {
      const o: Record<string, unknown> = {
        question: ex.query.text ?? '',
        pos_pid: refId(pos, 'positive'),
        neg_pids: ex.negatives.map((n) => refId(n, 'negative')),
      };
      if (format === 'cl-kd') {
        if (!ex.positiveScores || !ex.negativeScores)
          throw new Error('lion: cl-kd needs teacher scores; hint: fill positiveScores and negativeScores');
        o['pos_score'] = ex.positiveScores[0];
        o['neg_scores'] = ex.negativeScores;
      }
      return o;
    }
    case 'kd': {
      if (!ex.positiveScores || !ex.negativeScores)
        throw new Error('lion: kd needs teacher scores; hint: fill positiveScores and negativeScores');
      const q = ex.query.text !== undefined ? { query: ex.query.text } : { qid: ex.query.id };
      return {
        ...q,
        docids: [refId(pos, 'positive'), ...ex.negatives.map((n) => refId(n, 'negative'))],
        scores: [ex.positiveScores[0], ...ex.negativeScores],
      };
    }
    case 'text': {
      const o: Record<string, unknown> = {
        query: ex.query.text ?? '',
        pos: ex.positives.map((p) => p.text ?? ''),
        neg: ex.negatives.map((n) => n.text ?? ''),
      };
      if (ex.positiveScores) o['pos_scores'] = ex.positiveScores;
      if (ex.negativeScores) o['neg_scores'] = ex.negativeScores;
      return o;
    }
  }
}

/** Writes examples as JSONL in `format`, atomically. */
export async function writeTrainingExamples(
  path: string,
  examples: Iterable<TrainingExample> | AsyncIterable<TrainingExample>,
  format: Exclude<TrainingFormat, 'st-hard-negatives'>,
): Promise<void> {
  await writeTextAtomic(
    path,
    (async function* () {
      for await (const ex of examples) yield `${JSON.stringify(fromTrainingExample(ex, format))}\n`;
    })(),
  );
}
