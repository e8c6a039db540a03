/**
 * The study's HTML report: one self-contained file (inline CSS and SVG, no scripts, no external
 * resources) with the title and date, the honest findings, the results table, the plots, the run's
 * configuration, the hardware and the wall time. Deterministic: same results, same bytes.
 * @module
 */
import { analyzeFindings, noiseNote, type Finding, type FindingsAnalysis, type Verdict } from './findings.ts';
import { formatDelta, formatDuration, formatMetric, lineLabel } from './format.ts';
import type { Plot } from './plot.ts';
import { xmlEscape as esc } from './svg.ts';
import { tableModel } from './table.ts';
import type { StudyResults } from './types.ts';

const CSS = `
:root { color-scheme: light; }
body { font: 15px/1.5 "DejaVu Sans", "Liberation Sans", Arial, Helvetica, sans-serif; color: #1d1d1f; background: #fff;
  margin: 0 auto; padding: 24px 32px 48px; max-width: 1360px; }
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 19px; margin: 32px 0 10px; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
.meta { color: #555; margin: 0 0 8px; }
.finding { border-left: 4px solid #999; background: #f8f8f8; padding: 8px 14px; margin: 10px 0; }
.finding .claim { font-style: italic; color: #333; }
.verdict { display: inline-block; font-weight: bold; font-size: 12px; letter-spacing: .04em; text-transform: uppercase;
  padding: 1px 8px; border-radius: 10px; color: #fff; margin-right: 6px; }
.verdict.v-reproduced { background: #2e7d32; } .finding.v-reproduced { border-left-color: #2e7d32; }
.verdict.v-within-noise, .verdict.v-partly { background: #b26a00; }
.finding.v-within-noise, .finding.v-partly { border-left-color: #b26a00; }
.verdict.v-not-reproduced { background: #c62828; } .finding.v-not-reproduced { border-left-color: #c62828; }
.verdict.v-undetermined { background: #757575; } .finding.v-undetermined { border-left-color: #757575; }
.finding p { margin: 4px 0; } .finding ul { margin: 4px 0; padding-left: 22px; }
.note { color: #555; font-size: 13px; }
table { border-collapse: collapse; font-size: 13px; margin: 8px 0; }
th, td { padding: 3px 9px; border-bottom: 1px solid #eee; white-space: nowrap; }
th { background: #f2f2f2; text-align: left; vertical-align: bottom; }
th .sub { display: block; font-weight: normal; color: #666; font-size: 11px; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.group-start td { border-top: 2px solid #ccc; }
td.best { font-weight: bold; background: #eef6ee; }
.scroll { overflow-x: auto; }
.plots { display: grid; grid-template-columns: repeat(auto-fill, minmax(560px, 1fr)); gap: 18px; }
figure { margin: 0; border: 1px solid #e4e4e4; padding: 6px; }
figure svg { width: 100%; height: auto; display: block; }
figcaption { font-size: 12px; color: #555; padding: 4px 6px 0; }
pre { background: #f6f6f6; padding: 10px; overflow-x: auto; font-size: 12px; }
details > summary { cursor: pointer; font-weight: bold; margin: 6px 0; }
footer { margin-top: 36px; color: #777; font-size: 12px; }
`;

function verdictClass(v: Verdict): string {
  return `v-${v.replace(/ /g, '-')}`;
}

/** `2026-11-20 10:15 UTC` from an ISO date; the raw string when it does not parse. */
export function formatDate(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${d.toISOString().slice(0, 10)} ${d.toISOString().slice(11, 16)} UTC`;
}

function findingHtml(f: Finding): string {
  return (
    `<div class="finding ${verdictClass(f.verdict)}" id="${f.id.toLowerCase()}">` +
    `<p><span class="verdict ${verdictClass(f.verdict)}">${esc(f.verdict)}</span><strong>${f.id}</strong> ` +
    `<span class="claim">${esc(f.claim)}</span></p><p>${esc(f.summary)}</p>` +
    (f.details.length > 0 ? `<ul>${f.details.map((d) => `<li>${esc(d)}</li>`).join('')}</ul>` : '') +
    '</div>'
  );
}

/** Per line: its score at each size and its change per eval set, the evidence behind F1. */
function scalingTable(results: StudyResults, a: FindingsAnalysis): string {
  const lines = a.scaling.filter((s) => s.rows.length > 0);
  if (lines.length === 0) return '';
  const sets = results.evalSets;
  const head =
    '<tr><th>line</th><th>sizes</th><th class="num">mean score by size</th><th class="num">change</th>' +
    sets.map((e) => `<th class="num">${esc(e.label)}<span class="sub">change</span></th>`).join('') +
    '</tr>';
  const body = lines
    .map((s) => {
      const change = Number.isFinite(s.delta) ? formatDelta(s.delta) : '–';
      const cls = Number.isFinite(s.delta) && Math.abs(s.delta) <= a.noise ? ' title="within noise"' : '';
      return (
        `<tr><td>${esc(lineLabel(s.line))}</td><td>${esc(s.rows.map((r) => r.size).join(' → '))}</td>` +
        `<td class="num">${esc(s.scores.map((v) => formatMetric(v)).join(' → ') || '–')}</td>` +
        `<td class="num"${cls}>${esc(change)}</td>` +
        sets
          .map((e) => {
            const d = s.perSet[e.id];
            return `<td class="num">${d === undefined || !Number.isFinite(d) ? '–' : esc(formatDelta(d))}</td>`;
          })
          .join('') +
        '</tr>'
      );
    })
    .join('');
  return (
    '<details open><summary>Scaling evidence (smallest → largest model, per line)</summary><div class="scroll"><table>' +
    head +
    body +
    '</table></div><p class="note">Mean score: mean of the main metrics over the eval sets measured at every size of the line.</p></details>'
  );
}

function resultsTable(results: StudyResults): string {
  const m = tableModel(results);
  const head =
    '<tr>' +
    m.columns
      .map(
        (c) =>
          `<th${c.align === 'right' ? ' class="num"' : ''}>${esc(c.name)}${c.sub ? `<span class="sub">${esc(c.sub)}</span>` : ''}</th>`,
      )
      .join('') +
    '</tr>';
  const body = m.cells
    .map((row, i) => {
      const cls = i > 0 && m.groupStarts.includes(i) ? ' class="group-start"' : '';
      const tds = row
        .map((cell, j) => {
          const classes = [m.columns[j]?.align === 'right' ? 'num' : '', m.best[i]?.[j] ? 'best' : ''].filter(
            (s) => s !== '',
          );
          return `<td${classes.length > 0 ? ` class="${classes.join(' ')}"` : ''}>${esc(cell)}</td>`;
        })
        .join('');
      return `<tr${cls}>${tds}</tr>`;
    })
    .join('\n');
  return `<div class="scroll"><table class="results">${head}\n${body}</table></div>`;
}

/** Flattens nested configuration to `a.b.c -> value` rows; arrays of scalars join with ", ". */
export function flattenConfig(value: unknown, prefix = ''): [string, string][] {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 0) return prefix === '' ? [] : [[prefix, '{}']];
    return entries.flatMap(([k, v]) => flattenConfig(v, prefix === '' ? k : `${prefix}.${k}`));
  }
  if (Array.isArray(value) && value.every((v) => v === null || typeof v !== 'object'))
    return [[prefix, value.map((v) => String(v)).join(', ')]];
  return [[prefix, typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value))]];
}

function kvTable(rows: [string, string][]): string {
  return `<table>${rows.map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(v)}</td></tr>`).join('')}</table>`;
}

