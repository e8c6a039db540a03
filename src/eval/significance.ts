/**
 * Paired significance tests between two systems' per-query values (same queries, same measure):
 * Student's paired t-test and a two-sided randomisation (sign-flip permutation) test.
 * @module
 */
import { studentTCdf } from './t-dist.ts';
import type { EvaluationResult } from './evaluate.ts';
import { rng } from '../util/random.ts';

export interface PairedTestResult {
  /** Number of paired queries. */
  n: number;
  /** mean(a) - mean(b). */
  meanDiff: number;
  /** Two-sided p-value. */
  p: number;
}

export interface TTestResult extends PairedTestResult {
  t: number;
  df: number;
}

function check(a: readonly number[], b: readonly number[]): void {
  if (a.length !== b.length)
    throw new Error(
      `lion: paired test needs equal lengths, got ${a.length} and ${b.length}; hint: pair values by query with pairByQuery`,
    );
  if (a.length < 2) throw new Error('lion: paired test needs at least 2 queries; hint: evaluate on more queries');
}

/** Paired two-sided Student t-test of H0: mean(a - b) = 0. */
export function pairedTTest(a: readonly number[], b: readonly number[]): TTestResult {
  check(a, b);
  const n = a.length;
  const d = a.map((x, i) => x - b[i]!);
  const mean = d.reduce((s, x) => s + x, 0) / n;
  const variance = d.reduce((s, x) => s + (x - mean) ** 2, 0) / (n - 1);
  const df = n - 1;
  if (variance === 0)
    return { n, meanDiff: mean, t: mean === 0 ? 0 : Math.sign(mean) * Infinity, df, p: mean === 0 ? 1 : 0 };
  const t = mean / Math.sqrt(variance / n);
  return { n, meanDiff: mean, t, df, p: Math.min(1, 2 * studentTCdf(-Math.abs(t), df)) };
}

export interface RandomisationOptions {
  /** Number of random sign flips (default 10,000). */
  trials?: number;
  /** Seed (default 0). */
  seed?: number;
}

/**
 * Paired randomisation test: under H0 each query's two values are exchangeable, so the sign of each
 * difference is flipped at random; p = (#{|mean flipped| >= |mean observed|} + 1) / (trials + 1).
 */
export function randomisationTest(
  a: readonly number[],
  b: readonly number[],
  opts: RandomisationOptions = {},
): PairedTestResult {
  check(a, b);
  const trials = opts.trials ?? 10_000;
  const next = rng(opts.seed ?? 0);
  const n = a.length;
  const d = Float64Array.from(a, (x, i) => x - b[i]!);
  const observed = Math.abs(d.reduce((s, x) => s + x, 0));
  let extreme = 0;
  for (let t = 0; t < trials; t++) {
    let sum = 0;
    for (let i = 0; i < n; i++) sum += next() < 0.5 ? -d[i]! : d[i]!;
    // A relative epsilon, so sums equal to the observed one up to rounding count as extreme.
    if (Math.abs(sum) >= observed - 1e-12 * Math.max(1, observed)) extreme++;
  }
  return { n, meanDiff: d.reduce((s, x) => s + x, 0) / n, p: (extreme + 1) / (trials + 1) };
}

/** Pairs two evaluations' per-query values of `measure` over the queries both scored. */
export function pairByQuery(
  a: EvaluationResult,
  b: EvaluationResult,
  measure: string,
): { queries: string[]; a: number[]; b: number[] } {
  const queries: string[] = [];
  const va: number[] = [];
  const vb: number[] = [];
  for (const [qid, values] of a.perQuery) {
    const other = b.perQuery.get(qid);
    const x = values[measure];
    const y = other?.[measure];
    if (x === undefined || y === undefined) continue;
    queries.push(qid);
    va.push(x);
    vb.push(y);
  }
  return { queries, a: va, b: vb };
}
