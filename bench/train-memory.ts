/**
 * Training memory is flat: a small retrieval training run (dense CL, a 2-layer d=64 model) of 1,000
 * steps; RSS from the JSONL step log at step 50 and step 1,000. Usage: node --import tsx bench/train-memory.ts
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { HfTokenizer } from '../src/text/hf-tokenizer.ts';
import { makeModel } from '../src/model/make-model.ts';
import { resolveTokenizer } from '../src/model/make-model.ts';
import { trainRetriever } from '../src/train/recipes.ts';
import type { TrainingExample } from '../src/data/training.ts';
import { LORA_TARGETS } from '../src/formats/peft.ts';

const work = mkdtempSync(path.join(tmpdir(), 'lion-trainmem-'));
const model = path.join(work, 'model');
makeModel(model, { hidden: 64, layers: 2, heads: 4, intermediate: 192 }, HfTokenizer.fromFile(resolveTokenizer('llama3')), 0);
const words = 'protein cell gene cancer virus drug brain blood heart lung liver bone skin muscle immune tissue'.split(' ');
const examples: TrainingExample[] = Array.from({ length: 200 }, (_, i) => {
  const w = (k: number): string => words[(i * 7 + k) % words.length]!;
  return { query: { text: `${w(0)} ${w(1)}` }, positives: [{ text: `${w(0)} ${w(1)} ${w(2)} study` }], negatives: [{ text: `${w(3)} ${w(4)}` }, { text: `${w(5)} ${w(6)} ${w(7)}` }] };
});
const out = path.join(work, 'run');
const s = await trainRetriever({ model, output: out, paradigm: 'dense', objective: 'cl', examples, trainFile: 'synthetic', corpus: new Map(), negatives: 2, batchSize: 8, steps: 1000, lr: 1e-3, seed: 0, saveEvery: 250, tuning: { kind: 'lora', lora: { r: 16, alpha: 32, dropout: 0.05, targetModules: [...LORA_TARGETS] } } });
const log = readFileSync(path.join(out, 'train.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { step?: number; rss?: number });
const rss = (n: number): number => log.find((r) => r.step === n)!.rss!;
const [a, b] = [rss(50), rss(1000)];
const growth = b / a - 1;
console.log(`RSS step 50 ${(a / 2 ** 20).toFixed(1)} MiB, step 1000 ${(b / 2 ** 20).toFixed(1)} MiB: ${(growth * 100).toFixed(2)}% (${s.seconds.toFixed(0)} s, ${s.step} steps incl. 4 checkpoints)`);
mkdirSync('bench/out', { recursive: true });
writeFileSync('bench/out/train-memory.json', JSON.stringify({ date: new Date().toISOString(), rss50: a, rss1000: b, growth }, null, 1));
rmSync(work, { recursive: true, force: true });
