/**
 * The study report: table, plots, findings, HTML, report folder, PNGs and the screenshot script.
 * Expected numbers are worked by hand from the fixtures (see test/study/fixtures/README.md).
 * The HTML screenshot needs Chromium and is skipped, with the reason, where none is installed.
 * @module
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  Chromium,
  analyzeFindings,
  findChromium,
  parseStudyResults,
  renderFindingsText,
  renderHtml,
  renderMarkdownTable,
  renderPlots,
  renderReportFromJson,
  renderTable,
  rasterizeSvg,
  writeReport,
  type StudyResults,
  type StudyRow,
  type Verdict,
} from '../../src/study/report/index.ts';
import { formatBytes, formatCount, formatDuration, formatSignificant } from '../../src/study/report/format.ts';
import { niceTicks } from '../../src/study/report/svg.ts';
import { countColors, decodePng, pngInfo } from '../../src/study/report/png.ts';

const repoRoot = resolve(import.meta.dirname, '../..');
const fixtures = join(import.meta.dirname, 'fixtures');
const holdsFile = join(fixtures, 'results-f1-holds.json');

function load(name: string): StudyResults {
  return parseStudyResults(readFileSync(join(fixtures, name), 'utf8'), name);
}
const holds = (): StudyResults => load('results-f1-holds.json');
const fails = (): StudyResults => load('results-f1-fails.json');
const chromium = findChromium();
const noChromium = chromium === null ? 'no Chromium installed (Debian package `chromium`)' : false;

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'lion-report-test-'));
}

function verdicts(r: StudyResults): Record<string, Verdict> {
  return Object.fromEntries(analyzeFindings(r).findings.map((f) => [f.id, f.verdict]));
}

function findingText(r: StudyResults, id: string): string {
  return analyzeFindings(r).findings.find((f) => f.id === id)?.text ?? '';
}

/** Adds `delta` to every metric of the rows matching `pick`. */
function bump(
  r: StudyResults,
  pick: (row: StudyRow) => boolean,
  delta: number | ((row: StudyRow, set: string) => number),
): StudyResults {
  for (const row of r.rows.filter(pick))
    for (const k of Object.keys(row.metrics))
      row.metrics[k] = row.metrics[k]! + (typeof delta === 'number' ? delta : delta(row, k));
  return r;
}

// ---------------------------------------------------------------- XML checking for the SVGs

