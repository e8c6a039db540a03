/**
 * Compares Lion's evaluator with trec_eval over random qrels/run pairs.
 *
 *   node --import tsx scripts/trec-eval-parity/compare.ts [CASES=300] [SEED=1]
 *
 * With TREC_EVAL=/path/to/trec_eval set, every case is written to a temp folder and evaluated by the
 * real binary (`trec_eval -q -l L [-M k] -m measure.k qrels run`); values must agree to 1e-4 (trec_eval
 * prints 4 decimals). Without it, the reference is oracle.ts, the transcription of trec_eval's C,
 * and values must agree to 1e-9. Exits 1 on any mismatch, printing the first few.
 * @module
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateCase } from './generate.ts';
import { trecEval, type OracleMeasure } from './oracle.ts';
import { readTrecQrels, readTrecRun } from '../../src/data/trec.ts';
import { evaluate } from '../../src/eval/evaluate.ts';

/** Each Lion measure and the trec_eval invocation that computes it. */
export const PARITY_MEASURES: { lion: string; te: Omit<OracleMeasure, 'level'> }[] = [
  { lion: 'RR@10', te: { name: 'recip_rank', maxDocs: 10 } },
  { lion: 'RR@3', te: { name: 'recip_rank', maxDocs: 3 } },
  { lion: 'RR', te: { name: 'recip_rank' } },
  { lion: 'nDCG@1', te: { name: 'ndcg_cut', cutoff: 1 } },
  { lion: 'nDCG@5', te: { name: 'ndcg_cut', cutoff: 5 } },
  { lion: 'nDCG@10', te: { name: 'ndcg_cut', cutoff: 10 } },
  { lion: 'nDCG@100', te: { name: 'ndcg_cut', cutoff: 100 } },
  { lion: 'R@5', te: { name: 'recall', cutoff: 5 } },
  { lion: 'R@1000', te: { name: 'recall', cutoff: 1000 } },
  { lion: 'P@5', te: { name: 'P', cutoff: 5 } },
  { lion: 'P@10', te: { name: 'P', cutoff: 10 } },
  { lion: 'AP', te: { name: 'map' } },
];
export const PARITY_LEVELS = [0, 1, 2] as const;

export interface Mismatch {
  case: number;
  measure: string;
  level: number;
  qid: string;
  lion: number | undefined;
  reference: number | undefined;
}

/** Runs the real trec_eval binary; returns per-query values and the mean ("all"). */
function runTrecEval(
  bin: string,
  qrelsPath: string,
  runPath: string,
  m: OracleMeasure,
): { perQuery: Map<string, number>; mean: number } {
  const args = ['-q', `-l${m.level}`];
  if (m.maxDocs !== undefined) args.push(`-M${m.maxDocs}`);
  args.push('-m', m.cutoff === undefined ? m.name : `${m.name}.${m.cutoff}`, qrelsPath, runPath);
  const out = execFileSync(bin, args, { encoding: 'utf8' });
  const perQuery = new Map<string, number>();
  let mean = Number.NaN;
  for (const line of out.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length !== 3) continue;
    if (f[1] === 'all') mean = Number(f[2]);
    else perQuery.set(f[1]!, Number(f[2]));
  }
  return { perQuery, mean };
}

/** Compares Lion with the reference on `cases` random cases; returns the mismatches and counts. */
export async function compareCases(
  cases: number,
  seed: number,
  trecEvalBin?: string,
): Promise<{ mismatches: Mismatch[]; values: number; cases: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'lion-parity-'));
  const tol = trecEvalBin ? 1e-4 : 1e-9;
  const mismatches: Mismatch[] = [];
  let values = 0;
  try {
    for (let i = 0; i < cases; i++) {
      const c = generateCase(seed * 100_003 + i);
      const qp = join(dir, 'qrels');
      const rp = join(dir, 'run');
      writeFileSync(qp, c.qrels);
      writeFileSync(rp, c.run);
      const qrels = await readTrecQrels(qp);
      const run = await readTrecRun(rp);
      for (const level of PARITY_LEVELS) {
        const lion = evaluate(
          run,
          qrels,
          PARITY_MEASURES.map((m) => m.lion),
          { relevanceLevel: level },
        );
        for (const pm of PARITY_MEASURES) {
          const m: OracleMeasure = { ...pm.te, level };
          const ref = trecEvalBin ? runTrecEval(trecEvalBin, qp, rp, m) : trecEval(c.qrels, c.run, m);
          const qids = new Set([...ref.perQuery.keys(), ...lion.perQuery.keys()]);
          for (const qid of qids) {
            const a = lion.perQuery.get(qid)?.[pm.lion];
            const b = ref.perQuery.get(qid);
            values++;
            if (a === undefined || b === undefined || Math.abs(a - b) > tol)
              mismatches.push({ case: i, measure: pm.lion, level, qid, lion: a, reference: b });
          }
          values++;
          if (Math.abs(lion.mean[pm.lion]! - ref.mean) > tol)
            mismatches.push({
              case: i,
              measure: pm.lion,
              level,
              qid: 'all',
              lion: lion.mean[pm.lion],
              reference: ref.mean,
            });
        }
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return { mismatches, values, cases };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const cases = Number(process.argv[2] ?? 300);
  const seed = Number(process.argv[3] ?? 1);
  const bin = process.env['TREC_EVAL'];
  const { mismatches, values } = await compareCases(cases, seed, bin);
  const ref = bin ? `trec_eval (${bin})` : 'oracle.ts (transcribed trec_eval)';
  console.log(
    `${cases} cases, ${values} values (per query and mean) compared with ${ref}: ${mismatches.length} mismatches`,
  );
  for (const m of mismatches.slice(0, 10)) console.log(JSON.stringify(m));
  process.exit(mismatches.length ? 1 : 0);
}
