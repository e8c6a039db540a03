/**
 * Random qrels/run pairs that stress trec_eval's corner cases: tied scores (broken by doc id
 * descending, with ids such as d9/d10 whose string order differs from numeric order), unjudged
 * retrieved docs, graded and negative judgements, queries with only non-relevant judgements, queries
 * only in the run or only in the qrels, rankings shorter than the cutoffs, and rank columns that
 * disagree with the scores.
 *
 *   node --import tsx scripts/trec-eval-parity/generate.ts OUT_DIR [CASES=300] [SEED=1]
 *
 * writes OUT_DIR/case-NNN.qrels and OUT_DIR/case-NNN.run.
 * @module
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { rng } from '../../src/util/random.ts';

export interface ParityCase {
  qrels: string;
  run: string;
}

/** One random case; deterministic in `seed`. */
export function generateCase(seed: number): ParityCase {
  const r = rng(seed);
  const int = (n: number): number => Math.floor(r() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
  const nDocs = 5 + int(40);
  const docs = Array.from({ length: nDocs }, (_, i) => pick(['d', 'D', 'doc-', '']) + String(i));
  const nQueries = 1 + int(8);
  const qrelLines: string[] = [];
  const runLines: string[] = [];
  for (let q = 0; q < nQueries; q++) {
    const qid = pick(['', 'q']) + String(100 + q * 3);
    const where = r();
    const inQrels = where > 0.1; // ~10% only in the run
    const inRun = where < 0.9; // ~10% only in the qrels
    if (inQrels) {
      const judged = [...docs].sort(() => r() - 0.5).slice(0, 1 + int(Math.min(nDocs, 20)));
      const allZero = r() < 0.1;
      for (const [j, d] of judged.entries()) {
        // The first judgement is never negative: with only negative grades trec_eval reads a stale
        // static (num_rel_levels in form_res_rels.c) and its output is undefined.
        const grade = allZero ? 0 : pick(j === 0 ? [0, 1, 2, 3] : [0, 0, 0, 1, 1, 2, 3, 4, -1]);
        qrelLines.push(`${qid} 0 ${d} ${grade}`);
      }
    }
    if (inRun) {
      const depth = int(Math.min(nDocs, 35)) + 1;
      const retrieved = [...docs].sort(() => r() - 0.5).slice(0, depth);
      const tieHeavy = r() < 0.5;
      retrieved.forEach((d, i) => {
        // Ties: scores drawn from a handful of values; otherwise decimals, negatives and exponents.
        const score = tieHeavy
          ? pick(['1', '2', '2.0', '3.5', '0', '-1'])
          : pick([(r() * 20 - 5).toFixed(4), (r() * 100).toFixed(2), `${(1 + r()).toFixed(3)}e1`, String(int(5))]);
        const rank = pick([i + 1, 1, depth - i]); // ranks that disagree with scores
        runLines.push(`${qid} Q0 ${d} ${rank} ${score} run${seed}`);
      });
    }
  }
  if (qrelLines.length === 0) qrelLines.push(`999 0 ${docs[0]} 1`);
  if (runLines.length === 0) runLines.push(`998 Q0 ${docs[0]} 1 1 run${seed}`);
  // Shuffle line order: neither trec_eval nor Lion may depend on it.
  const shuffle = (xs: string[]): string[] =>
    xs
      .map((x) => [r(), x] as const)
      .sort((a, b) => a[0] - b[0])
      .map((x) => x[1]);
  return { qrels: `${shuffle(qrelLines).join('\n')}\n`, run: `${shuffle(runLines).join('\n')}\n` };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const [out, casesArg, seedArg] = process.argv.slice(2);
  if (!out) {
    console.error('usage: generate.ts OUT_DIR [CASES=300] [SEED=1]');
    process.exit(2);
  }
  const cases = Number(casesArg ?? 300);
  const seed = Number(seedArg ?? 1);
  mkdirSync(out, { recursive: true });
  for (let i = 0; i < cases; i++) {
    const c = generateCase(seed * 100_003 + i);
    const name = `case-${String(i).padStart(3, '0')}`;
    writeFileSync(join(out, `${name}.qrels`), c.qrels);
    writeFileSync(join(out, `${name}.run`), c.run);
  }
  console.log(`wrote ${cases} cases to ${out}`);
}
