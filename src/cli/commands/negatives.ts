/**
 * `lion mine-negatives` and `lion teacher`: the training files of docs/paper.md §7.
 * @module
 */
import type { Command } from 'commander';
import { Option } from 'commander';
import { docsFrom, qrelsFrom, queriesFrom } from '../../data/sources.ts';
import { writeTrainingExamples, type TrainingExample } from '../../data/training.ts';
import { Bm25Index } from '../../lexical/bm25.ts';
import { mineTrainingExamples } from '../../lexical/mining.ts';
import { corpusTextsFrom, docTexts } from '../../model/texts.ts';
import { loadExamples } from '../../train/recipes.ts';
import { loadCrossEncoder } from '../../train/cross-encoder.ts';
import { loadPretrained } from '../../model/hub.ts';
import { hubOptions, resolveModelFlags } from '../hub.ts';
import { Encoder } from '../../model/encoder.ts';
import { exactRun } from '../../train/evaluate-model.ts';
import { examplesFromRun } from '../../lexical/mining.ts';
import { attachFileScores, bm25Teacher, fileTeacherScores, scoreExamples } from '../../train/teacher.ts';
import type { Doc } from '../../data/types.ts';
import { BF16_INFERENCE_HELP, nonNegativeInt, placement, positiveInt, withPlacement, type PlacementFlags } from '../flags.ts';
import { progress } from '../progress.ts';

async function loadDocs(spec: string): Promise<Doc[]> {
  const docs: Doc[] = [];
  for await (const d of docsFrom(spec)) docs.push(d);
  return docs;
}

export function register(program: Command): void {
  const mine = program
    .command('mine-negatives')
    .description('hard negatives from BM25 top-k minus the positives; writes {question, pos_pid, neg_pids} lines')
    .requiredOption('--corpus <file|id>', 'documents')
    .requiredOption('--queries <file|id>', 'training queries')
    .requiredOption('--qrels <file|id>', 'positives (grade >= --rel-level)')
    .requiredOption('--output <file>', 'training file to write (CL format; - for stdout)')
    .option('--depth <n>', 'BM25 hits examined per query', '100')
    .option('--skip <n>', 'ignore the first n hits (they may be unjudged positives)', '0')
    .option('--count <n>', 'negatives kept per query', '50')
    .option('--rel-level <n>', 'minimum grade of a positive', '1')
    .option('--model <dir>', 'mine with a trained Lion model instead of BM25 (exact search over the corpus)')
    .option('--adapter <dir>', 'PEFT adapter for --model')
    .addOption(new Option('--paradigm <p>', 'the model\'s paradigm').choices(['sparse', 'dense']).default('sparse'));
  withPlacement(mine, { what: '--model' })
    .option('--bf16', `with --model: ${BF16_INFERENCE_HELP}`)
    .action(async (f: PlacementFlags & { corpus: string; queries: string; qrels: string; output: string; depth: string; skip: string; count: string; relLevel: string; model?: string; adapter?: string; paradigm: 'sparse' | 'dense'; bf16?: boolean }) => {
      const opts = {
        depth: positiveInt('mine-negatives', '--depth', f.depth),
        skip: nonNegativeInt('mine-negatives', '--skip', f.skip),
        count: positiveInt('mine-negatives', '--count', f.count),
        relevanceLevel: nonNegativeInt('mine-negatives', '--rel-level', f.relLevel),
      };
      const queries = await queriesFrom(f.queries);
      const qrels = await qrelsFrom(f.qrels);
      let examples: TrainingExample[];
      if (f.model) {
        const docs = await loadDocs(f.corpus);
        const b = await loadPretrained({ model: f.model, adapter: f.adapter, paradigm: f.paradigm, ...placement('mine-negatives', f) }, hubOptions());
        try {
          const run = exactRun(new Encoder(b.model, b.tokenizer, { paradigm: f.paradigm, autocast: f.bf16 ? 'bf16' : undefined }), queries, docTexts(docs), opts.depth);
          examples = examplesFromRun(run, queries, qrels, opts);
        } finally {
          b.model.dispose();
        }
      } else {
        examples = mineTrainingExamples(await Bm25Index.build(docsFrom(f.corpus)), queries, qrels, opts);
      }
      await writeTrainingExamples(f.output, examples, 'cl');
      console.error(`lion mine-negatives: ${examples.length} examples -> ${f.output}`);
    });

  const teacher = program
    .command('teacher')
    .description('add teacher scores to a training file: from a KD scores file or from BM25; writes CL+KD or KD lines')
    .requiredOption('--train <file>', 'training examples (e.g. from mine-negatives)')
    .requiredOption('--from <source>', "'bm25', 'cross-encoder:DIR' (trained with lion train-reranker; DIR a folder or Hugging Face Hub name), or a file of {query|qid, docids, scores} lines")
    .option('--base <dir>', "base model of a LoRA cross-encoder, a folder or hub name (default: the one its adapter_config.json names)")
    .option('--corpus <file|id>', 'documents the examples refer to (needed for bm25)')
    .requiredOption('--output <file>', 'file to write (- for stdout)')
    .addOption(new Option('--format <f>', 'cl-kd: {question, pos_pid, neg_pids, pos_score, neg_scores}; kd: {query, docids, scores}; text: {query, pos, neg, pos_scores, neg_scores} (default: cl-kd for examples with ids, text for examples with texts)').choices(['cl-kd', 'kd', 'text']));
  withPlacement(teacher, { what: 'cross-encoder' })
    .action(async (f: PlacementFlags & { train: string; from: string; corpus?: string; base?: string; output: string; format?: 'cl-kd' | 'kd' | 'text' }) => {
      const examples = await loadExamples(f.train);
      let scored: TrainingExample[];
      if (f.from === 'bm25') {
        if (!f.corpus) throw new Error("lion teacher: --from bm25 needs --corpus; hint: the collection's statistics set the scores");
        const docs = await loadDocs(f.corpus);
        const index = await Bm25Index.build(docs);
        const corpus = docTexts(docs);
        const bar = progress(examples.length, 'examples', 'teacher');
        scored = scoreExamples(examples, corpus, bm25Teacher(index), (n) => bar.update(n));
        bar.stop();
      } else if (f.from.startsWith('cross-encoder:')) {
        // Examples that carry their texts need no corpus; ids are looked up in --corpus.
        const corpus = f.corpus ? await corpusTextsFrom(f.corpus) : new Map<string, string>();
        const from = f.from.slice('cross-encoder:'.length);
        // a LoRA cross-encoder resolves as an adapter over its base, a full one as a model
        const named = await resolveModelFlags(f.base ? { model: f.base, adapter: from } : { model: from });
        const ce = loadCrossEncoder(named.adapter ?? named.model, named.adapter ? named.model : undefined, placement('teacher', f));
        const bar = progress(examples.length, 'examples', 'teacher');
        try {
          scored = scoreExamples(examples, corpus, ce.teacher(), (n) => bar.update(n));
        } finally {
          bar.stop();
          ce.dispose();
          ce.model.dispose();
        }
      } else {
        scored = attachFileScores(examples, await fileTeacherScores(f.from), f.from);
      }
      const format = f.format ?? (scored.every((e) => e.positives.every((p) => p.id !== undefined)) ? 'cl-kd' : 'text');
      await writeTrainingExamples(f.output, scored, format);
      console.error(`lion teacher: ${scored.length} examples with scores from ${f.from} -> ${f.output}`);
    });
}
