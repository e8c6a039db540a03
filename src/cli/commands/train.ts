/**
 * `lion train`, `lion pretrain`, `lion mntp`: thin shells over src/train/recipes.ts. Every command
 * resumes from its latest checkpoint when run again with the same --output folder.
 * @module
 */
import { Command, Option } from 'commander';
import { join } from 'node:path';
import { FINAL_DIR } from '../../train/checkpoint.ts';
import { docsFrom, qrelsFrom, queriesFrom } from '../../data/sources.ts';
import { beirDocText, type Paradigm } from '../../model/encoder.ts';
import { corpusTextsFrom } from '../../model/texts.ts';
import { PAPER_LORA } from '../../model/lora.ts';
import { parseFlops } from '../../train/budget.ts';
import type { Objective } from '../../train/objectives.ts';
import { loadExamples, mntp, pretrain, trainRetriever, type CommonTrainOptions, type Tuning } from '../../train/recipes.ts';
import { clipNorm, nonNegativeInt, nonNegativeNumber, numberIn, placement, positiveInt, positiveNumber, withPlacement, type PlacementFlags, usageError } from '../flags.ts';
import { trainReranker } from '../../train/cross-encoder.ts';
import { stepBar } from '../progress.ts';
import { resolveModelFlags } from '../hub.ts';
import { resolveExamples } from '../../train/retrieval.ts';
import { launchRanks, shouldLaunch } from '../../parallel/launch.ts';
import { rankEnv } from '../../parallel/group.ts';

interface CommonFlags extends PlacementFlags {
  model: string;
  adapter?: string;
  output: string;
  steps: string;
  batchSize: string;
  gradAccum: string;
  lr: string;
  warmupRatio: string;
  weightDecay: string;
  clip: string;
  seed: string;
  saveEvery?: string;
  validateEvery?: string;
  flopsBudget?: string;
  maxMinutes?: string;
  bf16?: boolean;
  full?: boolean;
  loraR: string;
  loraAlpha: string;
  loraDropout: string;
}

const num = nonNegativeNumber;

function common(cmd: string, f: CommonFlags): CommonTrainOptions {
  const tuning: Tuning = f.full
    ? { kind: 'full' }
    : {
        kind: 'lora',
        lora: {
          ...PAPER_LORA,
          r: positiveInt(cmd, '--lora-r', f.loraR),
          alpha: positiveNumber(cmd, '--lora-alpha', f.loraAlpha, 'the paper uses 32 (scale alpha/r)'),
          dropout: numberIn(cmd, '--lora-dropout', f.loraDropout, { min: 0, max: 1, maxOpen: true }),
        },
      };
  return {
    model: f.model,
    adapter: f.adapter,
    output: f.output,
    steps: positiveInt(cmd, '--steps', f.steps),
    batchSize: positiveInt(cmd, '--batch-size', f.batchSize),
    gradAccum: positiveInt(cmd, '--grad-accum', f.gradAccum),
    lr: positiveNumber(cmd, '--lr', f.lr),
    warmupRatio: numberIn(cmd, '--warmup-ratio', f.warmupRatio, { min: 0, max: 1 }),
    weightDecay: num(cmd, '--weight-decay', f.weightDecay),
    clip: clipNorm(cmd, f.clip),
    seed: nonNegativeInt(cmd, '--seed', f.seed),
    saveEvery: f.saveEvery === undefined ? undefined : positiveInt(cmd, '--save-every', f.saveEvery),
    validateEvery: f.validateEvery === undefined ? undefined : positiveInt(cmd, '--validate-every', f.validateEvery),
    flopsBudget: f.flopsBudget === undefined ? undefined : parseFlops(f.flopsBudget),
    maxSeconds: f.maxMinutes === undefined ? undefined : num(cmd, '--max-minutes', f.maxMinutes) * 60,
    tuning,
    autocast: f.bf16 ? 'bf16' : undefined,
    ...placement(cmd, f),
    gradCheckpointing: f.gradCheckpointing ?? false,
    printEvery: 10,
    onProgress: stepBar('train'),
  };
}

