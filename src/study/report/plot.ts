/**
 * The paper's figures as hand-written SVG: for each eval set, its main metric against non-embedding
 * parameters on a log-scale x axis, one line with point markers per paradigm × objective, and BM25 as
 * a horizontal dashed line.
 *
 * Encoding: colour family = paradigm (sparse blues, dense oranges), dash pattern and marker shape =
 * objective (CL solid + circle, KD dashed + square, CL+KD dotted + triangle), so a line is readable
 * in grey print and by colour-blind readers. Each line is exactly one `<path>`; markers, grid, axes,
 * legend samples and baselines use other elements. Output is deterministic: coordinates are
 * rounded to 0.01 px and nothing depends on time or iteration order of a hash map.
 * @module
 */
import {
  LINES,
  baselineRows,
  formatCount,
  formatMetric,
  isFiniteNumber,
  lineLabel,
  lineRows,
  metricOf,
  type LineKey,
} from './format.ts';
import { el, niceTicks, num, text, xmlEscape } from './svg.ts';
import type { EvalSetSpec, StudyObjective, StudyResults, StudyRow } from './types.ts';

/** One figure: `id` is safe as a file name. */
export interface Plot {
  id: string;
  title: string;
  svg: string;
}

export interface PlotPoint {
  params: number;
  value: number;
  size: string;
}

export interface PlotSeries {
  line: LineKey;
  points: PlotPoint[];
}

/** What one figure draws, before geometry. */
export interface PlotSpec {
  id: string;
  title: string;
  /** y axis label. */
  metric: string;
  series: PlotSeries[];
  baselines: { label: string; value: number }[];
}

interface LineStyle {
  color: string;
  dash: string | undefined;
  marker: 'circle' | 'square' | 'triangle';
}

// ColorBrewer Blues / Oranges, darkest for CL so the claim's key lines stand out
const COLORS: Record<LineKey['paradigm'], Record<StudyObjective, string>> = {
  sparse: { cl: '#08519c', kd: '#3182bd', 'cl+kd': '#6baed6' },
  dense: { cl: '#a63603', kd: '#e6550d', 'cl+kd': '#fd8d3c' },
};
const DASH: Record<StudyObjective, string | undefined> = { cl: undefined, kd: '7 4', 'cl+kd': '1.5 3.5' };
const MARKER: Record<StudyObjective, LineStyle['marker']> = { cl: 'circle', kd: 'square', 'cl+kd': 'triangle' };
const BASELINE_COLOR = '#555555';
const BASELINE_DASH = '5 4';

export function lineStyle(k: LineKey): LineStyle {
  return { color: COLORS[k.paradigm][k.objective], dash: DASH[k.objective], marker: MARKER[k.objective] };
}

/** A file-name-safe id from an eval set id: `beir/scifact/test` -> `beir-scifact-test`. */
export function plotId(evalSetId: string): string {
  const s = evalSetId
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^[-.]+|-+$/g, '');
  return s === '' ? 'eval-set' : s;
}

function seriesFor(results: StudyResults, value: (r: StudyRow) => number | undefined): PlotSeries[] {
  const out: PlotSeries[] = [];
  for (const line of LINES) {
    const points: PlotPoint[] = [];
    for (const r of lineRows(results, line)) {
      const v = value(r);
      // a point needs both coordinates; a row without a parameter count cannot sit on a log axis
      if (isFiniteNumber(r.params) && r.params > 0 && v !== undefined)
        points.push({ params: r.params, value: v, size: r.size });
    }
    if (points.length > 0) out.push({ line, points });
  }
  return out;
}

function baselinesFor(results: StudyResults, value: (r: StudyRow) => number | undefined): PlotSpec['baselines'] {
  return baselineRows(results).flatMap((r) => {
    const v = value(r);
    return v === undefined ? [] : [{ label: r.size, value: v }];
  });
}