/**
 * The whole report as one HTML string. `plots` are usually `renderPlots(results)`; passing them in
 * lets a caller drop or add figures.
 */
export function renderHtml(results: StudyResults, plots: Plot[]): string {
  const a = analyzeFindings(results);
  const models = results.rows.filter((r) => r.kind === 'model').length;
  const baselines = results.rows.length - models;
  const meta = [
    `created ${esc(formatDate(results.createdAt))}`,
    results.wallSeconds !== undefined
      ? `wall time ${esc(formatDuration(results.wallSeconds))}`
      : 'wall time not recorded',
    `${models} trained model${models === 1 ? '' : 's'}, ${baselines} baseline${baselines === 1 ? '' : 's'}`,
    `${results.evalSets.length} eval set${results.evalSets.length === 1 ? '' : 's'}`,
  ].join(' · ');
  const hw = results.hardware;
  const hardware: [string, string][] = [
    ['CPU', `${hw.cpu} (${hw.cores} cores)`],
    ['memory', `${hw.memoryGiB} GiB`],
    ['GPU', hw.gpu ?? 'none (CPU only)'],
    ['Node.js', hw.node],
    ['libtorch', hw.libtorch],
    ['wall time', formatDuration(results.wallSeconds)],
  ];
  const evalSets = results.evalSets.map((e): [string, string] => [
    e.label,
    `${e.id} · ${e.metric} · ${e.domain === 'in' ? 'in-domain' : 'out-of-domain'}`,
  ]);
  const figures = plots
    .map((p) => `<figure id="plot-${esc(p.id)}">${p.svg.trim()}<figcaption>${esc(p.title)}</figcaption></figure>`)
    .join('\n');
  const configJson = JSON.stringify(results.config, null, 2) ?? '{}';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(results.title)}</title>
<style>${CSS}</style>
</head>
<body>
<header>
<h1>${esc(results.title)}</h1>
<p class="meta">${meta}</p>
</header>
<section id="findings">
<h2>Findings: does this study reproduce the paper?</h2>
${a.findings.map(findingHtml).join('\n')}
<p class="note">${esc(noiseNote(results, a.noise))}</p>
${scalingTable(results, a)}
</section>
<section id="table">
<h2>Results</h2>
${resultsTable(results)}
<p class="note">Bold: best on the eval set. –: missing. n/a: not applicable (sparsity of dense models and BM25's FLOPS). nnzQ / nnzD: mean non-zero weights per query / document; FLOPS: expected multiplications per query–document pair (SPLADE's measure); params: non-embedding.</p>
</section>
<section id="plots">
<h2>Scaling plots</h2>
<div class="plots">
${figures}
</div>
</section>
<section id="setup">
<h2>Setup</h2>
<h3>Eval sets</h3>
${kvTable(evalSets)}
<h3>Hardware</h3>
${kvTable(hardware)}
<h3>Configuration</h3>
<details open><summary>Configuration (flattened)</summary>${kvTable(flattenConfig(results.config))}</details>
<details><summary>Configuration (JSON)</summary><pre>${esc(configJson)}</pre></details>
</section>
<footer>Generated by Lion from the study's results JSON (created ${esc(results.createdAt)}). Regenerate with <code>node --import tsx src/study/report/main.ts results.json OUT_DIR</code>.</footer>
</body>
</html>
`;
}
