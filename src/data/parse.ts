/**
 * Field parsers shared by the readers; each failure is a DataError naming file and line.
 * @module
 */
import { DataError, quote } from './errors.ts';

const INTEGER = /^[+-]?\d+$/;

/** Parses an integer grade; '1.0' or 'yes' is an error (trec_eval's atol would silently read 1 and 0). */
export function parseGrade(value: string, file: string, lineNo: number): number {
  if (!INTEGER.test(value)) {
    throw new DataError(
      file,
      lineNo,
      `non-integer relevance grade ${quote(value)}`,
      'grades are integers such as 0, 1, 2 (write 1, not 1.0)',
    );
  }
  return Number.parseInt(value, 10);
}

/** Parses a finite number (a run score). */
export function parseScore(value: string, file: string, lineNo: number): number {
  const x = Number(value);
  if (value.trim() === '' || !Number.isFinite(x)) {
    throw new DataError(
      file,
      lineNo,
      `score is not a finite number ${quote(value)}`,
      'the fifth column of a TREC run is a number such as 12.5',
    );
  }
  return x;
}

/** Parses one JSON object line. */
export function parseJsonLine(text: string, file: string, lineNo: number): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new DataError(
      file,
      lineNo,
      `malformed JSON line ${quote(text, 60)} (${(e as Error).message})`,
      'each line must be one complete JSON object',
    );
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) {
    throw new DataError(
      file,
      lineNo,
      `expected a JSON object, got ${quote(text, 60)}`,
      'each line must be one JSON object such as {"_id": "1", "text": "..."}',
    );
  }
  return v as Record<string, unknown>;
}

/** An id field: a string, or an integer written as a JSON number (MS MARCO files often do). */
export function idField(obj: Record<string, unknown>, key: string, file: string, lineNo: number): string {
  const v = obj[key];
  if (typeof v === 'string' && v !== '') return v;
  if (typeof v === 'number' && Number.isSafeInteger(v)) return String(v);
  throw new DataError(
    file,
    lineNo,
    v === undefined ? `missing field '${key}'` : `field '${key}' is not an id: ${quote(JSON.stringify(v))}`,
    `add "${key}": "<id>" to the object`,
  );
}

/** A string field; `fallback` when absent (undefined means required). */
export function stringField(
  obj: Record<string, unknown>,
  key: string,
  file: string,
  lineNo: number,
  fallback?: string,
): string {
  const v = obj[key];
  if (typeof v === 'string') return v;
  if ((v === undefined || v === null) && fallback !== undefined) return fallback;
  throw new DataError(
    file,
    lineNo,
    v === undefined ? `missing field '${key}'` : `field '${key}' is not a string: ${quote(JSON.stringify(v))}`,
    `add "${key}": "<text>" to the object`,
  );
}

/** Splits a TSV line and checks the column count. */
export function tsvFields(text: string, expected: number, file: string, lineNo: number, what: string): string[] {
  const f = text.split('\t');
  if (f.length !== expected) {
    throw new DataError(
      file,
      lineNo,
      `${f.length < expected ? 'missing column' : 'extra column'}: expected ${expected} tab-separated fields (${what}), got ${f.length} in ${quote(text, 60)}`,
      `write exactly ${expected} fields separated by tabs`,
    );
  }
  return f;
}

/** Splits on runs of whitespace, as trec_eval does. */
export function wsFields(text: string): string[] {
  return text.trim().split(/\s+/);
}
