/**
 * `lion search`: top-k search of an index with query vectors (or query texts and a model), written as
 * a TREC run.
 * @module
 */
import { Command, Option } from 'commander';
import { existsSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { BF16_INFERENCE_HELP, placement, positiveInt, withPlacement, usageError } from '../flags.ts';
import { openIndex, searchIndex } from '../../index/search.ts';
import { SPARSE_ALGORITHMS, type SparseAlgorithm } from '../../index/sparse/index.ts';
import { VectorFile } from '../../index/vectors.ts';
import { writeTrecRun } from '../../data/trec.ts';
import type { Labelled, Run, SparseVector, VectorIdentity } from '../../index/types.ts';
import { modelEncoder } from '../../model/text-encoder.ts';
import { hubOptions } from '../hub.ts';
import { DEFAULT_ANN_EF } from '../../index/dense/ann.ts';

export interface SearchFlags {
  index: string;
  queryVectors?: string;
  queries?: string;
  model?: string;
  adapter?: string;
  k: string;
  exact?: boolean;
  algorithm?: SparseAlgorithm;
  alpha?: string;
  threads?: string;
  backend: 'torch' | 'js';
  annEf?: string;
  output: string;
  tag: string;
  modelId?: string;
  maxLength?: string;
  batchSize: string;
  /** With --model: where it runs and its weight dtype. */
  device?: string;
  dtype?: string;
  bf16?: boolean;
}

/** Query texts: a JSONL / TSV file or a registered dataset's queries. */
async function queryTexts(spec: string): Promise<{ id: string; text: string }[]> {
  if (existsSync(spec) && statSync(spec).isFile()) {
    const { loadQueries } = await import('../../data/formats.ts');
    return [...(await loadQueries(spec))].map(([id, text]) => ({ id, text }));
  }
  const { openDataset } = await import('../../data/datasets.ts');
  return [...(await openDataset(spec).queries())].map(([id, text]) => ({ id, text }));
}

export async function runSearch(f: SearchFlags): Promise<{ run: Run; seconds: number; queries: number }> {
  if (!!f.queryVectors === !!f.queries)
    throw usageError('search', 'give exactly one of --query-vectors FILE or --queries ID|FILE', "'lion search --index idx --query-vectors q.jsonl --k 10 --output run.trec'");
  const k = positiveInt('search', '--k', f.k);
  const threads = f.threads === undefined ? availableParallelism() : positiveInt('search', '--threads', f.threads);
  const alpha = f.alpha === undefined ? undefined : Number(f.alpha);
  if (alpha !== undefined && !(alpha > 0 && alpha <= 1))
    throw usageError('search', `--alpha must be in (0, 1], got '${f.alpha}'`, '1 is exact, 0.9 trades a little recall for speed');
  if (f.exact && alpha !== undefined && alpha < 1) throw usageError('search', `--exact and --alpha ${f.alpha} contradict each other`, 'drop one');
  const ef = f.annEf === undefined ? undefined : positiveInt('search', '--ann-ef', f.annEf);
  const index = openIndex(f.index, { shared: threads > 1 });
  if (ef !== undefined && !('hasAnn' in index && index.hasAnn))
    throw usageError('search', `--ann-ef needs a dense index with an HNSW graph; '${f.index}' has none`, "build one with 'lion index --paradigm dense --ann hnsw'");
  let queries: Labelled<SparseVector | Float32Array>[];
  let identity: VectorIdentity | undefined;
  if (f.queryVectors) {
    const file = new VectorFile(f.queryVectors, index.manifest.paradigm);
    queries = await file.readAll();
    identity = file.meta;
  } else {
    if (!f.model) throw usageError('search', '--queries needs --model DIR to encode them', "or encode them first with 'lion encode' and pass --query-vectors");
    const m = await modelEncoder(
      f.model,
      f.adapter,
      index.manifest.paradigm,
      'query',
      positiveInt('search', '--batch-size', f.batchSize),
      f.maxLength ? positiveInt('search', '--max-length', f.maxLength) : undefined,
      { ...placement('search', f), autocast: f.bf16 ? 'bf16' : undefined, hub: hubOptions() },
    );
    try {
      const texts = await queryTexts(f.queries!);
      const vecs = await m.encode(texts.map((t) => t.text));
      queries = texts.map((t, i) => ({ id: t.id, vector: vecs[i]! }));
      identity = m.identity;
    } finally {
      m.dispose();
    }
  }
  if (f.modelId) identity = { ...identity, model: f.modelId };
  const t0 = performance.now();
  const run = await searchIndex(index, queries, {
    k,
    threads,
    identity,
    algorithm: f.exact ? 'exhaustive' : f.algorithm,
    alpha,
    backend: f.backend,
    exact: f.exact,
    ef,
  });
  const seconds = (performance.now() - t0) / 1000;
  if ('close' in index) index.close();
  await writeTrecRun(f.output, run, f.tag);
  return { run, seconds, queries: queries.length };
}

export function register(program: Command): void {
  const cmd = program
    .command('search')
    .description('search an index with query vectors (or query texts and a model) and write a TREC run')
    .requiredOption('--index <dir>', 'index folder from lion index')
    .option('--query-vectors <file>', 'JSONL from lion encode --kind query')
    .option('--queries <id|file>', 'query texts (dataset id, JSONL or TSV), encoded with --model')
    .option('--model <dir>', 'with --queries: the model that encodes them (a folder, or a Hugging Face Hub name org/name[@revision])')
    .option('--adapter <dir>', 'PEFT LoRA adapter for --model')
    .option('--k <n>', 'hits per query', '1000')
    .option('--exact', 'exact scoring: sparse = exhaustive (the reference; slower), dense = every row even when the index has an HNSW graph')
    .addOption(new Option('--algorithm <name>', 'sparse: query algorithm').choices([...SPARSE_ALGORITHMS]))
    .option(
      '--alpha <x>',
      'sparse, bmp: approximation in (0, 1]; 1 is exact (default), lower is faster with lower recall',
    )
    .option('--threads <n>', 'sparse: worker threads for the query batch (default: cores)')
    .addOption(new Option('--backend <b>', 'dense: matmul backend').choices(['torch', 'js']).default('torch'))
    .option('--ann-ef <n>', `dense with an HNSW graph: candidate list size (default ${DEFAULT_ANN_EF}); larger finds more of the exact top-k, slower`)
    .option('--model-id <name>', 'name of the model that made the query vectors (checked against the index)')
    .option('--batch-size <n>', 'with --model: texts per forward pass', '32')
    .option('--max-length <n>', 'with --model: maximum query tokens including BOS')
    .option('--tag <name>', 'run tag (last column)', 'lion')
    .requiredOption('--output <file>', 'TREC run: qid Q0 docid rank score tag (- for stdout)');
  withPlacement(cmd, { what: '--model' })
    .option('--bf16', `with --model: ${BF16_INFERENCE_HELP}`)
    .action(async (f: SearchFlags) => {
      const r = await runSearch(f);
      console.error(
        `searched ${r.queries} queries in ${r.seconds.toFixed(2)} s (${(r.queries / Math.max(r.seconds, 1e-9)).toFixed(1)} queries/s) -> ${f.output}`,
      );
    });
}
