/**
 * The "honest findings" of a study: for each of the paper's three claims, whether these numbers
 * reproduce it, with the values that decide it.
 *
 * - F1: scaling (improvement with model size) is clear only with CL; KD models barely improve.
 * - F2: sparse beats dense, in-domain and out-of-domain (BEIR).
 * - F3: the largest sparse CL+KD model is the best on every eval set.
 *
 * Differences no larger than the noise threshold (default 0.005 of a main metric) are reported as
 * noise, never as wins: a nano study has one seed per cell and no significance test behind it.
 * Every rule is stated in the text it produces, so a reader can check the verdict by hand.
 * @module
 */
import {
  DEFAULT_NOISE,
  PARADIGMS,
  baselineRows,
  formatDelta,
  formatMetric,
  isFiniteNumber,
  lineLabel,
  lineRows,
  metricOf,
  objectiveLabel,
  paradigmLabel,
  presentLines,
  type LineKey,
} from './format.ts';
import type { EvalSetSpec, StudyResults, StudyRow } from './types.ts';

export type FindingId = 'F1' | 'F2' | 'F3';
/**
 * `within noise`: the claim is not contradicted, but some deciding difference is inside the noise.
 * `undetermined`: the results lack what the claim needs (too few sizes, no matched rows, no eval set).
 */
export type Verdict = 'reproduced' | 'within noise' | 'partly' | 'not reproduced' | 'undetermined';

export interface Finding {
  id: FindingId;
  /** The paper's claim in one line. */
  claim: string;
  verdict: Verdict;
  /** What was compared and the verdict's reason, in a sentence or two. */
  summary: string;
  /** The numbers that decide it, one item per paradigm / domain / eval set. */
  details: string[];
  /** `summary` and `details` as one paragraph. */
  text: string;
}

function finding(id: FindingId, claim: string, verdict: Verdict, summary: string, details: string[]): Finding {
  const text = [summary, ...details.map((d) => (/[.!?]$/.test(d) ? d : `${d}.`))].filter((x) => x !== '').join(' ');
  return { id, claim, verdict, summary, details, text };
}

/** How one line (paradigm × objective) changes from its smallest to its largest model. */
export interface LineScaling {
  line: LineKey;
  /** Model rows with parameter counts, smallest first. */
  rows: StudyRow[];
  /** Eval sets every row of the line has a value for; the score is their mean. */
  sets: EvalSetSpec[];
  /** Mean of the main metrics over `sets`, per row. */
  scores: number[];
  /** Largest minus smallest score (NaN with fewer than two rows or no common set). */
  delta: number;
  /** Largest minus smallest per eval set id, for the sets in `sets`. */
  perSet: Record<string, number>;
  /** No step between consecutive sizes drops by more than the noise. */
  monotone: boolean;
}

export interface FindingsAnalysis {
  noise: number;
  scaling: LineScaling[];
  findings: Finding[];
}

