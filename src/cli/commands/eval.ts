/**
 * `lion eval`: scores a TREC run against qrels with trec_eval's semantics.
 * @module
 */
import { Command, Option } from 'commander';
import { readTrecRun } from '../../data/trec.ts';
import { errorMessage } from '../errors.ts';
import { readQrels } from '../../data/formats.ts';
import { openDataset } from '../../data/datasets.ts';
import { evaluate } from '../../eval/evaluate.ts';
import { DEFAULT_MEASURES, parseMeasure } from '../../eval/measures.ts';
import type { Qrels, Run } from '../../data/types.ts';

export interface EvalCliOptions {
  qrels?: string;
  dataset?: string;
  run: string;
  measure?: string[];
  relLevel?: string;
  perQuery?: boolean;
  json?: boolean;
  removeSelfHits?: boolean;
  keepSelfHits?: boolean;
}

/** Re-labels library errors ("lion: …") as this command's ("lion eval: …"). */
function asCommandError(e: unknown): Error {
  return new Error(errorMessage(e, 'eval'), { cause: e });
}

function countCoverage(run: Run, qrels: Qrels): { noRun: number; noQrels: number } {
  let noRun = 0;
  let noQrels = 0;
  for (const q of qrels.keys()) if (!run.has(q)) noRun++;
  for (const q of run.keys()) if (!qrels.has(q)) noQrels++;
  return { noRun, noQrels };
}

export async function runEval(
  opts: EvalCliOptions,
  out: (line: string) => void = console.log,
  err: (line: string) => void = console.error,
): Promise<void> {
  if (!opts.qrels === !opts.dataset)
    throw new Error(
      'lion eval: give exactly one of --qrels or --dataset; hint: --qrels qrels.txt, or --dataset beir/scifact/test',
    );
  let level = 1;
  if (opts.relLevel !== undefined) {
    if (!/^-?\d+$/.test(opts.relLevel))
      throw new Error(
        `lion eval: --rel-level must be an integer '${opts.relLevel}'; hint: use e.g. --rel-level 2 for TREC DL recall and AP`,
      );
    level = Number(opts.relLevel);
  }
  const measures = (opts.measure?.length ? opts.measure : DEFAULT_MEASURES).map((m) => {
    try {
      return parseMeasure(m);
    } catch (e) {
      throw asCommandError(e);
    }
  });
  try {
    const ds = opts.dataset ? openDataset(opts.dataset, { log: err }) : undefined;
    const qrels = ds ? await ds.qrels() : await readQrels(opts.qrels!);
    const run = await readTrecRun(opts.run);
    const removeSelfHits = opts.keepSelfHits ? false : (opts.removeSelfHits ?? ds?.entry.removeSelfHits ?? false);
    const result = evaluate(run, qrels, measures, { relevanceLevel: level, removeSelfHits });
    const { noRun, noQrels } = countCoverage(run, qrels);
    err(
      `evaluated ${result.perQuery.size} queries (${noRun} in the qrels without results, ${noQrels} in the run without qrels: not scored)${removeSelfHits ? '; self-hits removed' : ''}`,
    );
    if (opts.json) {
      if (opts.perQuery)
        out(
          JSON.stringify({
            mean: result.mean,
            perQuery: Object.fromEntries(result.perQuery),
            queries: result.perQuery.size,
          }),
        );
      else out(JSON.stringify(result.mean));
      return;
    }
    const width = Math.max(...measures.map((m) => m.name.length));
    const line = (name: string, qid: string, v: number): string => `${name.padEnd(width)}\t${qid}\t${v.toFixed(4)}`;
    if (opts.perQuery)
      for (const [qid, values] of result.perQuery) for (const m of measures) out(line(m.name, qid, values[m.name]!));
    for (const m of measures) out(line(m.name, 'all', result.mean[m.name]!));
  } catch (e) {
    throw asCommandError(e);
  }
}

const collect = (v: string, prev: string[] | undefined): string[] => [...(prev ?? []), v];

export function register(program: Command): void {
  program
    .command('eval')
    .description(
      'score a TREC run against qrels (trec_eval semantics: rank column ignored, ties by doc id, queries in both files averaged)',
    )
    .addOption(
      new Option('--qrels <file>', 'qrels: TREC (qid iter doc grade), BEIR tsv (with or without header) or 3-column'),
    )
    .addOption(new Option('--dataset <id>', 'take the qrels of a registered dataset instead (e.g. beir/scifact/test)'))
    .requiredOption('--run <file>', 'TREC run: qid Q0 doc rank score tag (.gz too)')
    .option(
      '-m, --measure <name>',
      `a measure, repeatable: RR@k, nDCG@k, R@k, P@k, AP, with optional (rel=N) (default: ${DEFAULT_MEASURES.join(', ')})`,
      collect,
    )
    .option('--rel-level <n>', 'minimum grade counted as relevant by binary measures, like trec_eval -l (default 1)')
    .option('--per-query', "also print each query's values")
    .option('--json', 'print one JSON object mapping each measure to its mean')
    .option('--remove-self-hits', 'drop hits whose doc id equals the query id (BEIR; default on for beir/* datasets)')
    .option('--keep-self-hits', 'keep such hits even for beir/* datasets')
    .action(async (opts: EvalCliOptions) => runEval(opts));
}