function withCommon(c: Command, d: { steps: string; batch: string; lr: string; warmup: string; full: boolean }): Command {
  return withPlacement(c, { training: true })
    .requiredOption('--model <dir>', 'base model: a folder (HF layout), a llama2.c checkpoint, or a Hugging Face Hub name org/name[@revision]; a PEFT adapter here brings its base model')
    .option('--adapter <dir>', 'continue training this PEFT adapter, a folder or hub name (the paper continues its MNTP adapter)')
    .requiredOption('--output <dir>', 'run folder: checkpoints, train.jsonl log, final export; rerun to resume')
    .option('--steps <n>', 'optimizer steps', d.steps)
    .option('--batch-size <n>', 'examples per micro-batch', d.batch)
    .option('--grad-accum <n>', 'micro-batches per optimizer step', '1')
    .option('--lr <x>', 'peak learning rate', d.lr)
    .option('--warmup-ratio <x>', 'fraction of steps for linear warm-up', d.warmup)
    .option('--weight-decay <x>', 'AdamW decoupled weight decay', '0')
    .option('--clip <x>', "gradient-norm clipping threshold (> 0), or 'none'", '1')
    .option('--seed <n>', 'seed of data order, sampling and initialisation', '0')
    .option('--save-every <n>', 'checkpoint every n steps (default: every tenth of the run)')
    .option('--validate-every <n>', 'validate every n steps')
    .option('--flops-budget <x>', 'stop after this many training FLOPs (e.g. 3e15, 2.5P)')
    .option('--max-minutes <x>', 'stop after this much training time (all resumed sessions together)')
    .option('--bf16', 'bf16 autocast for forward and loss, weights and optimizer in f32 (the paper; fast on GPUs and CPUs with bf16 units)')
    .option('--full', d.full ? 'train all weights (default for pretrain)' : 'train all weights instead of LoRA', d.full)
    .option('--lora-r <n>', 'LoRA rank', '16')
    .option('--lora-alpha <x>', 'LoRA alpha (scale alpha/r)', '32')
    .option('--lora-dropout <x>', 'dropout on LoRA inputs', '0.05');
}

async function texts(corpus: string, maxTexts?: string): Promise<string[]> {
  const max = maxTexts === undefined ? Infinity : positiveInt('train', '--max-texts', maxTexts);
  const out: string[] = [];
  for await (const d of docsFrom(corpus)) {
    out.push(beirDocText({ title: d.title, text: d.text }));
    if (out.length >= max) break;
  }
  return out;
}

function report(s: { step: number; seconds: number; flops: number; lastLoss: number; stoppedBy: string; resumedFrom: number; validation: Record<string, number> | null }, out: string): void {
  if ((rankEnv()?.rank ?? 0) !== 0) return; // rank 0 speaks for the ranks
  const v = s.validation ? ' ' + Object.entries(s.validation).map(([k, x]) => `${k} ${x.toFixed(4)}`).join(' ') : '';
  console.error(`lion: ${s.step} steps (resumed at ${s.resumedFrom}, stopped by ${s.stoppedBy}) in ${s.seconds.toFixed(0)} s, ${s.flops.toExponential(2)} FLOPs, last loss ${s.lastLoss.toFixed(4)}${v} -> ${join(out, FINAL_DIR)}`);
}

function withRanks(c: Command): Command {
  return c.option('--nproc <n>', 'data-parallel ranks on this machine (c10d Gloo on CPU, NCCL on CUDA); --batch-size stays the global batch', '1');
}

/** Runs the command as --nproc local ranks when asked (true: they ran and succeeded). */
async function launched(cmd: string, f: { nproc: string; batchSize: string }): Promise<boolean> {
  const n = positiveInt(cmd, '--nproc', f.nproc);
  if (!shouldLaunch(cmd, n)) return false;
  const batch = positiveInt(cmd, '--batch-size', f.batchSize);
  if (batch % n !== 0) throw usageError(cmd, `--batch-size ${batch} does not split evenly over --nproc ${n}`, 'the batch is global: make it a multiple of --nproc');
  const code = await launchRanks(n);
  if (code !== 0) throw new Error(`lion ${cmd}: a rank of ${n} failed (exit status ${code}); hint: its error is printed above; rerun the same command to resume from the last checkpoint`);
  return true;
}

