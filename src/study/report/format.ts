/**
 * Shared vocabulary of the report: how numbers print (human units, fixed decimals so output is
 * deterministic), the canonical order of rows and lines, and their labels.
 * @module
 */
import type { StudyObjective, StudyParadigm, StudyResults, StudyRow } from './types.ts';

/** Shown where a value is missing (the run did not produce it). */
export const MISSING = '–';
/** Shown where a value does not apply (sparsity statistics of a dense model). */
export const NOT_APPLICABLE = 'n/a';

export const PARADIGMS: readonly StudyParadigm[] = ['sparse', 'dense'];
export const OBJECTIVES: readonly StudyObjective[] = ['cl', 'kd', 'cl+kd'];

/** One plotted line / one group of table rows: a paradigm trained with an objective. */
export interface LineKey {
  paradigm: StudyParadigm;
  objective: StudyObjective;
}

/** The six lines in canonical order (sparse before dense, CL, KD, CL+KD). */
export const LINES: readonly LineKey[] = PARADIGMS.flatMap((paradigm) =>
  OBJECTIVES.map((objective) => ({ paradigm, objective })),
);

export function objectiveLabel(o: StudyObjective): string {
  return o === 'cl' ? 'CL' : o === 'kd' ? 'KD' : 'CL+KD';
}

export function paradigmLabel(p: StudyParadigm | 'bm25'): string {
  return p === 'sparse' ? 'sparse' : p === 'dense' ? 'dense' : 'BM25';
}

export function lineLabel(k: LineKey): string {
  return `${paradigmLabel(k.paradigm)} ${objectiveLabel(k.objective)}`;
}

export function isFiniteNumber(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

/** A metric value: three decimals, as the paper's tables. */
export function formatMetric(v: number | undefined): string {
  return isFiniteNumber(v) ? v.toFixed(3) : MISSING;
}

/** A signed difference of metrics: `+0.043`, `-0.005`. */
export function formatDelta(v: number): string {
  const s = v.toFixed(3);
  // -0.000 reads as a loss; a difference that rounds to zero is shown unsigned-positive
  return s.startsWith('-') && Number(s) === 0 ? '+0.000' : s.startsWith('-') ? s : `+${s}`;
}

/** `digits` significant digits without exponent notation or trailing zeros (0.0456, 1.23, 123). */
export function formatSignificant(v: number, digits = 3): string {
  if (v === 0) return '0';
  const magnitude = Math.floor(Math.log10(Math.abs(v)));
  const decimals = Math.max(0, digits - 1 - magnitude);
  const s = v.toFixed(Math.min(decimals, 20));
  return s.includes('.') ? s.replace(/0+$/, '').replace(/\.$/, '') : s;
}

const SI: readonly [number, string][] = [
  [1e12, 'T'],
  [1e9, 'B'],
  [1e6, 'M'],
  [1e3, 'k'],
];

/** A count in SI units with 3 significant digits: 950, 12.3k, 1.24M, 3.2B (B = billion, as for parameters). */
export function formatCount(v: number | null | undefined): string {
  if (!isFiniteNumber(v)) return MISSING;
  const a = Math.abs(v);
  for (const [scale, unit] of SI) {
    // 999,600 rounds to 1000k at 3 digits; promote it to the next unit instead
    if (a >= scale * 0.9995) return `${formatSignificant(v / scale)}${unit}`;
  }
  return formatSignificant(v);
}

const BINARY: readonly string[] = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

/** Bytes in binary units: 512 B, 12.3 KiB, 1.05 GiB. */
export function formatBytes(v: number | undefined): string {
  if (!isFiniteNumber(v)) return MISSING;
  let x = v;
  let i = 0;
  while (Math.abs(x) >= 1023.5 && i < BINARY.length - 1) {
    x /= 1024;
    i++;
  }
  return i === 0 ? `${Math.round(x)} B` : `${formatSignificant(x)} ${BINARY[i]}`;
}

/** Seconds as `45.2 s`, `12 min 05 s`, `2 h 03 min`. */
export function formatDuration(seconds: number | undefined): string {
  if (!isFiniteNumber(seconds)) return MISSING;
  if (seconds < 60) return `${formatSignificant(seconds)} s`;
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  return h > 0 ? `${h} h ${String(m).padStart(2, '0')} min` : `${m} min ${String(sec).padStart(2, '0')} s`;
}

/** The rows of a line (paradigm × objective), smallest model first; rows without parameters last, by size name. */
export function lineRows(results: StudyResults, key: LineKey): StudyRow[] {
  return results.rows
    .filter((r) => r.kind === 'model' && r.paradigm === key.paradigm && r.objective === key.objective)
    .sort(compareBySize);
}

/** Lines that have at least one row, in canonical order. */
export function presentLines(results: StudyResults): LineKey[] {
  return LINES.filter((k) => lineRows(results, k).length > 0);
}

export function baselineRows(results: StudyResults): StudyRow[] {
  return results.rows.filter((r) => r.kind === 'baseline');
}

function compareBySize(a: StudyRow, b: StudyRow): number {
  const pa = a.params ?? Number.POSITIVE_INFINITY;
  const pb = b.params ?? Number.POSITIVE_INFINITY;
  if (pa !== pb) return pa < pb ? -1 : 1;
  return a.size < b.size ? -1 : a.size > b.size ? 1 : 0;
}

/**
 * The table's row order: baselines first, then sparse before dense, CL / KD / CL+KD, smallest model
 * first — so reading down a group is reading along a plotted line. Model rows with a paradigm or
 * objective outside the grid come last, in input order, rather than being dropped.
 */
export function orderedRows(results: StudyResults): StudyRow[] {
  const seen = new Set<StudyRow>();
  const out: StudyRow[] = [];
  const take = (rows: StudyRow[]): void => {
    for (const r of rows) {
      if (seen.has(r)) continue;
      seen.add(r);
      out.push(r);
    }
  };
  take(baselineRows(results));
  for (const k of LINES) take(lineRows(results, k));
  take(results.rows);
  return out;
}

/** The metric value of a row on an eval set, or undefined when missing or not finite. */
export function metricOf(row: StudyRow, evalSetId: string): number | undefined {
  const v = row.metrics[evalSetId];
  return isFiniteNumber(v) ? v : undefined;
}

/** Default size of a difference called noise when the results do not say. */
export const DEFAULT_NOISE = 0.005;
