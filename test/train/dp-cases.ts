// The data-parallel test cases, shared by the test (one process) and dp-worker.ts (each of N ranks):
// tiny retrieval and MNTP runs whose final weights the test compares.
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { HfTokenizer } from '../../src/text/hf-tokenizer.ts';
import { makeModel, resolveTokenizer } from '../../src/model/make-model.ts';
import { PAPER_LORA } from '../../src/model/lora.ts';
import { loadExamples, mntp, trainRetriever, type CommonTrainOptions } from '../../src/train/recipes.ts';
import type { Objective } from '../../src/train/objectives.ts';
import type { Paradigm } from '../../src/model/encoder.ts';

export const STEPS = 4;

/** Every paradigm × objective, and MNTP. */
export const CASES = ['dense-cl', 'dense-kd', 'dense-cl+kd', 'sparse-cl', 'sparse-kd', 'sparse-cl+kd', 'mntp'] as const;
export type Case = (typeof CASES)[number];

const words = 'protein cell gene cancer virus drug brain blood heart lung liver bone skin muscle immune'.split(' ');

/** The model and the training file under `work` (made once, by the test, before any rank starts). */
export function makeInputs(work: string): void {
  const model = path.join(work, 'model');
  if (existsSync(model)) return;
  makeModel(model, { hidden: 32, layers: 2, heads: 4, intermediate: 64 }, HfTokenizer.fromFile(resolveTokenizer('llama3')), 1);
  writeFileSync(
    path.join(work, 'train.jsonl'),
    Array.from({ length: 24 }, (_, i) => {
      const w = (k: number): string => words[(i * 3 + k) % words.length]!;
      // Texts of different lengths, so that each rank pads its share differently from the whole batch.
      const neg = [`${w(2)} report`, `${w(4)} trial on ${w(7)} and ${w(8)} in adults`, `${w(5)} ${w(6)} review`];
      return JSON.stringify({ query: `what about ${w(0)}${i % 3 ? ` ${w(9)}` : ''}`, pos: [`${w(0)} and ${w(1)} studies`], neg, pos_scores: [5 + (i % 4)], neg_scores: [1, 2 + (i % 3), 0.5] });
    }).join('\n') + '\n',
  );
}

export function corpusTexts(): string[] {
  return Array.from({ length: 40 }, (_, i) => Array.from({ length: 12 + (i % 7) }, (_, k) => words[(i * 5 + k * 3) % words.length]).join(' '));
}

/** Runs one case to `out` (in this process's group: alone, or a rank of N). */
export async function runCase(work: string, c: Case, out: string, extra: Partial<CommonTrainOptions> = {}): Promise<void> {
  const common: CommonTrainOptions = {
    model: path.join(work, 'model'),
    output: out,
    steps: STEPS,
    batchSize: 4,
    lr: 2e-3,
    seed: 3,
    saveEvery: 2,
    // No dropout: ranks draw their own masks, so only a dropout-free run can equal one process.
    tuning: { kind: 'lora', lora: { ...PAPER_LORA, r: 4, alpha: 8, dropout: 0 } },
    printEvery: 0,
    ...extra,
  };
  if (c === 'mntp') {
    mntp({ ...common, texts: corpusTexts(), blockSize: 16, validationFraction: 0 });
    return;
  }
  const [paradigm, objective] = c.split('-') as [Paradigm, Objective];
  const train = path.join(work, 'train.jsonl');
  await trainRetriever({ ...common, paradigm, objective, examples: await loadExamples(train), trainFile: train, corpus: new Map(), negatives: 2, maxLength: { query: 16, doc: 24 }, log: () => {} });
}
