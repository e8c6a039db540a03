/**
 * `lion index`: builds a sparse or dense index from `lion encode` vectors, or encodes a corpus with a
 * model and indexes it in one streaming pass.
 * @module
 */
import { Command, Option } from 'commander';
import { BF16_INFERENCE_HELP, placement, positiveInt, withPlacement, usageError } from '../flags.ts';
import { withAtomicDir, type IndexManifest } from '../../index/manifest.ts';
import { SparseIndexBuilder, DOC_ORDERS, type DocOrder } from '../../index/sparse/build.ts';
import { DenseIndexBuilder, DENSE_DTYPES, type DenseDtype } from '../../index/dense/build.ts';
import { ANN_DTYPES, AnnBuilder, type AnnDtype } from '../../index/dense/ann.ts';
import { isSparse, openVectors, writeVectorFile, type VectorSource } from '../../index/vectors.ts';
import { parseShard, shardRange, within } from '../../parallel/shard.ts';
import { readTokenizerInfo } from '../../index/tokens.ts';
import { encodeStream } from '../../index/encode.ts';
import type { Paradigm, SparseVector, VectorIdentity } from '../../index/types.ts';
import { DOC_TEXT_RULES, type DocTextRule } from '../../model/encoder.ts';
import { corpusTexts, modelEncoder } from '../../model/text-encoder.ts';
import { hubOptions } from '../hub.ts';

export interface IndexFlags {
  vectors?: string;
  model?: string;
  adapter?: string;
  corpus?: string;
  paradigm: Paradigm;
  output: string;
  bits: string;
  docBlock: string;
  reorder?: DocOrder;
  bufferPostings: string;
  dtype: DenseDtype;
  ann?: 'none' | 'hnsw';
  annM?: string;
  annEfConstruction?: string;
  annDtype?: AnnDtype;
  vocabSize?: string;
  tokenizer?: string;
  modelId?: string;
  batchSize: string;
  maxLength?: string;
  docText: DocTextRule;
  json?: boolean;
  overwrite?: boolean;
  /** With --model: where it runs and its weight dtype (--dtype here is the dense storage type). */
  device?: string;
  modelDtype?: string;
  bf16?: boolean;
  shard?: string;
}

/** --model's encoder for documents. */
function documentEncoder(f: IndexFlags): ReturnType<typeof modelEncoder> {
  return modelEncoder(
    f.model!,
    f.adapter,
    f.paradigm,
    'doc',
    positiveInt('index', '--batch-size', f.batchSize),
    f.maxLength ? positiveInt('index', '--max-length', f.maxLength) : undefined,
    { ...placement('index', f), autocast: f.bf16 ? 'bf16' : undefined, hub: hubOptions() },
  );
}

/**
 * `--model --shard i/N`: encodes shard i of the corpus (whole groups of the one-pass stream, so each
 * vector is the one a single pass would index) and writes its vectors, `lion encode`'s format, to
 * --output; `lion index --vectors` of the N files in shard order builds the one-pass index.
 */
export async function runIndexShard(f: IndexFlags): Promise<number> {
  const shard = parseShard('index', f.shard)!;
  if (!f.model || !f.corpus || f.vectors) throw usageError('index', '--shard encodes a corpus: give --model and --corpus (not --vectors)', 'vector files need no sharding: pass the shard files, in order, to --vectors');
  const group = positiveInt('index', '--batch-size', f.batchSize) * 8;
  let total = 0;
  for await (const _ of corpusTexts(f.corpus, f.docText)) total++;
  const m = await documentEncoder(f);
  try {
    const texts = within(corpusTexts(f.corpus, f.docText), shardRange(shard, total, group));
    const identity = { ...m.identity, ...(f.modelId ? { model: f.modelId } : {}) };
    return await writeVectorFile(f.output, encodeStream(texts, m.encode, group), { ...identity, paradigm: f.paradigm, ...(f.paradigm === 'sparse' ? { vocabSize: m.vocabSize } : {}) });
  } finally {
    m.dispose();
  }
}