/** The figures' contents: one per eval set, plus an out-of-domain mean when ≥ 2 out-of-domain sets share a metric. */
export function plotSpecs(results: StudyResults): PlotSpec[] {
  const used = new Set<string>();
  const uniqueId = (base: string): string => {
    let id = base;
    for (let i = 2; used.has(id); i++) id = `${base}-${i}`;
    used.add(id);
    return id;
  };
  const specs: PlotSpec[] = results.evalSets.map((e) => ({
    id: uniqueId(plotId(e.id)),
    title: `${e.label} (${e.domain === 'in' ? 'in-domain' : 'out-of-domain'})`,
    metric: e.metric,
    series: seriesFor(results, (r) => metricOf(r, e.id)),
    baselines: baselinesFor(results, (r) => metricOf(r, e.id)),
  }));
  const out = results.evalSets.filter((e) => e.domain === 'out');
  const metric = out[0]?.metric;
  if (out.length >= 2 && out.every((e) => e.metric === metric) && metric !== undefined) {
    const meanOf = (r: StudyRow): number | undefined => meanOver(r, out);
    specs.push({
      id: uniqueId('mean-out-of-domain'),
      title: `Out-of-domain mean over ${out.length} sets`,
      metric: `mean ${metric}`,
      series: seriesFor(results, meanOf),
      baselines: baselinesFor(results, meanOf),
    });
  }
  return specs;
}

function meanOver(r: StudyRow, sets: EvalSetSpec[]): number | undefined {
  const vs = sets.map((e) => metricOf(r, e.id));
  if (vs.some((v) => v === undefined)) return undefined;
  return (vs as number[]).reduce((a, b) => a + b, 0) / vs.length;
}

// Geometry (px). The legend sits under the axes so it never hides a line.
const W = 640;
const H = 440;
const M = { left: 70, right: 24, top: 44, bottom: 140 };
const PX0 = M.left;
const PX1 = W - M.right;
const PY0 = M.top;
const PY1 = H - M.bottom;
const FONT = 'DejaVu Sans, Liberation Sans, Arial, Helvetica, sans-serif';

/** Log-scale x domain in log10 units, padded so end markers do not sit on the frame. */
function xDomain(params: number[]): [number, number] {
  const logs = params.map(Math.log10);
  let lo = Math.min(...logs);
  let hi = Math.max(...logs);
  const pad = Math.max(0.12, (hi - lo) * 0.08);
  lo -= pad;
  hi += pad;
  return [lo, hi];
}

function yDomain(values: number[]): { lo: number; hi: number; ticks: number[]; decimals: number } {
  let lo = Math.min(...values);
  let hi = Math.max(...values);
  const span = hi - lo;
  const pad = span > 0 ? span * 0.1 : Math.max(Math.abs(hi) * 0.05, 0.01);
  lo -= pad;
  hi += pad;
  const { ticks, decimals } = niceTicks(lo, hi, 6);
  return { lo: Math.min(lo, ticks[0] ?? lo), hi: Math.max(hi, ticks[ticks.length - 1] ?? hi), ticks, decimals };
}

function marker(kind: LineStyle['marker'], x: number, y: number, color: string, title: string): string {
  const t = title === '' ? undefined : el('title', {}, xmlEscape(title));
  const common = { fill: color, stroke: '#ffffff', 'stroke-width': 1 };
  if (kind === 'circle') return el('circle', { cx: x, cy: y, r: 4.5, ...common }, t);
  if (kind === 'square') return el('rect', { x: x - 4, y: y - 4, width: 8, height: 8, ...common }, t);
  const pts = [
    [x, y - 5.5],
    [x + 5, y + 3.5],
    [x - 5, y + 3.5],
  ]
    .map(([a, b]) => `${num(a ?? 0)},${num(b ?? 0)}`)
    .join(' ');
  return el('polygon', { points: pts, ...common }, t);
}

