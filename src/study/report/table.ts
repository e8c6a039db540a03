/**
 * The paper-style results table: a row per size × paradigm × objective plus the BM25 baseline;
 * a column per eval set's main metric, then sparsity (nnz per query / doc, FLOPS), index size and
 * encoding throughput. Rendered as fixed-width text for the terminal and as Markdown for
 * bench/RESULTS.md; both come from the same {@link tableModel} so they cannot disagree.
 * @module
 */
import {
  MISSING,
  NOT_APPLICABLE,
  formatBytes,
  formatCount,
  formatDuration,
  formatMetric,
  formatSignificant,
  isFiniteNumber,
  metricOf,
  objectiveLabel,
  orderedRows,
  paradigmLabel,
} from './format.ts';
import type { StudyResults, StudyRow } from './types.ts';

/** One column: a two-part header (name, unit or metric) and how a row fills it. */
export interface TableColumn {
  name: string;
  sub: string;
  align: 'left' | 'right';
  /** Eval set id for metric columns (used to mark the best value). */
  evalSetId?: string;
}

/** The table as strings, before any layout. */
export interface TableModel {
  columns: TableColumn[];
  /** Cells per row, in {@link orderedRows} order. */
  cells: string[][];
  /** Per row, per column: whether the value is the best of its metric column (ties included). */
  best: boolean[][];
  /** Index of the first row of each group (baseline, each paradigm × objective). */
  groupStarts: number[];
  rows: StudyRow[];
}

/** A sparse-only statistic: its value, 'n/a' for dense models, '–' when a sparse model lacks it. */
function sparseStat(row: StudyRow, v: number | undefined, fmt: (x: number) => string): string {
  if (isFiniteNumber(v)) return fmt(v);
  return row.paradigm === 'sparse' ? MISSING : NOT_APPLICABLE;
}

function formatFlopsCount(v: number): string {
  return v >= 1e4 ? v.toExponential(2).replace('e+', 'e') : formatSignificant(v);
}

/** Builds the cells of the table; the layout functions only arrange them. */
export function tableModel(results: StudyResults): TableModel {
  const rows = orderedRows(results);
  const hasTrainSeconds = rows.some((r) => isFiniteNumber(r.trainSeconds));
  const hasTrainFlops = rows.some((r) => isFiniteNumber(r.trainFlops));
  const columns: TableColumn[] = [
    { name: 'model', sub: '', align: 'left' },
    { name: 'params', sub: 'non-emb', align: 'right' },
    { name: 'paradigm', sub: '', align: 'left' },
    { name: 'objective', sub: '', align: 'left' },
    ...results.evalSets.map((e): TableColumn => ({ name: e.label, sub: e.metric, align: 'right', evalSetId: e.id })),
    { name: 'nnzQ', sub: 'mean', align: 'right' },
    { name: 'nnzD', sub: 'mean', align: 'right' },
    { name: 'FLOPS', sub: 'per pair', align: 'right' },
    { name: 'index', sub: 'size', align: 'right' },
    { name: 'encode', sub: 'tokens/s', align: 'right' },
  ];
  if (hasTrainFlops) columns.push({ name: 'train', sub: 'FLOPs', align: 'right' });
  if (hasTrainSeconds) columns.push({ name: 'train', sub: 'time', align: 'right' });

  const bestValue = new Map<string, number>();
  for (const e of results.evalSets) {
    const values = rows.map((r) => metricOf(r, e.id)).filter(isFiniteNumber);
    if (values.length > 0) bestValue.set(e.id, Math.max(...values));
  }

  const cells: string[][] = [];
  const best: boolean[][] = [];
  for (const r of rows) {
    const line: string[] = [
      r.size,
      r.kind === 'baseline' && r.params === null ? NOT_APPLICABLE : formatCount(r.params),
      paradigmLabel(r.paradigm),
      r.objective === null ? (r.kind === 'baseline' ? NOT_APPLICABLE : MISSING) : objectiveLabel(r.objective),
      ...results.evalSets.map((e) => formatMetric(metricOf(r, e.id))),
      sparseStat(r, r.nnzQuery, formatSignificant),
      sparseStat(r, r.nnzDoc, formatSignificant),
      sparseStat(r, r.flops, formatFlopsCount),
      formatBytes(r.indexBytes),
      formatCount(r.encodeTokensPerSec),
    ];
    if (hasTrainFlops) line.push(isFiniteNumber(r.trainFlops) ? formatFlopsCount(r.trainFlops) : MISSING);
    if (hasTrainSeconds) line.push(formatDuration(r.trainSeconds));
    cells.push(line);
    best.push(
      columns.map((c) => {
        if (c.evalSetId === undefined) return false;
        const v = metricOf(r, c.evalSetId);
        return v !== undefined && v === bestValue.get(c.evalSetId);
      }),
    );
  }

  const groupStarts: number[] = [];
  let prev = '';
  rows.forEach((r, i) => {
    const g = r.kind === 'baseline' ? 'baseline' : `${r.paradigm}/${r.objective}`;
    if (g !== prev) groupStarts.push(i);
    prev = g;
  });
  return { columns, cells, best, groupStarts, rows };
}