export async function runIndex(f: IndexFlags): Promise<IndexManifest> {
  if (!!f.vectors === !!f.model)
    throw usageError('index', 'give exactly one of --vectors FILE or --model DIR', "'lion index --vectors docs.jsonl --paradigm sparse --output idx'");
  if (f.model && !f.corpus) throw usageError('index', '--model needs --corpus ID|FILE', 'the corpus is encoded and indexed in one pass');
  if (f.ann === 'hnsw' && f.paradigm !== 'dense')
    throw usageError('index', '--ann hnsw is for dense indexes', 'sparse indexes prune with BMP (lion search --algorithm bmp, --alpha for approximate)');
  const bits = Number(f.bits);
  if (bits !== 8 && bits !== 16) throw usageError('index', `--bits must be 8 or 16, got '${f.bits}'`);
  const docBlock = positiveInt('index', '--doc-block', f.docBlock);
  const bufferPostings = positiveInt('index', '--buffer-postings', f.bufferPostings);
  let identity: VectorIdentity = {};
  let vocabSize = f.vocabSize === undefined ? undefined : positiveInt('index', '--vocab-size', f.vocabSize);
  if (f.tokenizer) {
    const t = readTokenizerInfo(f.tokenizer);
    identity = { ...identity, ...t.identity };
    vocabSize ??= t.vocabSize;
  }
  if (f.modelId) identity.model = f.modelId;

  let source: AsyncIterable<{ id: string; vector: SparseVector | Float32Array; where?: string }>;
  let file: VectorSource | null = null;
  let dispose = (): void => {};
  if (f.vectors) {
    file = openVectors(f.vectors, f.paradigm);
    vocabSize ??= file.meta?.vocabSize;
    source = file;
  } else {
    const m = await documentEncoder(f);
    identity = { ...m.identity, ...(f.modelId ? { model: f.modelId } : {}) };
    vocabSize ??= m.vocabSize;
    dispose = m.dispose;
    source = encodeStream(corpusTexts(f.corpus!, f.docText), m.encode, Number(f.batchSize) * 8);
  }
  let docs = 0;
  const noDocuments = (): Error =>
    new Error(`lion index: '${f.vectors ?? f.corpus}' holds no documents; hint: an index needs at least one vector (check the file)`);
  try {
    return await withAtomicDir(f.output, async (tmp) => {
      if (f.paradigm === 'sparse') {
        const b = new SparseIndexBuilder(tmp, {
          bits,
          docBlock,
          reorder: f.reorder,
          bufferPostings,
          vocabSize,
          identity,
          source: f.vectors ?? f.corpus,
        });
        for await (const v of source) {
          if (!isSparse(v.vector))
            throw new Error(
              `lion index: ${v.where ?? v.id}: a dense vector; hint: use --paradigm dense for dense vectors`,
            );
          b.add(v.id, v.vector, v.where);
          docs++;
        }
        if (!docs) throw noDocuments();
        if (file?.meta) {
          const { vocabSize: declared, ...meta } = file.meta;
          b.identity = { ...meta, ...identity };
          if (vocabSize === undefined && declared !== undefined) b.declareVocab(declared);
        }
        return b.finish();
      }
      const ann =
        f.ann === 'hnsw'
          ? await AnnBuilder.create({
              connectivity: f.annM === undefined ? undefined : positiveInt('index', '--ann-m', f.annM),
              expansionAdd: f.annEfConstruction === undefined ? undefined : positiveInt('index', '--ann-ef-construction', f.annEfConstruction),
              dtype: f.annDtype,
            })
          : undefined;
      const b = new DenseIndexBuilder(tmp, { dtype: f.dtype, identity, source: f.vectors ?? f.corpus }, ann);
      for await (const v of source) {
        if (isSparse(v.vector))
          throw new Error(
            `lion index: ${v.where ?? v.id}: a sparse vector; hint: use --paradigm sparse for sparse vectors`,
          );
        b.add(v.id, v.vector, v.where);
        docs++;
      }
      if (!docs) throw noDocuments();
      if (file?.meta) b.identity = { ...file.meta, ...identity };
      return b.finish();
    }, { overwrite: f.overwrite, inputs: [f.vectors, f.model, f.adapter, f.corpus, f.tokenizer] });
  } finally {
    dispose();
  }
}

export function summarize(m: IndexManifest): string {
  const bytes = Object.values(m.files).reduce((a, e) => a + e.bytes, 0);
  const lines = [`${m.paradigm} index: ${m.counts.docs} documents, ${(bytes / 2 ** 20).toFixed(1)} MiB`];
  if (m.sparse) {
    const p = m.counts.postings ?? 0;
    const per = (name: string): string => (p ? ((m.files[name]?.bytes ?? 0) / p).toFixed(2) : '-');
    lines.push(
      `  ${p} postings over ${m.sparse.vocabSize} terms, ${m.sparse.bits}-bit impacts (scale ${m.sparse.scale.toPrecision(4)})`,
    );
    lines.push(
      `  bytes/posting: postings ${per('postings.bin')}, forward ${per('forward.bin')}, block maxima ${per('blockmax.bin')}`,
    );
  }
  if (m.dense) {
    const a = m.dense.ann;
    lines.push(`  dim ${m.dense.dim}, ${m.dense.dtype}${a ? `; HNSW graph (M ${a.connectivity}, ef_construction ${a.expansionAdd}, ${a.dtype})` : ''}`);
  }
  if (m.build)
    lines.push(
      `  built in ${m.build.seconds.toFixed(1)} s, peak RSS ${(m.build.peakRssBytes / 2 ** 20).toFixed(0)} MiB`,
    );
  return lines.join('\n');
}