function mean(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

function setsWithValues(sets: EvalSetSpec[], rows: StudyRow[]): EvalSetSpec[] {
  return sets.filter((e) => rows.every((r) => metricOf(r, e.id) !== undefined));
}

function scoreOf(row: StudyRow, sets: EvalSetSpec[]): number {
  return mean(sets.map((e) => metricOf(row, e.id) ?? Number.NaN));
}

/** Scaling of every line present in the results. */
export function lineScaling(results: StudyResults, noise: number): LineScaling[] {
  return presentLines(results).map((line) => {
    const rows = lineRows(results, line).filter((r) => isFiniteNumber(r.params));
    const sets = setsWithValues(results.evalSets, rows);
    const scores = sets.length > 0 ? rows.map((r) => scoreOf(r, sets)) : [];
    const first = rows[0];
    const last = rows[rows.length - 1];
    const enough = rows.length >= 2 && sets.length > 0 && first !== undefined && last !== undefined;
    const perSet: Record<string, number> = {};
    if (enough) for (const e of sets) perSet[e.id] = (metricOf(last, e.id) ?? NaN) - (metricOf(first, e.id) ?? NaN);
    let monotone = true;
    for (let i = 1; i < scores.length; i++) if ((scores[i] ?? 0) - (scores[i - 1] ?? 0) < -noise) monotone = false;
    return {
      line,
      rows,
      sets,
      scores,
      delta: enough ? (scores[scores.length - 1] ?? NaN) - (scores[0] ?? NaN) : Number.NaN,
      perSet,
      monotone,
    };
  });
}

function sameLine(a: LineKey, b: LineKey): boolean {
  return a.paradigm === b.paradigm && a.objective === b.objective;
}

function setNames(sets: EvalSetSpec[]): string {
  return sets.map((e) => e.label).join(', ');
}

/** `sparse CL: 0.340 → 0.396 (+0.056) from nano-1 to nano-3` (+ the noise / monotonicity notes). */
function describeScaling(s: LineScaling, noise: number, label = lineLabel(s.line)): string {
  if (s.rows.length < 2) return `${label}: one size only (${s.rows[0]?.size ?? 'none with a parameter count'})`;
  if (s.sets.length === 0) return `${label}: no eval set measured at every size`;
  const first = s.rows[0]!;
  const last = s.rows[s.rows.length - 1]!;
  const path = s.scores.map((v) => formatMetric(v)).join(' → ');
  let note = '';
  if (Math.abs(s.delta) <= noise) note = ', within noise';
  else if (!s.monotone) note = ', not monotone';
  return `${label}: ${path} (${formatDelta(s.delta)}${note}) from ${first.size} to ${last.size}`;
}

function analyzeF1(scaling: LineScaling[], results: StudyResults, noise: number): Finding {
  const claim = 'Scaling (improvement with model size) is clear only with CL; KD models barely improve.';
  const find = (line: LineKey): LineScaling | undefined => scaling.find((s) => sameLine(s.line, line));
  const usable = (s: LineScaling | undefined): s is LineScaling => s !== undefined && Number.isFinite(s.delta);
  const parts: string[] = [];
  const held: boolean[] = [];
  for (const paradigm of PARADIGMS) {
    const cl = find({ paradigm, objective: 'cl' });
    const kd = find({ paradigm, objective: 'kd' });
    if (cl === undefined && kd === undefined) continue;
    if (!usable(cl) || !usable(kd)) {
      const missing = [cl, kd].filter((s) => s !== undefined && !usable(s)) as LineScaling[];
      const why = missing.map((s) => describeScaling(s, noise));
      if (cl === undefined || kd === undefined) why.push(`no ${paradigm} ${cl === undefined ? 'CL' : 'KD'} models`);
      parts.push(`${capitalize(paradigmLabel(paradigm))}: cannot tell (${why.join('; ')}).`);
      continue;
    }
    // CL must gain beyond noise; KD must gain less than half of what CL gains (or nothing beyond noise)
    const clScales = cl.delta > noise;
    const kdFlat = kd.delta <= Math.max(noise, cl.delta / 2);
    held.push(clScales && kdFlat);
    let verdict: string;
    if (clScales && kdFlat) verdict = 'CL scales, KD does not';
    else if (!clScales && !kdFlat) verdict = 'KD scales and CL does not — the opposite of the claim';
    else if (!clScales) verdict = 'CL does not gain beyond noise';
    else verdict = `KD gains ${formatDelta(kd.delta)}, more than half of CL's ${formatDelta(cl.delta)}`;
    parts.push(
      `${capitalize(paradigmLabel(paradigm))} — ${verdict}. ${describeScaling(cl, noise, 'CL')}; ${describeScaling(kd, noise, 'KD')}.`,
    );
  }
  const clkd = scaling.filter((s) => s.line.objective === 'cl+kd' && Number.isFinite(s.delta));
  if (clkd.length > 0)
    parts.push(`CL+KD (not part of the claim): ${clkd.map((s) => describeScaling(s, noise)).join('; ')}.`);

  const sizes = Math.max(0, ...scaling.map((s) => s.rows.length));
  if (sizes === 2) parts.push('With only two sizes each trend is a single difference, so its shape cannot be told.');
  const sets = scaling.find((s) => s.sets.length > 0)?.sets ?? [];
  const basis =
    sets.length === results.evalSets.length
      ? `Scores are the mean of the ${sets.length} eval sets' main metrics.`
      : 'Scores are the mean of the main metrics over the eval sets measured at every size of the line.';

  let verdict: Verdict;
  if (held.length === 0) verdict = 'undetermined';
  else if (held.every(Boolean)) verdict = 'reproduced';
  else if (held.some(Boolean)) verdict = 'partly';
  else verdict = 'not reproduced';
  const lead =
    verdict === 'undetermined'
      ? 'Too few sizes or lines to tell.'
      : held.length === 1
        ? 'Only one paradigm has both CL and KD at two or more sizes.'
        : '';
  const rule = `CL must gain more than ${noise.toFixed(3)} from the smallest to the largest model, and KD less than half of CL's gain.`;
  return finding('F1', claim, verdict, [lead, basis, rule].filter((x) => x !== '').join(' '), parts);
}

interface PairDiff {
  size: string;
  objective: string;
  diff: number;
}

function analyzeF2(results: StudyResults, noise: number): Finding {
  const claim = 'Sparse retrieval beats dense retrieval, in-domain and out-of-domain (BEIR).';
  const models = results.rows.filter((r) => r.kind === 'model');
  const parts: string[] = [];
  const domainVerdicts: Verdict[] = [];
  for (const domain of ['in', 'out'] as const) {
    const name = domain === 'in' ? 'In-domain' : 'Out-of-domain';
    const sets = results.evalSets.filter((e) => e.domain === domain);
    if (sets.length === 0) {
      parts.push(`${name}: no eval set, cannot tell.`);
      domainVerdicts.push('undetermined');
      continue;
    }
    const pairs: PairDiff[] = [];
    for (const s of models.filter((r) => r.paradigm === 'sparse')) {
      const d = models.find((r) => r.paradigm === 'dense' && r.size === s.size && r.objective === s.objective);
      if (d === undefined || s.objective === null) continue;
      const common = setsWithValues(sets, [s, d]);
      if (common.length === 0) continue;
      pairs.push({
        size: s.size,
        objective: objectiveLabel(s.objective),
        diff: scoreOf(s, common) - scoreOf(d, common),
      });
    }
    if (pairs.length === 0) {
      parts.push(`${name} (${setNames(sets)}): no size × objective has both a sparse and a dense model, cannot tell.`);
      domainVerdicts.push('undetermined');
      continue;
    }
    const wins = pairs.filter((p) => p.diff > noise);
    const losses = pairs.filter((p) => p.diff < -noise);
    const ties = pairs.length - wins.length - losses.length;
    const diffs = pairs.map((p) => p.diff);
    const lo = Math.min(...diffs);
    const hi = Math.max(...diffs);
    let v: Verdict;
    if (losses.length === 0 && ties === 0) v = 'reproduced';
    else if (losses.length === 0 && wins.length > 0) v = 'within noise';
    else if (wins.length > losses.length) v = 'partly';
    else v = 'not reproduced';
    domainVerdicts.push(v);
    let s = `${name} (${setNames(sets)}): sparse ahead in ${wins.length} of ${pairs.length} matched size × objective pairs`;
    if (ties > 0) s += `, within noise in ${ties}`;
    if (losses.length > 0) {
      const worst = losses.reduce((a, b) => (b.diff < a.diff ? b : a));
      s += `, dense ahead in ${losses.length} (largest gap ${formatDelta(worst.diff)} at ${worst.size} ${worst.objective})`;
    }
    s += `; sparse − dense ranges ${formatDelta(lo)} to ${formatDelta(hi)} (mean ${formatDelta(mean(diffs))}).`;
    parts.push(s);
  }
  const known = domainVerdicts.filter((v) => v !== 'undetermined');
  const ok = (v: Verdict): boolean => v === 'reproduced' || v === 'within noise';
  let verdict: Verdict;
  if (known.length === 0) verdict = 'undetermined';
  // one domain alone can at best partly reproduce a claim about both
  else if (known.length === 1) verdict = ok(known[0]!) ? 'partly' : known[0]!;
  else if (known.every((v) => v === 'reproduced')) verdict = 'reproduced';
  else if (known.every(ok)) verdict = 'within noise';
  else if (known.every((v) => v === 'not reproduced')) verdict = 'not reproduced';
  else verdict = 'partly';
  return finding(
    'F2',
    claim,
    verdict,
    'Compared at equal size and objective, on the mean main metric of each domain.',
    parts,
  );
}

function analyzeF3(results: StudyResults, noise: number): Finding {
  const claim = 'The largest sparse CL+KD model is the best model on every eval set.';
  const line = lineRows(results, { paradigm: 'sparse', objective: 'cl+kd' }).filter((r) => isFiniteNumber(r.params));
  const top = line[line.length - 1];
  if (top === undefined)
    return finding('F3', claim, 'undetermined', 'No sparse CL+KD model with a parameter count: cannot tell.', []);
  const largestParams = Math.max(...results.rows.filter((r) => r.kind === 'model').map((r) => r.params ?? 0));
  const others = results.rows.filter((r) => r !== top);
  const parts: string[] = [];
  let clearWins = 0;
  let noiseWins = 0;
  let beaten = 0;
  let unknown = 0;
  for (const e of results.evalSets) {
    const v = metricOf(top, e.id);
    const rivals = others.filter((r) => metricOf(r, e.id) !== undefined);
    if (v === undefined || rivals.length === 0) {
      unknown++;
      parts.push(`${e.label}: ${v === undefined ? 'not measured' : 'no other model measured'}`);
      continue;
    }
    const best = rivals.reduce((a, b) => ((metricOf(b, e.id) ?? -Infinity) > (metricOf(a, e.id) ?? -Infinity) ? b : a));
    const b = metricOf(best, e.id) ?? NaN;
    const gap = v - b;
    const who = describeRow(best);
    if (gap > noise) {
      clearWins++;
      parts.push(`${e.label}: best, ${formatMetric(v)} vs ${formatMetric(b)} for ${who} (${formatDelta(gap)})`);
    } else if (gap >= -noise) {
      noiseWins++;
      parts.push(
        `${e.label}: ${gap >= 0 ? 'best' : 'second'} within noise, ${formatMetric(v)} vs ${formatMetric(b)} for ${who} (${formatDelta(gap)})`,
      );
    } else {
      beaten++;
      parts.push(`${e.label}: beaten by ${who}, ${formatMetric(b)} vs ${formatMetric(v)} (${formatDelta(gap)})`);
    }
  }
  const judged = clearWins + noiseWins + beaten;
  let verdict: Verdict;
  if (judged === 0) verdict = 'undetermined';
  else if (beaten === 0 && noiseWins === 0 && unknown === 0) verdict = 'reproduced';
  else if (beaten === 0 && unknown === 0) verdict = 'within noise';
  else if (beaten === judged) verdict = 'not reproduced';
  else verdict = 'partly';
  const note =
    (top.params ?? 0) < largestParams
      ? ' (not the largest size of the grid: larger sizes lack a sparse CL+KD model)'
      : '';
  const bm25 = baselineRows(results).length > 0 ? ' Rivals include the BM25 baseline.' : '';
  return finding('F3', claim, verdict, `Sparse CL+KD ${top.size}${note} against every other row.${bm25}`, parts);
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

function describeRow(r: StudyRow): string {
  if (r.kind === 'baseline') return r.size;
  return `${paradigmLabel(r.paradigm)} ${r.objective === null ? '' : objectiveLabel(r.objective) + ' '}${r.size}`;
}

/** Analyzes the three findings; `noise` overrides the results' own threshold. */
export function analyzeFindings(results: StudyResults, options: { noise?: number } = {}): FindingsAnalysis {
  const noise = options.noise ?? results.noiseThreshold ?? DEFAULT_NOISE;
  const scaling = lineScaling(results, noise);
  return {
    noise,
    scaling,
    findings: [analyzeF1(scaling, results, noise), analyzeF2(results, noise), analyzeF3(results, noise)],
  };
}

/** The sentence on what "noise" means here, ending every findings paragraph. */
export function noiseNote(results: StudyResults, noise: number): string {
  const source = results.noiseThreshold !== undefined ? 'as set by the study' : 'the default';
  return (
    `Differences of ${noise.toFixed(3)} or less in a main metric are treated as noise (${source}); ` +
    'each cell is one training run with one seed, and no significance test backs these verdicts.'
  );
}

/** The findings as plain text, one paragraph per finding (for terminals and Markdown). */
export function renderFindingsText(results: StudyResults, options: { noise?: number } = {}): string {
  const a = analyzeFindings(results, options);
  const paras = a.findings.map((f) => `${f.id} — ${f.verdict.toUpperCase()}. Claim: ${f.claim} ${f.text}`);
  return [...paras, noiseNote(results, a.noise)].join('\n\n') + '\n';
}