export function register(program: Command): void {
  withCommon(program.command('train-reranker').description('train a cross-encoder reranker (Llama + score head, listwise CE over the positive and its negatives) to use as a KD teacher'), { steps: '500', batch: '4', lr: '1e-4', warmup: '0.04', full: false })
    .requiredOption('--train <file>', 'training examples with hard negatives (e.g. from lion mine-negatives)')
    .option('--corpus <file|id>', 'documents the training file refers to by id')
    .option('--negatives <n>', 'negatives per query', '7')
    .option('--max-length <n>', 'tokens per query-document pair', '256')
    .action(async (f: CommonFlags & { train: string; corpus?: string; negatives: string; maxLength: string }) => {
      Object.assign(f, await resolveModelFlags(f));
      if (f.adapter) throw usageError('train-reranker', `'${f.adapter}' is a PEFT adapter; a reranker trains from a full model`, 'pass the base model (or a merged model) with --model');
      const c = common('train-reranker', f);
      const corpus = f.corpus ? await corpusTextsFrom(f.corpus) : new Map<string, string>();
      const negatives = positiveInt('train-reranker', '--negatives', f.negatives);
      const { examples } = resolveExamples(await loadExamples(f.train), corpus, { minNegatives: negatives, needTeacher: false, file: f.train });
      const s = trainReranker({ model: c.model, output: c.output, examples, negatives, batchSize: c.batchSize, steps: c.steps, lr: c.lr, warmupRatio: c.warmupRatio, maxLength: positiveInt('train-reranker', '--max-length', f.maxLength), full: c.tuning.kind === 'full', seed: c.seed, saveEvery: c.saveEvery, maxSeconds: c.maxSeconds, device: c.device, dtype: c.dtype, gradCheckpointing: c.gradCheckpointing, onProgress: c.onProgress });
      report(s, f.output);
    });

  withRanks(withCommon(program.command('pretrain').description('causal-LM pre-training of a (small) Llama from scratch on a corpus'), { steps: '1000', batch: '8', lr: '3e-4', warmup: '0.02', full: true }))
    .requiredOption('--corpus <file|id>', 'documents to train on (BEIR corpus.jsonl, MS MARCO collection, or a dataset id)')
    .option('--block <n>', 'tokens per training block', '512')
    .option('--max-texts <n>', 'use at most n documents')
    .action(async (f: CommonFlags & { corpus: string; block: string; maxTexts?: string; nproc: string }) => {
      Object.assign(f, await resolveModelFlags(f)); // before the ranks start, so they find it in the cache
      if (await launched('pretrain', f)) return;
      const s = pretrain({ ...common('pretrain', f), texts: await texts(f.corpus, f.maxTexts), blockSize: positiveInt('pretrain', '--block', f.block) });
      report(s, f.output);
    });

  withRanks(withCommon(program.command('mntp').description('masked next-token prediction with bidirectional attention (LoRA r16/α32 by default), docs/paper.md §2'), { steps: '10000', batch: '32', lr: '5e-5', warmup: '0', full: false }))
    .requiredOption('--corpus <file|id>', 'documents (the paper: MS MARCO passages)')
    .option('--block <n>', 'tokens per block', '512')
    .option('--max-texts <n>', 'use at most n documents')
    .option('--mask-token <text>', 'the mask token (an existing single token)', '_')
    .option('--mask-probability <x>', 'fraction of tokens selected', '0.2')
    .action(async (f: CommonFlags & { corpus: string; block: string; maxTexts?: string; maskToken: string; maskProbability: string; nproc: string }) => {
      Object.assign(f, await resolveModelFlags(f));
      if (await launched('mntp', f)) return;
      const s = mntp({ ...common('mntp', f), texts: await texts(f.corpus, f.maxTexts), blockSize: positiveInt('mntp', '--block', f.block), maskToken: f.maskToken, probability: numberIn('mntp', '--mask-probability', f.maskProbability, { min: 0, max: 1, minOpen: true, maxOpen: true }) });
      report(s, f.output);
    });

  withRanks(withCommon(program.command('train').description('fine-tune a Lion-SP or Lion-DS retriever with CL, KD (MarginMSE) or CL+KD'), { steps: '1000', batch: '8', lr: '1e-4', warmup: '0.04', full: false }))
    .addOption(new Option('--paradigm <p>', 'sparse or dense').choices(['sparse', 'dense']).makeOptionMandatory())
    .addOption(new Option('--objective <o>', 'cl, kd or cl+kd').choices(['cl', 'kd', 'cl+kd']).makeOptionMandatory())
    .requiredOption('--train <file>', 'training examples (docs/paper.md §7 formats or sentence-transformers hard negatives)')
    .option('--corpus <file|id>', 'documents the training file refers to by id (not needed for files with texts)')
    .option('--negatives <n>', 'hard negatives per query for cl and cl+kd (paper: 16)', '16')
    .option('--query-length <n>', 'max query tokens incl. BOS', '64')
    .option('--doc-length <n>', 'max document tokens incl. BOS', '128')
    .option('--flops-q <x>', 'FLOPS weight for queries (sparse)', '0.05')
    .option('--flops-d <x>', 'FLOPS weight for documents (sparse)', '0.04')
    .option('--dev-queries <file|id>', 'validation queries (with --dev-qrels and --validate-every)')
    .option('--dev-qrels <file|id>', 'validation qrels; the collection is --corpus')
    .option('--grad-cache <chunk>', 'gradient cache: encode chunk texts per forward pass, the loss and gradients still on the whole batch (large batches in bounded memory)')
    .action(async (f: CommonFlags & { paradigm: Paradigm; objective: Objective; train: string; corpus?: string; negatives: string; queryLength: string; docLength: string; flopsQ: string; flopsD: string; devQueries?: string; devQrels?: string; nproc: string; gradCache?: string }) => {
      Object.assign(f, await resolveModelFlags(f));
      if (await launched('train', f)) return;
      const corpus = f.corpus ? await corpusTextsFrom(f.corpus) : new Map<string, string>();
      const validation = f.devQueries && f.devQrels ? { queries: await queriesFrom(f.devQueries), qrels: await qrelsFrom(f.devQrels), docs: corpus } : undefined;
      const s = await trainRetriever({
        ...common('train', f),
        paradigm: f.paradigm,
        objective: f.objective,
        examples: await loadExamples(f.train),
        trainFile: f.train,
        corpus,
        negatives: positiveInt('train', '--negatives', f.negatives),
        maxLength: { query: positiveInt('train', '--query-length', f.queryLength), doc: positiveInt('train', '--doc-length', f.docLength) },
        flopsLambda: { query: num('train', '--flops-q', f.flopsQ), doc: num('train', '--flops-d', f.flopsD) },
        validation,
        gradCache: f.gradCache === undefined ? undefined : positiveInt('train', '--grad-cache', f.gradCache),
      });
      report(s, f.output);
    });
}