/** Draws one figure; geometry only, no data lookup. */
export function renderPlotSvg(spec: PlotSpec): string {
  const parts: string[] = [];
  const allParams = spec.series.flatMap((s) => s.points.map((p) => p.params));
  const allValues = [
    ...spec.series.flatMap((s) => s.points.map((p) => p.value)),
    ...spec.baselines.map((b) => b.value),
  ];
  parts.push(el('rect', { x: 0, y: 0, width: W, height: H, fill: '#ffffff' }));
  parts.push(text({ x: W / 2, y: 24, 'text-anchor': 'middle', 'font-size': 15, 'font-weight': 'bold' }, spec.title));
  parts.push(el('rect', { x: PX0, y: PY0, width: PX1 - PX0, height: PY1 - PY0, fill: '#fbfbfb', stroke: '#999999' }));

  if (allValues.length === 0) {
    parts.push(
      text({ x: (PX0 + PX1) / 2, y: (PY0 + PY1) / 2, 'text-anchor': 'middle', fill: '#777777' }, 'no measured values'),
    );
    return wrap(spec, parts);
  }

  // x: log10(params); with no model points (only baselines) one decade around 1M keeps the frame sane
  const [xlo, xhi] = allParams.length > 0 ? xDomain(allParams) : [5.5, 6.5];
  const sx = (p: number): number => PX0 + ((Math.log10(p) - xlo) / (xhi - xlo)) * (PX1 - PX0);
  const y = yDomain(allValues);
  const sy = (v: number): number => PY1 - ((v - y.lo) / (y.hi - y.lo)) * (PY1 - PY0);

  // y grid and tick labels
  for (const t of y.ticks) {
    const py = sy(t);
    if (py < PY0 - 0.5 || py > PY1 + 0.5) continue;
    parts.push(el('line', { x1: PX0, y1: py, x2: PX1, y2: py, stroke: '#e3e3e3' }));
    parts.push(el('line', { x1: PX0 - 5, y1: py, x2: PX0, y2: py, stroke: '#555555' }));
    parts.push(text({ x: PX0 - 8, y: py + 4, 'text-anchor': 'end', 'font-size': 11 }, t.toFixed(y.decimals)));
  }

  // x minor grid at 1..9 × 10^k shows the log scale; labelled ticks sit at the model sizes
  for (let k = Math.floor(xlo); k <= Math.ceil(xhi); k++) {
    for (let m = 1; m <= 9; m++) {
      const lx = k + Math.log10(m);
      if (lx <= xlo || lx >= xhi) continue;
      parts.push(
        el('line', { x1: sx(10 ** lx), y1: PY0, x2: sx(10 ** lx), y2: PY1, stroke: m === 1 ? '#d6d6d6' : '#f0f0f0' }),
      );
    }
  }
  const sizeTicks = new Map<number, Set<string>>();
  for (const s of spec.series)
    for (const p of s.points)
      (sizeTicks.get(p.params) ?? sizeTicks.set(p.params, new Set()).get(p.params)!).add(p.size);
  let lastLabelX = -Infinity;
  for (const params of [...sizeTicks.keys()].sort((a, b) => a - b)) {
    const px = sx(params);
    parts.push(el('line', { x1: px, y1: PY1, x2: px, y2: PY1 + 5, stroke: '#555555' }));
    if (px - lastLabelX < 56) continue; // too close to the previous label to print legibly
    lastLabelX = px;
    parts.push(text({ x: px, y: PY1 + 18, 'text-anchor': 'middle', 'font-size': 11 }, formatCount(params)));
    const names = [...(sizeTicks.get(params) ?? [])].sort().join(' / ');
    parts.push(text({ x: px, y: PY1 + 31, 'text-anchor': 'middle', 'font-size': 10, fill: '#666666' }, names));
  }
  parts.push(
    text(
      { x: (PX0 + PX1) / 2, y: PY1 + 50, 'text-anchor': 'middle', 'font-size': 12 },
      'non-embedding parameters (log scale)',
    ),
  );
  const ymid = (PY0 + PY1) / 2;
  parts.push(
    text(
      { x: 18, y: ymid, 'text-anchor': 'middle', 'font-size': 12, transform: `rotate(-90 18 ${num(ymid)})` },
      spec.metric,
    ),
  );

  // baselines: dashed horizontal lines, labelled at whichever end is clear of markers
  const markers = spec.series.flatMap((s) => s.points.map((p) => [sx(p.params), sy(p.value)] as const));
  const placed: [number, number][] = [];
  spec.baselines.forEach((b) => {
    const py = sy(b.value);
    parts.push(
      el(
        'line',
        {
          class: 'baseline',
          x1: PX0,
          y1: py,
          x2: PX1,
          y2: py,
          stroke: BASELINE_COLOR,
          'stroke-width': 1.5,
          'stroke-dasharray': BASELINE_DASH,
        },
        el('title', {}, xmlEscape(`${b.label}: ${formatMetric(b.value)}`)),
      ),
    );
    const label = `${b.label} ${formatMetric(b.value)}`;
    const wLabel = label.length * 6 + 4; // ~6 px per char at 10 px
    const options = [
      { x: PX1 - 4, y: py - 4, anchor: 'end' },
      { x: PX0 + 4, y: py - 4, anchor: 'start' },
      { x: PX1 - 4, y: py + 12, anchor: 'end' },
      { x: PX0 + 4, y: py + 12, anchor: 'start' },
    ];
    // clearance = distance from the label box to the nearest marker or earlier label (0 when overlapping)
    const clearance = (o: (typeof options)[number]): number => {
      const x0 = o.anchor === 'end' ? o.x - wLabel : o.x;
      const box = { x0: x0 - 6, x1: x0 + wLabel + 6, y0: o.y - 10 - 6, y1: o.y + 2 + 6 };
      const near = [...markers, ...placed].map(([mx, my]) =>
        Math.hypot(Math.max(box.x0 - mx, 0, mx - box.x1), Math.max(box.y0 - my, 0, my - box.y1)),
      );
      return Math.min(Infinity, ...near);
    };
    const inside = options.filter((o) => o.y - 10 > PY0 && o.y + 2 < PY1);
    const best = (inside.length > 0 ? inside : options).reduce((a, o) => (clearance(o) > clearance(a) ? o : a));
    placed.push([best.anchor === 'end' ? best.x - wLabel / 2 : best.x + wLabel / 2, best.y - 4]);
    parts.push(
      text({ x: best.x, y: best.y, 'text-anchor': best.anchor, 'font-size': 10, fill: BASELINE_COLOR }, label),
    );
  });

  // one <path> per line, then its markers on top
  for (const s of spec.series) {
    const st = lineStyle(s.line);
    const pts = [...s.points].sort((a, b) => a.params - b.params);
    const d = pts.map((p, i) => `${i === 0 ? 'M' : 'L'}${num(sx(p.params))} ${num(sy(p.value))}`).join(' ');
    parts.push(
      el('path', {
        class: 'series',
        'data-line': `${s.line.paradigm}/${s.line.objective}`,
        d,
        fill: 'none',
        stroke: st.color,
        'stroke-width': 2.25,
        'stroke-dasharray': st.dash,
        'stroke-linecap': 'round',
        'stroke-linejoin': 'round',
      }),
    );
    for (const p of pts)
      parts.push(
        marker(
          st.marker,
          sx(p.params),
          sy(p.value),
          st.color,
          `${lineLabel(s.line)} ${p.size}: ${formatMetric(p.value)}`,
        ),
      );
  }

  parts.push(legend(spec));
  return wrap(spec, parts);
}