function pad(s: string, width: number, align: 'left' | 'right'): string {
  return align === 'left' ? s.padEnd(width) : s.padStart(width);
}

/**
 * The table as fixed-width text for a terminal: two header lines (name, then metric or unit), a rule
 * between row groups, and `*` after the best value of each eval set column.
 *
 * Missing values show as `–`; values that do not apply (sparsity of a dense model) as `n/a`.
 */
export function renderTable(results: StudyResults): string {
  const m = tableModel(results);
  // a marked column gives every value a one-char suffix ('*' or ' ') so right-aligned digits line up
  const marked = m.columns.map((_, j) => m.best.some((b) => b[j]));
  const suffix = (j: number, isBest: boolean): string => (marked[j] ? (isBest ? '*' : ' ') : '');
  const shown = m.cells.map((row, i) => row.map((c, j) => c + suffix(j, m.best[i]?.[j] ?? false)));
  const names = m.columns.map((c, j) => c.name + suffix(j, false));
  const subs = m.columns.map((c, j) => c.sub + suffix(j, false));
  const widths = m.columns.map((_, j) => Math.max(...[names, subs, ...shown].map((row) => (row[j] ?? '').length)));
  const fmtRow = (row: string[]): string =>
    m.columns
      .map((col, j) => pad(row[j] ?? '', widths[j] ?? 0, col.align))
      .join('  ')
      .trimEnd();
  const rule = widths.map((w) => '─'.repeat(w)).join('──');
  const out: string[] = [fmtRow(names), fmtRow(subs), rule];
  shown.forEach((row, i) => {
    if (i > 0 && m.groupStarts.includes(i)) out.push(rule.replace(/─/g, '·'));
    out.push(fmtRow(row));
  });
  out.push(rule);
  out.push(`* best on the eval set   ${MISSING} missing   ${NOT_APPLICABLE} not applicable`);
  return out.join('\n') + '\n';
}

function mdEscape(s: string): string {
  return s.replace(/\|/g, '\\|');
}

/**
 * The table as GitHub Markdown (for bench/RESULTS.md): one header row (`SciFact nDCG@10`), numbers
 * right-aligned, the best value of each eval set in bold.
 */
export function renderMarkdownTable(results: StudyResults): string {
  const m = tableModel(results);
  const header = m.columns.map((c) => mdEscape(c.sub ? `${c.name} ${c.sub}` : c.name));
  const align = m.columns.map((c) => (c.align === 'right' ? '---:' : ':---'));
  const body = m.cells.map((row, i) =>
    row.map((c, j) => {
      const s = mdEscape(c);
      return m.best[i]?.[j] ? `**${s}**` : s;
    }),
  );
  const line = (cells: string[]): string => `| ${cells.join(' | ')} |`;
  return (
    [line(header), line(align), ...body.map(line)].join('\n') +
    `\n\nBold: best on the eval set. ${MISSING}: missing. ${NOT_APPLICABLE}: not applicable.\n`
  );
}
