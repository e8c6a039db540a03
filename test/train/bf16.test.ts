// bf16 autocast training: it runs, learns and records the setting in the run's configuration.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { HfTokenizer } from '../../src/text/hf-tokenizer.ts';
import { makeModel } from '../../src/model/make-model.ts';
import { resolveTokenizer } from '../../src/model/make-model.ts';
import { trainRetriever } from '../../src/train/recipes.ts';
import type { TrainingExample } from '../../src/data/training.ts';

test('a bf16-autocast training run learns and records autocast in its configuration', async () => {
  const work = mkdtempSync(path.join(tmpdir(), 'lion-bf16-'));
  try {
    const model = path.join(work, 'model');
    makeModel(model, { hidden: 32, layers: 1, heads: 4, intermediate: 64 }, HfTokenizer.fromFile(resolveTokenizer('llama3')), 3);
    const words = 'apple river stone cloud tiger piano glass forest'.split(' ');
    const examples: TrainingExample[] = words.map((w, i) => ({ query: { text: w }, positives: [{ text: `${w} ${w}` }], negatives: [{ text: words[(i + 1) % 8]! }, { text: words[(i + 3) % 8]! }] }));
    const out = path.join(work, 'run');
    const s = await trainRetriever({ model, output: out, paradigm: 'dense', objective: 'cl', examples, trainFile: 'x', corpus: new Map(), negatives: 2, batchSize: 4, steps: 30, lr: 3e-3, seed: 0, saveEvery: 30, tuning: { kind: 'full' }, autocast: 'bf16' });
    const log = readFileSync(path.join(out, 'train.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { loss?: number; config?: { autocast?: string } });
    assert.equal(log[0]!.config?.autocast, 'bf16');
    const losses = log.filter((r) => r.loss !== undefined).map((r) => r.loss!);
    assert.equal(s.step, 30);
    assert.ok(losses.every(Number.isFinite));
    const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
    assert.ok(mean(losses.slice(-5)) < mean(losses.slice(0, 5)), `loss ${mean(losses.slice(0, 5)).toFixed(3)} -> ${mean(losses.slice(-5)).toFixed(3)}`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});