/** Legend under the axes: a row per paradigm (CL, KD, CL+KD), baselines in a last row. */
function legend(spec: PlotSpec): string {
  const items: string[] = [];
  const top = PY1 + 68;
  const colW = 180;
  const x0 = PX0 + 10;
  let row = 0;
  for (const paradigm of ['sparse', 'dense'] as const) {
    const lines = spec.series.filter((s) => s.line.paradigm === paradigm);
    if (lines.length === 0) continue;
    lines.forEach((s) => {
      const st = lineStyle(s.line);
      const col = ['cl', 'kd', 'cl+kd'].indexOf(s.line.objective);
      const x = x0 + col * colW;
      const y = top + row * 20;
      items.push(
        el('line', {
          x1: x,
          y1: y,
          x2: x + 34,
          y2: y,
          stroke: st.color,
          'stroke-width': 2.25,
          'stroke-dasharray': st.dash,
          'stroke-linecap': 'round',
        }),
      );
      items.push(marker(st.marker, x + 17, y, st.color, ''));
      items.push(text({ x: x + 42, y: y + 4, 'font-size': 11 }, lineLabel(s.line)));
    });
    row++;
  }
  if (spec.baselines.length > 0) {
    const y = top + row * 20;
    items.push(
      el('line', {
        x1: x0,
        y1: y,
        x2: x0 + 34,
        y2: y,
        stroke: BASELINE_COLOR,
        'stroke-width': 1.5,
        'stroke-dasharray': BASELINE_DASH,
      }),
    );
    items.push(text({ x: x0 + 42, y: y + 4, 'font-size': 11 }, spec.baselines.map((b) => b.label).join(', ')));
  }
  return el('g', { class: 'legend' }, items.join(''));
}

function wrap(spec: PlotSpec, parts: string[]): string {
  const head =
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}"` +
    ` font-family="${FONT}" font-size="12" role="img" aria-label="${xmlEscape(`${spec.title}: ${spec.metric} against parameters`)}">`;
  return `${head}${el('title', {}, xmlEscape(`${spec.title}: ${spec.metric}`))}${parts.join('')}</svg>\n`;
}

/**
 * The study's figures: per eval set, the main metric against non-embedding parameters (log x), one
 * line per paradigm × objective, BM25 dashed; plus the out-of-domain mean when there are ≥ 2
 * out-of-domain sets with one metric. Same input, same strings.
 */
export function renderPlots(results: StudyResults): Plot[] {
  return plotSpecs(results).map((spec) => ({
    id: spec.id,
    title: `${spec.title}: ${spec.metric}`,
    svg: renderPlotSvg(spec),
  }));
}
