/**
 * Learning is real: a small Lion-SP and Lion-DS trained on SciFact train on this CPU within a time cap
 * beat their untrained selves on SciFact test nDCG@10. BM25 is reported beside them.
 *
 * Data: SciFact train queries with BM25-mined hard negatives (positives from qrels/train.tsv), plus
 * title -> abstract pairs from the corpus when --pairs is given (more pairs for a model trained from
 * scratch; the test queries are never used for training).
 * Usage: node --import tsx bench/train-scifact.ts [--minutes 15] [--paradigm sparse,dense] [--pairs]
 */
import { mkdirSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { readBeirCorpus, readBeirQueries, readBeirQrels } from '../src/data/beir.ts';
import { Bm25Index } from '../src/lexical/bm25.ts';
import { mineTrainingExamples } from '../src/lexical/mining.ts';
import { evaluate } from '../src/eval/index.ts';
import { HfTokenizer } from '../src/text/hf-tokenizer.ts';
import { makeModel } from '../src/model/make-model.ts';
import { resolveTokenizer } from '../src/model/make-model.ts';
import { loadBackbone } from '../src/model/backbone.ts';
import { Encoder, type Paradigm } from '../src/model/encoder.ts';
import { docTexts } from '../src/model/texts.ts';
import { evaluateModel } from '../src/train/evaluate-model.ts';
import { setNumThreads } from '../src/torch/index.ts';
import { trainRetriever } from '../src/train/recipes.ts';
import { latestCheckpoint } from '../src/train/checkpoint.ts';
import type { TrainingExample } from '../src/data/training.ts';
import type { Doc } from '../src/data/types.ts';

const { values: o } = parseArgs({ options: {
  minutes: { type: 'string', default: '15' },
  paradigm: { type: 'string', default: 'sparse,dense' },
  pairs: { type: 'boolean', default: false },
  steps: { type: 'string', default: '100000' },
  hidden: { type: 'string', default: '128' },
  layers: { type: 'string', default: '2' },
  batch: { type: 'string', default: '16' },
  negatives: { type: 'string', default: '3' },
  out: { type: 'string', default: 'bench/out/train-scifact' },
  base: { type: 'string' },
  lr: { type: 'string', default: '1e-3' },
  'doc-length': { type: 'string', default: '128' },
  threads: { type: 'string' },
} });
if (o.threads) setNumThreads(Number(o.threads));
const data = path.resolve('../shared/data/beir/scifact');
const docs: Doc[] = [];
for await (const d of readBeirCorpus(path.join(data, 'corpus.jsonl'))) docs.push(d);
const corpus = docTexts(docs);
const queries = new Map<string, string>();
for await (const q of readBeirQueries(path.join(data, 'queries.jsonl'))) queries.set(q.id, q.text);
const trainQrels = await readBeirQrels(path.join(data, 'qrels/train.tsv'));
const testQrels = await readBeirQrels(path.join(data, 'qrels/test.tsv'));
const pick = (qrels: typeof trainQrels): Map<string, string> => new Map([...qrels.keys()].filter((q) => queries.has(q)).map((q) => [q, queries.get(q)!]));
const trainQ = pick(trainQrels);
const testQ = pick(testQrels);

const t0 = performance.now();
const bm25 = await Bm25Index.build(docs);
const bm25Test = evaluate(bm25.searchAll(testQ, 100), testQrels, ['nDCG@10', 'R@100'], { removeSelfHits: true }).mean;
let examples: TrainingExample[] = mineTrainingExamples(bm25, trainQ, trainQrels, { depth: 30, count: 20 });
if (o.pairs) {
  // title -> abstract: the title is the "query", its own abstract the positive, BM25 neighbours the negatives
  const titles = new Map(docs.filter((d) => d.title).map((d) => [`t:${d.id}`, d.title!]));
  const pairQrels = new Map([...titles.keys()].map((k) => [k, new Map([[k.slice(2), 1]])]));
  const pairs = mineTrainingExamples(bm25, titles, pairQrels, { depth: 30, count: 20 }).map((e) => ({ ...e, positives: [{ text: corpus.get(e.positives[0]!.id!)! }] }));
  examples = [...examples, ...pairs];
}
console.log(`BM25: SciFact test nDCG@10 ${bm25Test['nDCG@10']!.toFixed(4)}, R@100 ${bm25Test['R@100']!.toFixed(4)}; ${examples.length} training examples (${((performance.now() - t0) / 1000).toFixed(1)} s)`);

mkdirSync(o.out, { recursive: true });
const base = o.base ?? path.join(o.out, `base-${o.hidden}x${o.layers}`);
if (!existsSync(path.join(base, 'config.json'))) {
  makeModel(base, { hidden: Number(o.hidden), layers: Number(o.layers), heads: Math.max(2, Number(o.hidden) / 64), intermediate: Number(o.hidden) * 3 }, HfTokenizer.fromFile(resolveTokenizer('llama3')), 0);
}
const results: Record<string, unknown>[] = [];
for (const paradigm of o.paradigm!.split(',') as Paradigm[]) {
  const maxLength = { query: 32, doc: Number(o['doc-length']) };
  const score = (model: string): Record<string, number> => {
    const b = loadBackbone({ model, paradigm });
    try {
      return evaluateModel(new Encoder(b.model, b.tokenizer, { paradigm, maxLength: { query: 64, doc: 192 }, batchSize: 64 }), testQ, corpus, testQrels);
    } finally {
      b.model.dispose();
    }
  };
  const before = score(base);
  const out = path.join(o.out, `${paradigm}-cl`);
  rmSync(out, { recursive: true, force: true });
  const s = await trainRetriever({
    model: base, output: out, paradigm, objective: 'cl', examples, trainFile: 'scifact-train+bm25', corpus,
    negatives: Number(o.negatives), batchSize: Number(o.batch), steps: Number(o.steps), lr: Number(o.lr), warmupRatio: 0.04,
    maxSeconds: Number(o.minutes) * 60, saveEvery: 1000000, tuning: { kind: 'full' }, maxLength, printEvery: 10,
    flopsLambda: paradigm === 'sparse' ? { query: 0.05, doc: 0.04 } : undefined,
  });
  const after = score(path.join(latestCheckpoint(out)!, 'export'));
  const r = { paradigm, base, lr: Number(o.lr), untrained: before, trained: after, steps: s.step, seconds: s.seconds, flops: s.flops, lastLoss: s.lastLoss };
  console.log(JSON.stringify(r));
  results.push(r);
}
writeFileSync(path.join(o.out, `results-${o.paradigm!.replace(',', '-')}.json`), JSON.stringify({ date: new Date().toISOString(), bm25: bm25Test, results }, null, 1));
