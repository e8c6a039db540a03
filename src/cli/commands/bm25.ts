/**
 * `lion bm25`: indexes a corpus with BM25 (Lucene/Anserini scoring) and writes a TREC run.
 * @module
 */
import type { Command } from 'commander';
import { SingleBar, Presets } from 'cli-progress';
import { openDataset } from '../../data/datasets.ts';
import { readDocs, loadQueries } from '../../data/formats.ts';
import { writeTrecRun } from '../../data/trec.ts';
import { Bm25Index, ANSERINI_BM25 } from '../../lexical/bm25.ts';
import { evaluate } from '../../eval/evaluate.ts';
import type { Doc, Qrels } from '../../data/types.ts';
import { errorMessage } from '../errors.ts';
import { nonNegativeNumber, numberIn, positiveInt, UsageError, usageError } from '../flags.ts';

export interface Bm25CliOptions {
  dataset?: string;
  corpus?: string;
  queries?: string;
  output: string;
  k: string;
  k1: string;
  b: string;
  tag: string;
}

/** Counts documents as they stream past, on a progress bar when stderr is a terminal. */
async function* withProgress(docs: AsyncIterable<Doc>, total: number | undefined): AsyncGenerator<Doc> {
  const bar =
    process.stderr.isTTY && total
      ? new SingleBar(
          { format: 'indexing [{bar}] {value}/{total} docs {eta_formatted}', stream: process.stderr },
          Presets.shades_classic,
        )
      : undefined;
  bar?.start(total!, 0);
  let n = 0;
  for await (const d of docs) {
    yield d;
    if (++n % 1000 === 0) bar?.update(n);
  }
  bar?.update(n);
  bar?.stop();
}

export async function runBm25(opts: Bm25CliOptions, log: (line: string) => void = console.error): Promise<void> {
  if (!opts.dataset === !(opts.corpus || opts.queries))
    throw usageError('bm25', 'give --dataset, or --corpus and --queries', 'lion bm25 --dataset beir/scifact/test --output run.txt');
  if (!opts.dataset && !(opts.corpus && opts.queries)) throw usageError('bm25', '--corpus and --queries go together', 'give both files');
  const k = positiveInt('bm25', '--k', opts.k);
  const k1 = nonNegativeNumber('bm25', '--k1', opts.k1);
  const b = numberIn('bm25', '--b', opts.b, { min: 0, max: 1, hint: 'Anserini uses 0.4' });
  try {
    const ds = opts.dataset ? openDataset(opts.dataset, { log }) : undefined;
    const docs = ds ? ds.docs() : readDocs(opts.corpus!);
    let t = performance.now();
    const index = await Bm25Index.build(withProgress(docs, ds?.entry.counts.docs), { k1, b });
    const indexS = (performance.now() - t) / 1000;
    log(
      `indexed ${index.size} docs (${index.terms.length} terms, ${index.postings} postings) in ${indexS.toFixed(2)} s`,
    );
    const queries = ds ? await ds.queries() : await loadQueries(opts.queries!);
    t = performance.now();
    const run = index.searchAll(queries, k);
    const searchS = (performance.now() - t) / 1000;
    log(
      `searched ${queries.size} queries in ${searchS.toFixed(2)} s (${((searchS * 1000) / Math.max(1, queries.size)).toFixed(2)} ms/query)`,
    );
    await writeTrecRun(opts.output, run, opts.tag);
    log(`wrote ${opts.output}`);
    if (ds) {
      const qrels: Qrels = await ds.qrels();
      const r = evaluate(run, qrels, ds.entry.measures, { removeSelfHits: ds.entry.removeSelfHits });
      log(
        Object.entries(r.mean)
          .map(([m, v]) => `${m} ${v.toFixed(4)}`)
          .join('  '),
      );
    }
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new Error(errorMessage(e, 'bm25'), { cause: e });
  }
}

export function register(program: Command): void {
  program
    .command('bm25')
    .description('index a corpus with BM25 (Lucene scoring, English analyser) and write a TREC run')
    .option('--dataset <id>', 'a registered dataset (e.g. beir/scifact/test, msmarco-passage/dl19-mini)')
    .option('--corpus <file>', 'documents: BEIR corpus.jsonl, MS MARCO collection TSV or SMART (.gz too)')
    .option('--queries <file>', 'queries: BEIR queries.jsonl, qid<TAB>text TSV, or TREC SGML topics')
    .requiredOption('--output <run>', 'the TREC run file to write (- for stdout)')
    .option('--k <n>', 'hits per query', '1000')
    .option('--k1 <x>', 'BM25 k1 (Anserini default)', String(ANSERINI_BM25.k1))
    .option('--b <x>', 'BM25 b (Anserini default)', String(ANSERINI_BM25.b))
    .option('--tag <tag>', 'run tag (6th column)', 'lion-bm25')
    .action(async (opts: Bm25CliOptions) => runBm25(opts));
}