export function register(program: Command): void {
  const cmd = program
    .command('index')
    .description('build a sparse or dense index from encoded vectors (or encode a corpus with a model and index it)')
    .option('--vectors <file[,file…]>', 'JSONL from lion encode: {"id","indices","values"} or {"id","vector"} lines; several files (shards, in order) make one index')
    .option('--model <dir>', 'encode --corpus with this model (a folder, or a Hugging Face Hub name org/name[@revision]) instead of reading --vectors')
    .option('--adapter <dir>', 'PEFT LoRA adapter for --model')
    .option('--corpus <id|file>', 'with --model: a dataset id or a JSONL file of {"id","text"} / BEIR lines')
    .addOption(new Option('--paradigm <p>', 'sparse or dense').choices(['sparse', 'dense']).makeOptionMandatory())
    .requiredOption('--output <dir>', 'index folder to create (written atomically)')
    .option('--overwrite', 'replace an existing Lion index at --output (nothing else is ever replaced)')
    .option('--bits <n>', 'sparse: impact width, 8 or 16', '8')
    .option('--doc-block <n>', 'sparse: documents per block-max block (power of two, <= 256)', '32')
    .addOption(
      new Option('--reorder <order>', 'sparse: document order inside the index: bp = recursive graph bisection (similar documents share blocks, so BMP prunes more; same results; slower build, 8 bytes/posting of memory), none = input order')
        .choices([...DOC_ORDERS])
        .default('none'),
    )
    .option(
      '--buffer-postings <n>',
      'sparse: postings held in memory before spilling to disk (~20 bytes each)',
      String(1 << 23),
    )
    .addOption(new Option('--dtype <t>', 'dense: storage type').choices([...DENSE_DTYPES]).default('f32'))
    .addOption(
      new Option('--ann <kind>', 'dense: also build an approximate index: hnsw = an HNSW graph (usearch) searched by default, candidates rescored exactly; none = flat only')
        .choices(['none', 'hnsw'])
        .default('none'),
    )
    .option('--ann-m <n>', 'dense --ann hnsw: graph degree M', '16')
    .option('--ann-ef-construction <n>', 'dense --ann hnsw: candidate list size while inserting', '128')
    .addOption(
      new Option('--ann-dtype <t>', 'dense --ann hnsw: what the graph stores per vector (i8 needs values in [-1, 1]; scores always come from the flat rows)')
        .choices([...ANN_DTYPES])
        .default('f16'),
    )
    .option('--vocab-size <n>', 'sparse: vocabulary size (default: from --tokenizer, --model or the vectors\' sidecar, else largest term id + 1)')
    .option(
      '--tokenizer <file>',
      'tokenizer.json (or llama2.c tokenizer.bin) whose ids the vectors use: recorded in the manifest',
    )
    .option('--model-id <name>', 'name of the model that made the vectors, recorded and checked against queries')
    .option('--batch-size <n>', 'with --model: texts per forward pass', '32')
    .addOption(
      new Option('--doc-text <rule>', "with --model: a titled document's text: authors = title + ' ' + text always (the paper's BEIR encoding), clean = no leading space for empty titles")
        .choices([...DOC_TEXT_RULES])
        .default('authors'),
    )
    .option('--max-length <n>', 'with --model: maximum document tokens including BOS')
    .option('--json', 'print the manifest as JSON')
    .option('--shard <i/N>', 'with --model: encode only shard i of N (0-based) and write its vectors to --output (a file) instead of an index; then index the N files with --vectors');
  withPlacement(cmd, { dtypeFlag: '--model-dtype', what: '--model' })
    .option('--bf16', `with --model: ${BF16_INFERENCE_HELP}`)
    .action(async (f: IndexFlags) => {
      if (f.shard !== undefined) {
        const n = await runIndexShard(f);
        console.error(`encoded shard ${f.shard}: ${n} documents -> ${f.output}`);
        return;
      }
      const m = await runIndex(f);
      if (f.json) console.log(JSON.stringify(m, null, 2));
      else console.error(`${summarize(m)}\n  -> ${f.output}`);
    });
}