/** A minimal well-formedness check: balanced tags, quoted attributes, escaped text. */
function assertWellFormedXml(xml: string): void {
  const stack: string[] = [];
  let last = 0;
  for (const m of xml.matchAll(/<[^>]*>/g)) {
    const between = xml.slice(last, m.index);
    assert.ok(!between.includes('<'), `stray '<' in text near ${JSON.stringify(between.slice(0, 40))}`);
    assert.ok(
      !/&(?!(amp|lt|gt|quot|apos|#\d+);)/.test(between),
      `unescaped '&' in text ${JSON.stringify(between.slice(0, 40))}`,
    );
    last = m.index + m[0].length;
    const tag = m[0];
    if (tag.startsWith('<?') || tag.startsWith('<!')) continue;
    if (tag.startsWith('</')) {
      const name = tag.slice(2, -1).trim();
      assert.equal(stack.pop(), name, `closing </${name}> does not match`);
      continue;
    }
    assert.match(tag, /^<[A-Za-z][\w:-]*(\s+[\w:-]+="[^"<]*")*\s*\/?>$/, `malformed tag ${tag.slice(0, 80)}`);
    if (!tag.endsWith('/>')) stack.push(/^<([\w:-]+)/.exec(tag)![1]!);
  }
  assert.deepEqual(stack, [], 'unclosed tags');
  assert.equal(xml.slice(last).trim(), '', 'text after the root element');
}

function paths(svg: string): { line: string; d: string; stroke: string; dash: string | null }[] {
  return [...svg.matchAll(/<path\b[^>]*>/g)].map((m) => {
    const attr = (n: string): string | null => new RegExp(`\\s${n}="([^"]*)"`).exec(m[0])?.[1] ?? null;
    return {
      line: attr('data-line') ?? '',
      d: attr('d') ?? '',
      stroke: attr('stroke') ?? '',
      dash: attr('stroke-dasharray'),
    };
  });
}

function pathPoints(d: string): [number, number][] {
  return [...d.matchAll(/[ML]([-\d.]+) ([-\d.]+)/g)].map((m) => [Number(m[1]), Number(m[2])]);
}

// ---------------------------------------------------------------- formatting

test('formatting helpers give human units (hand-checked)', () => {
  assert.equal(formatCount(1_050_000), '1.05M');
  assert.equal(formatCount(999_600), '1M'); // not '1000k'
  assert.equal(formatCount(41_200), '41.2k');
  assert.equal(formatCount(8_030_000_000), '8.03B');
  assert.equal(formatCount(null), '–');
  assert.equal(formatBytes(512), '512 B');
  assert.equal(formatBytes(1536), '1.5 KiB');
  assert.equal(formatBytes(21_500_000), '20.5 MiB'); // 21.5e6 / 2^20 = 20.50
  assert.equal(formatDuration(9432), '2 h 37 min'); // 2 h 37 min 12 s
  assert.equal(formatDuration(430), '7 min 10 s');
  assert.equal(formatSignificant(0.045612), '0.0456');
  // 0.43..0.61: raw step 0.036 -> 0.05; multiples of 0.05 inside the range
  assert.deepEqual(niceTicks(0.43, 0.61), { ticks: [0.45, 0.5, 0.55, 0.6], decimals: 2 });
  assert.deepEqual(niceTicks(0.2, 0.3).ticks, [0.2, 0.22, 0.24, 0.26, 0.28, 0.3]);
});

// ---------------------------------------------------------------- table

test('text table: every row and column, values in place, best per eval set marked', () => {
  const r = holds();
  const t = renderTable(r);
  const lines = t.split('\n');
  // header lines name every eval set and its metric, and the efficiency columns
  for (const e of r.evalSets) {
    assert.ok(lines[0]!.includes(e.label), `header lacks ${e.label}`);
    assert.ok(lines[1]!.includes(e.metric), `header lacks ${e.metric}`);
  }
  for (const c of ['nnzQ', 'nnzD', 'FLOPS', 'index', 'encode', 'params']) assert.ok(lines[0]!.includes(c), c);
  const data = lines.filter((l) => /^(BM25|nano-\d)\s/.test(l));
  assert.equal(data.length, r.rows.length); // 18 models + BM25
  assert.match(
    data[0]!,
    /^BM25\s+n\/a\s+BM25\s+n\/a\s+0\.187\s+0\.497\s+0\.580\s+0\.292\s+5\.4\s+61\.2\s+n\/a\s+3\.3 MiB\s+2\.15M/,
  );
  const cells = (l: string): string[] => l.trim().split(/\s{2,}/);
  // the order follows the plotted lines: sparse CL nano-1..3 first
  assert.deepEqual(cells(data[1]!).slice(0, 8), [
    'nano-1',
    '1.05M',
    'sparse',
    'CL',
    '0.180',
    '0.420',
    '0.510',
    '0.250',
  ]);
  const best = data.filter((l) => l.includes('*'));
  assert.equal(best.length, 1);
  assert.deepEqual(cells(best[0]!).slice(0, 8), [
    'nano-3',
    '9.44M',
    'sparse',
    'CL+KD',
    '0.245*',
    '0.515*',
    '0.590*',
    '0.300*',
  ]);
  // a dense row has no sparsity statistics
  const dense = data.find((l) => l.includes('dense'))!;
  assert.deepEqual(cells(dense).slice(8, 11), ['n/a', 'n/a', 'n/a']);
  // every data line has the same number of cells as the header has columns
  const nCols = 4 + r.evalSets.length + 5 + 2; // + train FLOPs + train time (present in the fixture)
  for (const l of data) assert.equal(cells(l).length, nCols, l);
  // right-aligned digits line up: the decimal point of every metric in a column is at one offset
  const col = lines[0]!.indexOf('SciFact');
  const points = data.map((l) => l.indexOf('.', col));
  assert.equal(new Set(points).size, 1);
});

test('Markdown table: header, alignment, one line per row with every cell, best in bold', () => {
  const r = holds();
  const md = renderMarkdownTable(r).trim().split('\n');
  const header = md[0]!.split(' | ');
  const nCols = 4 + r.evalSets.length + 5 + 2;
  assert.equal(md[0]!.split('|').length - 2, nCols);
  assert.ok(header.some((h) => h.includes('SciFact nDCG@10')));
  assert.match(md[1]!, /^\| :--- \| ---: \|/);
  const rows = md.slice(2).filter((l) => l.startsWith('|'));
  assert.equal(rows.length, r.rows.length);
  for (const l of rows) assert.equal(l.split('|').length - 2, nCols);
  assert.equal((md.join('\n').match(/\*\*/g) ?? []).length, 2 * r.evalSets.length);
  assert.ok(
    rows.some((l) =>
      l.startsWith('| nano-3 | 9.44M | sparse | CL+KD | **0.245** | **0.515** | **0.590** | **0.300** |'),
    ),
  );
});

test('gaps do not crash the renderers and show as – (missing) or n/a (not applicable)', () => {
  const r = holds();
  const row = r.rows.find((x) => x.paradigm === 'sparse' && x.objective === 'kd' && x.size === 'nano-2')!;
  delete row.metrics['beir/scifact/test'];
  delete row.nnzQuery;
  delete row.flops;
  delete row.indexBytes;
  row.metrics['beir/nfcorpus/test'] = Number.NaN;
  const noParams = r.rows.find((x) => x.paradigm === 'dense' && x.objective === 'cl' && x.size === 'nano-1')!;
  noParams.params = null;
  r.evalSets.push({ id: 'beir/fiqa/test', label: 'FiQA', metric: 'nDCG@10', domain: 'out' }); // measured nowhere
  const t = renderTable(r);
  const line = t.split('\n').find((l) => /^nano-2\s+3\.15M\s+sparse\s+KD/.test(l))!;
  const cells = line.trim().split(/\s{2,}/);
  assert.deepEqual(cells.slice(4, 9), ['0.216', '0.482', '–', '–', '–']); // SciFact, NFCorpus (NaN), FiQA
  assert.deepEqual(cells.slice(9, 13), ['–', '153', '–', '–']); // nnzQ missing, nnzD, FLOPS missing, index missing
  assert.ok(/^nano-1\s+–\s+dense\s+CL/m.test(t));
  assert.ok(renderMarkdownTable(r).includes('| nano-2 | 3.15M | sparse | KD | 0.216 | 0.482 | – | – | – |'));
  const plots = renderPlots(r);
  const fiqa = plots.find((p) => p.id === 'beir-fiqa-test')!;
  assertWellFormedXml(fiqa.svg);
  assert.equal(paths(fiqa.svg).length, 0);
  assert.ok(fiqa.svg.includes('no measured values'));
  // the dense CL line lost its nano-1 point (no parameter count), the others keep 3
  const sci = paths(plots.find((p) => p.id === 'beir-scifact-test')!.svg);
  assert.equal(pathPoints(sci.find((p) => p.line === 'dense/cl')!.d).length, 2);
  assert.equal(pathPoints(sci.find((p) => p.line === 'sparse/kd')!.d).length, 2); // nano-2 lacks SciFact
  const html = renderHtml(r, plots);
  assert.ok(html.includes('</html>'));
  // an empty study renders too
  const empty: StudyResults = { ...r, evalSets: [], rows: [], config: {} };
  assert.ok(renderTable(empty).includes('model'));
  assert.deepEqual(renderPlots(empty), []);
  assert.deepEqual(Object.values(verdicts(empty)), ['undetermined', 'undetermined', 'undetermined']);
  assert.ok(renderHtml(empty, []).includes('<h1>'));
});

// ---------------------------------------------------------------- plots

test('plots: one well-formed SVG per eval set (+ BEIR mean), one <path> per line, BM25 dashed', () => {
  const r = holds();
  const plots = renderPlots(r);
  assert.deepEqual(
    plots.map((p) => p.id),
    [
      'msmarco-passage-dev-small',
      'msmarco-passage-trec-dl-2019',
      'beir-scifact-test',
      'beir-nfcorpus-test',
      'mean-out-of-domain',
    ],
  );
  for (const p of plots) {
    assertWellFormedXml(p.svg);
    assert.match(p.svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    const ps = paths(p.svg);
    assert.equal(ps.length, 6, `${p.id}: one path per paradigm × objective`);
    assert.equal(new Set(ps.map((x) => x.line)).size, 6);
    for (const x of ps) assert.equal(pathPoints(x.d).length, 3);
    // markers: 3 per line (circles for CL, squares for KD, triangles for CL+KD) plus one per legend entry
    assert.equal((p.svg.match(/<circle\b/g) ?? []).length, 2 * 3 + 2);
    assert.equal((p.svg.match(/<polygon\b/g) ?? []).length, 2 * 3 + 2);
    const baseline = [...p.svg.matchAll(/<line class="baseline"[^>]*>/g)];
    assert.equal(baseline.length, 1);
    assert.match(baseline[0]![0], /stroke-dasharray="[\d. ]+"/);
    const y1 = /y1="([\d.]+)"/.exec(baseline[0]![0])![1];
    assert.equal(/y2="([\d.]+)"/.exec(baseline[0]![0])![1], y1, 'horizontal');
    for (const s of ['sparse CL', 'dense CL+KD', 'BM25', 'non-embedding parameters (log scale)'])
      assert.ok(p.svg.includes(s), s);
  }
  const sci = plots[2]!;
  assert.ok(sci.svg.includes('>nDCG@10<'));
  assert.ok(sci.svg.includes('>1.05M<') && sci.svg.includes('>9.44M<') && sci.svg.includes('>nano-2<'));
});

test('plots: log-scale x, higher metric drawn higher, colour by paradigm, dash by objective', () => {
  const svg = renderPlots(holds()).find((p) => p.id === 'beir-scifact-test')!.svg;
  const ps = paths(svg);
  const pts = pathPoints(ps.find((p) => p.line === 'sparse/cl')!.d);
  const [a, b, c] = pts as [[number, number], [number, number], [number, number]];
  // x distances are proportional to log(params): log(3.15/1.05) : log(9.44/3.15)
  const expected = Math.log(3.15e6 / 1.05e6) / Math.log(9.44e6 / 3.15e6);
  assert.ok(
    Math.abs((b[0] - a[0]) / (c[0] - b[0]) - expected) < 0.001,
    `${(b[0] - a[0]) / (c[0] - b[0])} vs ${expected}`,
  );
  // SciFact sparse CL: 0.510 < 0.540 < 0.572, so y (down the page) decreases, linearly in the value
  assert.ok(a[1] > b[1] && b[1] > c[1]);
  assert.ok(Math.abs((a[1] - b[1]) / (b[1] - c[1]) - 0.03 / 0.032) < 0.002);
  const style = (line: string): { stroke: string; dash: string | null } => ps.find((p) => p.line === line)!;
  for (const o of ['cl', 'kd', 'cl+kd']) {
    assert.equal(style(`sparse/${o}`).dash, style(`dense/${o}`).dash, `${o}: same dash in both paradigms`);
    assert.notEqual(style(`sparse/${o}`).stroke, style(`dense/${o}`).stroke);
  }
  assert.equal(new Set(['cl', 'kd', 'cl+kd'].map((o) => style(`sparse/${o}`).dash)).size, 3);
  assert.equal(new Set(ps.map((p) => p.stroke)).size, 6);
  // hue families: sparse strokes are blue-dominant, dense strokes red-dominant
  const rgb = (hex: string): number[] => [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
  for (const p of ps) {
    const [r, , bl] = rgb(p.stroke) as [number, number, number];
    assert.ok(p.line.startsWith('sparse') ? bl > r : r > bl, `${p.line} ${p.stroke}`);
  }
});

test('plots are deterministic: same input, same strings, whatever the row order', () => {
  const a = renderPlots(holds());
  const shuffled = holds();
  const models = shuffled.rows.filter((r) => r.kind === 'model').reverse();
  shuffled.rows = [...models.slice(7), shuffled.rows[0]!, ...models.slice(0, 7)];
  assert.deepEqual(renderPlots(holds()), a);
  assert.deepEqual(renderPlots(shuffled), a);
  assert.equal(renderHtml(holds(), a), renderHtml(holds(), renderPlots(holds())));
});

test('plots: fewer lines give fewer paths; a single size still renders', () => {
  const r = holds();
  r.rows = r.rows.filter((x) => x.kind === 'baseline' || (x.objective === 'cl' && x.size === 'nano-2'));
  const p = renderPlots(r)[0]!;
  assertWellFormedXml(p.svg);
  const ps = paths(p.svg);
  assert.deepEqual(
    ps.map((x) => x.line),
    ['sparse/cl', 'dense/cl'],
  );
  assert.equal(pathPoints(ps[0]!.d).length, 1);
  assert.ok(!p.svg.includes('sparse KD'), 'legend lists only drawn lines');
});

// ---------------------------------------------------------------- findings

test('findings on the fixture where the paper holds: all three reproduced, with the deciding numbers', () => {
  const r = holds();
  assert.deepEqual(verdicts(r), { F1: 'reproduced', F2: 'reproduced', F3: 'reproduced' });
  const f1 = findingText(r, 'F1');
  // means of the 4 main metrics, by hand: sparse CL (0.180+0.420+0.510+0.250)/4 = 0.340, ... 0.396
  assert.ok(f1.includes('CL: 0.340 → 0.367 → 0.396 (+0.056) from nano-1 to nano-3'), f1);
  // sparse KD: 0.38125 -> 0.38225, +0.001
  assert.ok(f1.includes('KD: 0.381 → 0.383 → 0.382 (+0.001, within noise)'), f1);
  assert.ok(f1.includes('Sparse — CL scales, KD does not') && f1.includes('Dense — CL scales, KD does not'));
  const f2 = findingText(r, 'F2');
  assert.ok(f2.includes('In-domain (MS MARCO dev, TREC DL19): sparse ahead in 9 of 9'), f2);
  // out-of-domain, sparse KD − dense KD at nano-3: (0.558+0.275)/2 − (0.499+0.244)/2 = 0.045
  assert.ok(f2.includes('Out-of-domain (SciFact, NFCorpus): sparse ahead in 9 of 9'), f2);
  const f3 = findingText(r, 'F3');
  assert.ok(f3.includes('SciFact: best, 0.590 vs 0.580 for BM25 (+0.010)'), f3);
  assert.ok(f3.includes('MS MARCO dev: best, 0.245 vs 0.232 for sparse CL nano-3 (+0.013)'), f3);
  assert.ok(renderFindingsText(r).includes('Differences of 0.005 or less'));
});

test('findings on the fixture where KD scales too: F1 and F3 not reproduced, F2 still holds', () => {
  const r = fails();
  assert.deepEqual(verdicts(r), { F1: 'not reproduced', F2: 'reproduced', F3: 'not reproduced' });
  const f1 = findingText(r, 'F1');
  // sparse KD: 0.38125 -> 0.44225 = +0.061, more than half of CL's +0.056
  assert.ok(f1.includes("KD gains +0.061, more than half of CL's +0.056"), f1);
  assert.ok(f1.includes('KD: 0.381 → 0.413 → 0.442 (+0.061)'), f1);
  const f3 = findingText(r, 'F3');
  assert.ok(f3.includes('MS MARCO dev: beaten by sparse KD nano-3, 0.275 vs 0.245 (-0.030)'), f3);
});

test('F1 partly, within noise and too few sizes', () => {
  // only the dense KD line scales: sparse holds, dense fails
  const partly = bump(holds(), (x) => x.paradigm === 'dense' && x.objective === 'kd' && x.size === 'nano-3', 0.06);
  assert.equal(verdicts(partly).F1, 'partly');
  // CL gains only +0.003 everywhere: not beyond noise
  const flat = holds();
  for (const p of ['sparse', 'dense'] as const) {
    const n1 = flat.rows.find((x) => x.paradigm === p && x.objective === 'cl' && x.size === 'nano-1')!;
    for (const s of ['nano-2', 'nano-3']) {
      const row = flat.rows.find((x) => x.paradigm === p && x.objective === 'cl' && x.size === s)!;
      for (const k of Object.keys(row.metrics)) row.metrics[k] = n1.metrics[k]! + 0.003;
    }
  }
  assert.equal(verdicts(flat).F1, 'not reproduced');
  assert.ok(findingText(flat, 'F1').includes('CL does not gain beyond noise'));
  assert.ok(findingText(flat, 'F1').includes('(+0.003, within noise)'));
  // one size only: cannot tell
  const one = holds();
  one.rows = one.rows.filter((x) => x.kind === 'baseline' || x.size === 'nano-2');
  assert.equal(verdicts(one).F1, 'undetermined');
  assert.ok(findingText(one, 'F1').includes('one size only (nano-2)'));
  // two sizes: judged, with the caveat
  const two = holds();
  two.rows = two.rows.filter((x) => x.size !== 'nano-2');
  assert.equal(verdicts(two).F1, 'reproduced');
  assert.ok(findingText(two, 'F1').includes('With only two sizes'));
});

test('F2 partly when dense wins out-of-domain, partly when a domain has no eval set', () => {
  const outLoss = bump(
    holds(),
    (x) => x.paradigm === 'dense',
    (_row, set) => (set.startsWith('beir/') ? 0.1 : 0),
  );
  assert.equal(verdicts(outLoss).F2, 'partly');
  const t = findingText(outLoss, 'F2');
  assert.ok(t.includes('sparse ahead in 0 of 9'), t);
  assert.ok(t.includes('dense ahead in 9'), t);
  const noOut = holds();
  noOut.evalSets = noOut.evalSets.filter((e) => e.domain === 'in');
  assert.equal(verdicts(noOut).F2, 'partly');
  assert.ok(findingText(noOut, 'F2').includes('Out-of-domain: no eval set, cannot tell.'));
  // all pairs within noise: not reproduced (no win)
  const tie = holds();
  for (const d of tie.rows.filter((x) => x.paradigm === 'dense')) {
    const s = tie.rows.find((x) => x.paradigm === 'sparse' && x.size === d.size && x.objective === d.objective)!;
    for (const k of Object.keys(d.metrics)) d.metrics[k] = s.metrics[k]! - 0.002;
  }
  assert.equal(verdicts(tie).F2, 'not reproduced');
  assert.ok(
    findingText(tie, 'F2').includes('sparse ahead in 0 of 9 matched size × objective pairs, within noise in 9'),
  );
});

test('F3 within noise, partly, and the noise threshold from the results', () => {
  const close = holds();
  close.rows[0]!.metrics['beir/scifact/test'] = 0.588; // BM25 2 points below 0.590
  assert.equal(verdicts(close).F3, 'within noise');
  assert.ok(findingText(close, 'F3').includes('SciFact: best within noise, 0.590 vs 0.588 for BM25 (+0.002)'));
  const beaten = holds();
  beaten.rows[0]!.metrics['beir/scifact/test'] = 0.65;
  assert.equal(verdicts(beaten).F3, 'partly');
  assert.ok(findingText(beaten, 'F3').includes('SciFact: beaten by BM25, 0.650 vs 0.590 (-0.060)'));
  const strict = holds();
  strict.noiseThreshold = 0.02; // every F3 margin (+0.008 .. +0.015) is now noise
  assert.equal(verdicts(strict).F3, 'within noise');
  assert.ok(
    renderFindingsText(strict).includes(
      'Differences of 0.020 or less in a main metric are treated as noise (as set by the study)',
    ),
  );
});

// ---------------------------------------------------------------- HTML and report folder

test('HTML report holds title, date, findings, table, every plot, config, hardware and wall time', () => {
  const r = holds();
  r.title = 'Study <script>alert(1)</script> & co';
  const plots = renderPlots(r);
  const html = renderHtml(r, plots);
  assert.ok(html.startsWith('<!doctype html>'));
  assert.ok(html.includes('Study &lt;script&gt;alert(1)&lt;/script&gt; &amp; co'));
  assert.ok(!html.includes('<script>'));
  assert.ok(html.includes('created 2026-11-20 10:15 UTC'));
  assert.ok(html.includes('wall time 2 h 37 min'));
  assert.equal((html.match(/<svg\b/g) ?? []).length, plots.length);
  assert.equal((html.match(/<table class="results">/g) ?? []).length, 1);
  assert.equal((html.match(/<tr[ >]/g) ?? []).length > r.rows.length, true);
  assert.equal((html.match(/class="verdict v-reproduced"/g) ?? []).length, 3);
  assert.ok(html.includes('CL: 0.340 → 0.367 → 0.396 (+0.056) from nano-1 to nano-3'));
  for (const s of [
    'train.flops.warmupSteps',
    'msmarco-passage/train/judged',
    'AMD EPYC 7B13 (Zen3) (2 cores)',
    'none (CPU only)',
    '2.5.1',
    'v20.20.2',
  ])
    assert.ok(html.includes(s), s);
  assert.ok(!/(src|href)="https?:/.test(html), 'self-contained: no external resources');
  assert.ok(renderHtml(fails(), renderPlots(fails())).includes('class="verdict v-not-reproduced"'));
});

test('writeReport writes every file atomically, PNGs included, without any browser', async () => {
  const dir = tempDir();
  const before = process.env['LION_CHROMIUM'];
  process.env['LION_CHROMIUM'] = ''; // no Chromium: PNGs are rasterised in-process
  const logged: string[] = [];
  try {
    const w = await writeReport(dir, holds(), { log: (l) => logged.push(l) });
    assert.equal(w.plots.length, 5);
    assert.deepEqual(w.notes, []);
    assert.deepEqual(logged, []);
    for (const p of w.plots) {
      assertWellFormedXml(readFileSync(p.svg, 'utf8'));
      assert.ok(p.png !== null);
      const img = decodePng(readFileSync(p.png));
      assert.equal(img.width, 1280);
      assert.equal(img.height, 880); // 640 × 440 viewBox at 2×
      assert.ok(countColors(img) > 50, `${p.id}: ${countColors(img)} colours`);
    }
    assert.equal(readFileSync(w.table, 'utf8'), renderMarkdownTable(holds()));
    assert.equal(readFileSync(w.tableText, 'utf8'), renderTable(holds()));
    assert.equal(readFileSync(w.html, 'utf8'), renderHtml(holds(), renderPlots(holds())));
    assert.ok(readFileSync(w.findings, 'utf8').startsWith('F1 — REPRODUCED.'));
    const all = [...readdirSync(dir), ...readdirSync(join(dir, 'plots'))];
    assert.ok(!all.some((f) => f.includes('.tmp')), `temp files left: ${all}`);
    // without PNGs, a PNG from an earlier run does not survive next to a new SVG
    const again = await writeReport(dir, holds(), { png: false, log: () => undefined });
    assert.ok(again.plots.every((p) => p.png === null));
    assert.ok(!existsSync(join(dir, 'plots', 'beir-scifact-test.png')));
  } finally {
    if (before === undefined) delete process.env['LION_CHROMIUM'];
    else process.env['LION_CHROMIUM'] = before;
  }
});

test('results JSON validation names the file and the field', () => {
  const text = readFileSync(holdsFile, 'utf8');
  assert.equal(parseStudyResults(text).rows.length, 19);
  const bad = JSON.parse(text) as { rows: { params: unknown }[] };
  bad.rows[1]!.params = 'many';
  assert.throws(() => parseStudyResults(JSON.stringify(bad), 'x.json'), /invalid results 'x\.json': rows\.1\.params: /);
  assert.throws(() => parseStudyResults('{"title":', 'y.json'), /results are not JSON 'y\.json'/);
  const v2 = { ...JSON.parse(text), formatVersion: 2 };
  assert.throws(() => parseStudyResults(JSON.stringify(v2), 'z.json'), /unsupported results format version '2'/);
  const dup = JSON.parse(text) as { evalSets: unknown[] };
  dup.evalSets.push(dup.evalSets[0]);
  assert.throws(() => parseStudyResults(JSON.stringify(dup)), /duplicate eval set id 'msmarco-passage\/dev\/small'/);
});

test('report from a JSON file via src/study/report/main.ts prints the table and writes the folder', () => {
  const dir = tempDir();
  const main = join(repoRoot, 'src/study/report/main.ts');
  const ok = spawnSync(process.execPath, ['--import', 'tsx', main, holdsFile, dir, '--no-png'], {
    encoding: 'utf8',
    cwd: repoRoot,
  });
  assert.equal(ok.status, 0, ok.stderr);
  assert.equal(ok.stdout.split('report: ')[0], renderTable(holds()));
  assert.ok(existsSync(join(dir, 'report.html')) && existsSync(join(dir, 'plots', 'beir-scifact-test.svg')));
  const bad = spawnSync(process.execPath, ['--import', 'tsx', main, join(dir, 'missing.json'), dir], {
    encoding: 'utf8',
    cwd: repoRoot,
  });
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /lion study: results file not found '.*missing\.json'; hint:/);
});

// ---------------------------------------------------------------- Chromium: PNGs and the screenshot

test('rasterizeSvg renders at the asked width with the SVG aspect ratio (pixels checked)', () => {
  // left half red, right half blue, 200 × 100 user units rendered 400 px wide
  const svg =
    '<svg xmlns="http://www.w3.org/2000/svg" width="200" height="100" viewBox="0 0 200 100">' +
    '<rect x="0" y="0" width="100" height="100" fill="#ff0000"/><rect x="100" y="0" width="100" height="100" fill="#0000ff"/></svg>';
  const png = decodePng(rasterizeSvg(svg, 400));
  assert.equal(png.width, 400);
  assert.equal(png.height, 200);
  const px = (x: number, y: number): number[] => [
    ...png.data.subarray((y * png.width + x) * png.channels, (y * png.width + x) * png.channels + 3),
  ];
  assert.deepEqual(px(50, 100), [255, 0, 0]);
  assert.deepEqual(px(350, 100), [0, 0, 255]);
});

test(
  'the HTML report renders in headless Chromium and the screenshot script captures it',
  { skip: noChromium },
  async () => {
    const dir = tempDir();
    const w = await renderReportFromJson(holdsFile, dir, { png: false });
    // in the page: every figure's SVG laid out with a real size, the table with all its rows
    const browser = await Chromium.launch();
    try {
      await browser.load(`file://${w.html}`, 1280, 800);
      const layout = (await browser.evaluate(
        `JSON.stringify({ svgs: [...document.querySelectorAll('figure svg')].map((s) => s.getBoundingClientRect().width),
         rows: document.querySelectorAll('table.results tr').length, h1: document.querySelector('h1').textContent })`,
      )) as string;
      const l = JSON.parse(layout) as { svgs: number[]; rows: number; h1: string };
      assert.equal(l.svgs.length, 5);
      for (const width of l.svgs) assert.ok(width > 400, `svg width ${width}`);
      assert.equal(l.rows, 1 + 19);
      assert.equal(l.h1, holds().title);
    } finally {
      await browser.close();
    }
    const out = join(dir, 'shot.png');
    const script = join(repoRoot, 'scripts/screenshot-report.ts');
    const r = spawnSync(process.execPath, ['--import', 'tsx', script, w.html, out], {
      encoding: 'utf8',
      cwd: repoRoot,
    });
    assert.equal(r.status, 0, r.stderr);
    const info = pngInfo(readFileSync(out));
    assert.ok(
      info.width >= 1280 && info.height > 2000,
      `${info.width}x${info.height}: the full page, not just the viewport`,
    );
    const img = decodePng(readFileSync(out));
    assert.ok(countColors(img) > 100, 'not a single colour');
    assert.match(r.stdout, /shot\.png: 1280x\d+ px/);
  },
);
