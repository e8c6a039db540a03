/**
 * `lion study`: the paper's grid (model size × {sparse, dense} × {CL, KD, CL+KD}) at a fixed training
 * budget per cell, evaluated in- and out-of-domain with Lion's indexes, written as results.json.
 *
 * Every stage records its result in a `done.json` (written last, atomically), so a half-finished
 * study rerun with the same folder skips finished stages and cells; a training cell interrupted
 * mid-way resumes from its checkpoint.
 *
 *   <out>/tokenizer/                 byte-level BPE trained on the pre-training text (nano presets)
 *   <out>/backbones/<size>/init|pretrain|mntp
 *   <out>/data/train-cl-kd.jsonl     BM25 hard negatives + BM25 teacher scores (docs/paper.md §7 CL+KD format)
 *   <out>/cells/<size>-<paradigm>-<objective>/   training run, then eval/<set>/ indexes and result
 *   <out>/results.json
 * @module
 */
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { writeJsonAtomic } from '../formats/file-io.ts';
import os from 'node:os';
import path from 'node:path';
import { openDataset, UnavailableDataError } from '../data/datasets.ts';
import { writeTrainingExamples, readTrainingExamples, type TrainingExample } from '../data/training.ts';
import type { Doc, Qrels } from '../data/types.ts';
import { evaluate } from '../eval/index.ts';
import { Bm25Index } from '../lexical/bm25.ts';
import { mineTrainingExamples } from '../lexical/mining.ts';
import { HfTokenizer } from '../text/hf-tokenizer.ts';
import { trainByteLevelBpe } from '../text/bpe-train.ts';
import { saveTokenizerFiles } from '../text/bpe-files.ts';
import { makeModel } from '../model/make-model.ts';
import { nonEmbeddingParams } from '../model/arch.ts';
import { loadBackbone } from '../model/backbone.ts';
import { PAPER_LORA, type LoraConfig } from '../model/lora.ts';
import { Encoder, type Paradigm, type SparseVector } from '../model/encoder.ts';
import { docTexts } from '../model/texts.ts';
import { readLlamaConfig } from '../formats/hf-config.ts';
import { indexTextsDense, indexTextsSparse, openIndex, searchTexts } from '../index/index.ts';
import { engineInfo } from '../torch/index.ts';
import { mntp, pretrain, trainRetriever } from '../train/recipes.ts';
import { FINAL_DIR } from '../train/checkpoint.ts';
import { flopsPerToken } from '../train/budget.ts';
import { bm25Teacher, scoreExamples } from '../train/teacher.ts';
import type { Objective } from '../train/objectives.ts';
import type { StudyConfig } from './config.ts';
import type { StudyResults, StudyRow } from './report/types.ts';

export interface StudyOptions {
  out: string;
  config: StudyConfig;
  log?: (line: string) => void;
  /** Grid cells trained at once, each in its own process with one intra-op thread (default 1). */
  jobs?: number;
  /** Runs this one grid cell (the backbones and training file must exist) and returns no results. */
  onlyCell?: string;
  /** Starts a child process for one cell; resolves when it has finished (used when jobs > 1). */
  spawnCell?: (name: string) => Promise<void>;
}

// ---- small utilities ----------------------------------------------------------------------------

function writeJson(file: string, value: unknown): void {
  mkdirSync(path.dirname(file), { recursive: true });
  writeJsonAtomic(file, value);
}

/** Runs `fn` once: its result is kept in `<dir>/done.json` and returned on later runs. */
async function stage<T>(dir: string, fn: () => Promise<T> | T): Promise<T> {
  const done = path.join(dir, 'done.json');
  if (existsSync(done)) return JSON.parse(readFileSync(done, 'utf8')) as T;
  mkdirSync(dir, { recursive: true });
  const r = await fn();
  writeJson(done, r ?? null);
  return r;
}

interface Collection {
  docs: Doc[];
  texts: Map<string, string>;
  queries: Map<string, string>;
  qrels: Qrels;
  removeSelfHits: boolean;
}

async function loadCollection(id: string): Promise<Collection> {
  const ds = openDataset(id);
  const docs: Doc[] = [];
  for await (const d of ds.docs()) docs.push(d);
  return {
    docs,
    texts: docTexts(docs),
    queries: await ds.queries(),
    qrels: await ds.qrels(),
    removeSelfHits: ds.entry.removeSelfHits,
  };
}

function hardware(): StudyResults['hardware'] {
  const e = engineInfo();
  const gpu = e.devices.find((d) => d.startsWith('cuda')) ?? null;
  return { cpu: os.cpus()[0]?.model ?? 'unknown', cores: os.availableParallelism(), memoryGiB: Math.round(os.totalmem() / 2 ** 30), gpu, node: process.version, libtorch: e.libtorch };
}

// ---- stages ---------------------------------------------------------------------------------------

function tuningOf(c: StudyConfig): { kind: 'full' } | { kind: 'lora'; lora: LoraConfig } {
  return c.tuning === 'full' ? { kind: 'full' } : { kind: 'lora', lora: PAPER_LORA };
}

/** Device, base dtype and checkpointing for a training stage: full-weight stages keep f32 weights. */
function trainingRun(c: StudyConfig): NonNullable<StudyConfig['run']> {
  return { device: c.run?.device, dtype: c.tuning === 'lora' ? c.run?.dtype : undefined, gradCheckpointing: c.run?.gradCheckpointing };
}

interface Backbone {
  name: string;
  model: string;
  adapter: string | null;
  params: number;
}

async function buildBackbones(o: StudyOptions, pretrainTexts: () => Promise<string[]>): Promise<Backbone[]> {
  const c = o.config;
  const log = o.log ?? console.error;
  if (c.backbones?.length) {
    // Real backbones (e.g. Llama-3.2-1B): MNTP only, as the paper does.
    const texts = await pretrainTexts();
    const out: Backbone[] = [];
    for (const model of c.backbones) {
      const name = path.basename(path.resolve(model));
      const dir = path.join(o.out, 'backbones', name, 'mntp');
      await stage(dir, () => {
        mntp({ model, output: dir, texts, blockSize: c.mntp.block, steps: c.mntp.steps, batchSize: c.mntp.batchSize, lr: c.mntp.lr, seed: c.seed, tuning: { kind: 'lora', lora: PAPER_LORA }, printEvery: 100, ...c.run });
        return null;
      });
      out.push({ name, model, adapter: path.join(dir, FINAL_DIR), params: nonEmbeddingParams(readLlamaConfig(model)) });
    }
    return out;
  }
  const tokDir = path.join(o.out, 'tokenizer');
  await stage(tokDir, async () => {
    const t0 = performance.now();
    const trained = await trainByteLevelBpe(await pretrainTexts(), { vocabSize: c.tokenizer.vocabSize });
    saveTokenizerFiles(tokDir, trained);
    log(`study: tokenizer ${trained.stats.vocabSize} ids, ${trained.stats.bytesPerToken.toFixed(2)} bytes/token (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
    return { vocabSize: trained.stats.vocabSize, bytesPerToken: trained.stats.bytesPerToken };
  });
  const tokenizer = HfTokenizer.fromFile(tokDir);
  const out: Backbone[] = [];
  for (const size of c.sizes) {
    const root = path.join(o.out, 'backbones', size.name);
    const init = path.join(root, 'init');
    await stage(init, () => {
      makeModel(init, { hidden: size.hidden, layers: size.layers, heads: size.heads, intermediate: size.intermediate, maxPositions: 1024 }, tokenizer, c.seed);
      return null;
    });
    const pre = path.join(root, 'pretrain');
    await stage(pre, async () => {
      const s = pretrain({ model: init, output: pre, texts: await pretrainTexts(), blockSize: c.pretrain.block, steps: c.pretrain.steps, batchSize: c.pretrain.batchSize, lr: c.pretrain.lr, warmupRatio: 0.05, seed: c.seed, tuning: { kind: 'full' }, printEvery: 50, device: c.run?.device, gradCheckpointing: c.run?.gradCheckpointing });
      log(`study: ${size.name} pre-trained: ${s.step} steps, loss ${s.lastLoss.toFixed(3)}, ${s.seconds.toFixed(0)} s`);
      return { loss: s.lastLoss, seconds: s.seconds, flops: s.flops };
    });
    const pretrained = path.join(pre, FINAL_DIR);
    const m = path.join(root, 'mntp');
    await stage(m, async () => {
      const s = mntp({ model: pretrained, output: m, texts: await pretrainTexts(), blockSize: c.mntp.block, steps: c.mntp.steps, batchSize: c.mntp.batchSize, lr: c.mntp.lr, seed: c.seed, tuning: tuningOf(c), printEvery: 50, ...trainingRun(c) });
      log(`study: ${size.name} MNTP: ${s.step} steps, loss ${s.lastLoss.toFixed(3)}, ${s.seconds.toFixed(0)} s`);
      return { loss: s.lastLoss, seconds: s.seconds };
    });
    const mntpExport = path.join(m, FINAL_DIR);
    // LoRA MNTP leaves an adapter that fine-tuning continues; full MNTP leaves a whole model.
    out.push(c.tuning === 'lora' ? { name: size.name, model: pretrained, adapter: mntpExport, params: nonEmbeddingParams(readLlamaConfig(pretrained)) } : { name: size.name, model: mntpExport, adapter: null, params: nonEmbeddingParams(readLlamaConfig(mntpExport)) });
  }
  return out;
}

/** BM25 hard negatives and BM25 teacher scores for the training queries (CL+KD format, docs/paper.md §7). */
async function trainingFile(o: StudyOptions, train: Collection): Promise<string> {
  const file = path.join(o.out, 'data', 'train-cl-kd.jsonl');
  await stage(path.join(o.out, 'data'), async () => {
    const index = await Bm25Index.build(train.docs);
    const examples = mineTrainingExamples(index, train.queries, train.qrels, { depth: 50, count: 30 });
    const scored = scoreExamples(examples, train.texts, bm25Teacher(index));
    await writeTrainingExamples(file, scored, 'cl-kd');
    return { examples: scored.length };
  });
  return file;
}

/** Mean padded tokens per micro-batch, from the tokenised lengths of the training examples. */
function tokensPerStep(examples: readonly TrainingExample[], texts: ReadonlyMap<string, string>, tok: HfTokenizer, c: StudyConfig, objective: Objective): { query: number; doc: number } {
  const sample = examples.slice(0, 200);
  const len = (t: string, max: number): number => Math.min(max, tok.encode(t).length);
  const q = Math.max(...sample.map((e) => len(e.query.text ?? '', c.finetune.maxLength.query)));
  const docs = sample.flatMap((e) => [...e.positives, ...e.negatives.slice(0, 3)].map((d) => len(texts.get(d.id ?? '') ?? d.text ?? '', c.finetune.maxLength.doc)));
  // A batch pads to its longest text: the 90th percentile of lengths is a close estimate.
  const p90 = docs.sort((a, b) => a - b)[Math.floor(docs.length * 0.9)] ?? c.finetune.maxLength.doc;
  const perQuery = objective === 'kd' ? 2 : 1 + c.finetune.negatives;
  return { query: c.finetune.batchSize * q, doc: c.finetune.batchSize * perQuery * p90 };
}

interface CellResult {
  metrics: Record<string, number>;
  nnzQuery?: number;
  nnzDoc?: number;
  flops?: number;
  indexBytes: number;
  encodeTokensPerSec: number;
  trainFlops: number;
  trainSeconds: number;
  trainSteps: number;
}

async function evaluateCell(o: StudyOptions, cellDir: string, b: Backbone, paradigm: Paradigm, adapter: string | null, sets: Map<string, Collection>): Promise<Omit<CellResult, 'trainFlops' | 'trainSeconds' | 'trainSteps'>> {
  const c = o.config;
  const loaded = loadBackbone({ model: b.model, adapter: adapter ?? undefined, paradigm, device: c.run?.device, dtype: c.run?.dtype });
  try {
    const enc = new Encoder(loaded.model, loaded.tokenizer, { paradigm, maxLength: c.evalMaxLength, batchSize: 32 });
    const identity = { model: `${b.name}:${path.basename(cellDir)}`, tokenizer: path.basename(loaded.tokenizer.path), tokenizerHash: loaded.tokenizer.fingerprint };
    const encodeFn = async (texts: string[]): Promise<(SparseVector | Float32Array)[]> => enc.encodeAll(texts, 'doc');
    const encodeQ = async (texts: string[]): Promise<(SparseVector | Float32Array)[]> => enc.encodeAll(texts, 'query');
    const metrics: Record<string, number> = {};
    let indexBytes = 0;
    let tokens = 0;
    let seconds = 0;
    // Per side: vectors seen, non-zeros, and the summed weight of each term (for nnz means and FLOPS).
    const side = (): { n: number; nnz: number; weight: Float64Array } => ({ n: 0, nnz: 0, weight: new Float64Array(paradigm === 'sparse' ? enc.dim : 0) });
    const [Q, D] = [side(), side()];
    const tally = (s: ReturnType<typeof side>, v: (SparseVector | Float32Array)[]): void => {
      if (paradigm !== 'sparse') return;
      for (const x of v as SparseVector[]) {
        s.n++;
        s.nnz += x.indices.length;
        x.indices.forEach((t, j) => (s.weight[t] = s.weight[t]! + x.values[j]!));
      }
    };
    for (const set of c.evalSets) {
      const col = sets.get(set.id)!;
      const dir = path.join(cellDir, 'eval', set.id.replaceAll('/', '_'));
      rmSync(dir, { recursive: true, force: true });
      const t0 = performance.now();
      const counting = async (texts: string[]): Promise<(SparseVector | Float32Array)[]> => {
        tokens += texts.reduce((a, t) => a + Math.min(c.evalMaxLength.doc, loaded.tokenizer.encode(t).length), 0);
        const v = await encodeFn(texts);
        tally(D, v);
        return v;
      };
      const items = col.docs.map((d) => ({ id: d.id, text: col.texts.get(d.id)! }));
      const manifest = paradigm === 'sparse'
        ? await indexTextsSparse(dir, items, counting as (t: string[]) => Promise<SparseVector[]>, { identity, batchSize: 64, vocabSize: loaded.tokenizer.vocabSize })
        : await indexTextsDense(dir, items, counting as (t: string[]) => Promise<Float32Array[]>, { identity, batchSize: 64 });
      seconds += (performance.now() - t0) / 1000;
      // The index size reported is the in-domain collection's (the first evaluation set).
      if (set === c.evalSets[0]) indexBytes = Object.values(manifest.files).reduce((a, f) => a + f.bytes, 0);
      const index = openIndex(dir);
      const queries = [...col.queries].map(([id, text]) => ({ id, text }));
      const qv = async (texts: string[]): Promise<(SparseVector | Float32Array)[]> => {
        const v = await encodeQ(texts);
        tally(Q, v);
        return v;
      };
      const run = await searchTexts(index, queries, qv as never, { k: c.depth, identity, threads: 1 });
      const r = evaluate(run, col.qrels, [set.metric], { removeSelfHits: col.removeSelfHits });
      metrics[set.id] = r.mean[set.metric]!;
      o.log?.(`study: ${path.basename(cellDir)} ${set.label} ${set.metric} ${metrics[set.id]!.toFixed(4)}`);
    }
    const out: Omit<CellResult, 'trainFlops' | 'trainSeconds' | 'trainSteps'> = { metrics, indexBytes, encodeTokensPerSec: tokens / Math.max(seconds, 1e-9) };
    if (paradigm === 'sparse') {
      out.nnzQuery = Q.nnz / Math.max(Q.n, 1);
      out.nnzDoc = D.nnz / Math.max(D.n, 1);
      // SPLADE's FLOPS: expected multiplications per query-document pair, Σ_j p_q(j)·p_d(j) with p the
      // probability that term j is active; estimated here with mean weights normalised per term.
      let f = 0;
      for (let j = 0; j < Q.weight.length; j++) if (Q.weight[j]! > 0 && D.weight[j]! > 0) f += (Q.weight[j]! / Q.n) * (D.weight[j]! / D.n);
      out.flops = f;
    }
    return out;
  } finally {
    loaded.model.dispose();
  }
}

// ---- the study ----------------------------------------------------------------------------------

export async function runStudy(options: StudyOptions): Promise<StudyResults> {
  let o = options;
  const log = o.log ?? console.error;
  const t0 = performance.now();
  mkdirSync(o.out, { recursive: true });
  if (!o.onlyCell) writeJson(path.join(o.out, 'config.json'), o.config);

  // An evaluation set that cannot be obtained here (no official download, no mirror) is skipped with
  // a message rather than failing the study; the results then list only the sets that were measured.
  const loadAvailable = async (id: string, skipping: string): Promise<Collection | null> => {
    try {
      return await loadCollection(id);
    } catch (e) {
      if (!(e instanceof UnavailableDataError)) throw e;
      log(`study: ${skipping}: ${e.message}`);
      return null;
    }
  };
  const sets = new Map<string, Collection>();
  for (const s of o.config.evalSets) {
    const col = await loadAvailable(s.id, `skipping the evaluation set ${s.label} (${s.id})`);
    if (col) sets.set(s.id, col);
  }
  if (sets.size === 0) throw new Error(`lion study: none of the evaluation sets can be obtained; hint: set LION_DATA_MIRROR (see docs/data.md)`);
  o = { ...o, config: { ...o.config, evalSets: o.config.evalSets.filter((s) => sets.has(s.id)) } };
  const c = o.config;
  const train = await loadCollection(c.trainSet.id);
  let cachedTexts: string[] | null = null;
  const pretrainTexts = async (): Promise<string[]> => {
    if (cachedTexts) return cachedTexts;
    const texts: string[] = [];
    for (const id of c.pretrainCorpora) {
      const col = sets.get(id) ?? (await loadAvailable(id, `pre-training without ${id}`));
      if (!col) continue;
      texts.push(...col.texts.values());
    }
    return (cachedTexts = texts);
  };

  const backbones = await buildBackbones(o, pretrainTexts);
  const trainFile = await trainingFile(o, train);
  const examples: TrainingExample[] = [];
  for await (const e of readTrainingExamples(trainFile)) examples.push(e);

  const rows: StudyRow[] = [];
  // BM25 baseline row.
  const bm25 = await stage(path.join(o.out, 'bm25'), async () => {
    const metrics: Record<string, number> = {};
    for (const s of c.evalSets) {
      const col = sets.get(s.id)!;
      const index = await Bm25Index.build(col.docs);
      metrics[s.id] = evaluate(index.searchAll(col.queries, c.depth), col.qrels, [s.metric], { removeSelfHits: col.removeSelfHits }).mean[s.metric]!;
    }
    return metrics;
  });
  rows.push({ kind: 'baseline', size: 'BM25', params: null, paradigm: 'bm25', objective: null, metrics: bm25 });

  interface Cell { name: string; b: Backbone; paradigm: Paradigm; objective: Objective }
  const cells: Cell[] = backbones.flatMap((b) => c.paradigms.flatMap((paradigm) => c.objectives.map((objective) => ({ name: `${b.name}-${paradigm}-${objective.replace('+', '')}`, b, paradigm, objective }))));
  const runCell = async ({ name, b, paradigm, objective }: Cell): Promise<CellResult> => {
    const cellDir = path.join(o.out, 'cells', name);
    return stage(cellDir, async (): Promise<CellResult> => {
      const tok = HfTokenizer.fromFile(b.model);
      const arch = readLlamaConfig(b.model);
      // A fixed training budget per cell (docs/paper.md §6): steps follow from the FLOPs one step costs.
      const tps = tokensPerStep(examples, train.texts, tok, c, objective);
      const perStep = tps.query * flopsPerToken(arch, { lmHead: paradigm === 'sparse', seqLen: c.finetune.maxLength.query }) + tps.doc * flopsPerToken(arch, { lmHead: paradigm === 'sparse', seqLen: c.finetune.maxLength.doc });
      const steps = Math.max(1, Math.round(c.finetune.flopsPerCell / perStep));
      log(`study: ${name}: ${steps} steps of ~${(perStep / 1e9).toFixed(1)} GFLOP for a ${(c.finetune.flopsPerCell / 1e12).toFixed(2)} TFLOP budget`);
      const run = path.join(cellDir, 'train');
      const s = await trainRetriever({
        model: b.model, adapter: b.adapter ?? undefined, output: run, paradigm, objective, examples, trainFile, corpus: train.texts,
        negatives: c.finetune.negatives, batchSize: c.finetune.batchSize, steps, lr: c.finetune.lr, warmupRatio: c.finetune.warmupRatio,
        maxLength: c.finetune.maxLength, flopsLambda: c.finetune.flopsLambda, flopsBudget: c.finetune.flopsPerCell, seed: c.seed,
        tuning: tuningOf(c), saveEvery: Math.max(1, Math.ceil(steps / 4)), printEvery: 25, log, ...trainingRun(c),
      });
      const trained = path.join(run, FINAL_DIR);
      const ev = c.tuning === 'lora' ? await evaluateCell(o, cellDir, b, paradigm, trained, sets) : await evaluateCell(o, cellDir, { ...b, model: trained, adapter: null }, paradigm, null, sets);
      log(`study: ${name} done: ${Object.entries(ev.metrics).map(([k, v]) => `${k} ${v.toFixed(4)}`).join(', ')}`);
      return { ...ev, trainFlops: s.flops, trainSeconds: s.seconds, trainSteps: s.step };
    });
  };
  if (o.onlyCell) {
    const cell = cells.find((x) => x.name === o.onlyCell);
    if (!cell) throw new Error(`lion study: no grid cell '${o.onlyCell}'; cells: ${cells.map((x) => x.name).join(', ')}`);
    await runCell(cell);
    return { title: '', createdAt: new Date().toISOString(), config: {}, hardware: hardware(), evalSets: [], rows: [] };
  }
  if ((o.jobs ?? 1) > 1 && o.spawnCell) {
    // Independent cells in parallel processes, largest first so the pool drains evenly.
    const pending = cells.filter((x) => !existsSync(path.join(o.out, 'cells', x.name, 'done.json'))).reverse();
    const spawn = o.spawnCell;
    // A failed child is retried once below, in this process, where its error is recorded.
    const worker = async (): Promise<void> => {
      for (let cell = pending.shift(); cell; cell = pending.shift()) await spawn(cell.name).catch((e: unknown) => log(`study: ${(e as Error).message}`));
    };
    await Promise.all(Array.from({ length: o.jobs! }, worker));
  }
  // One failing cell does not lose the others: its row says why, and the study reports it at the end.
  for (const cell of cells) {
    const row = { kind: 'model' as const, size: cell.b.name, params: cell.b.params, paradigm: cell.paradigm, objective: cell.objective };
    try {
      rows.push({ ...row, ...(await runCell(cell)) });
    } catch (e) {
      const failed = (e as Error).message;
      log(`study: grid cell ${cell.name} failed: ${failed}`);
      rows.push({ ...row, metrics: {}, failed });
    }
  }

  const results: StudyResults = {
    title: `Lion scaling study (${c.preset})`,
    createdAt: new Date().toISOString(),
    config: c as unknown as Record<string, unknown>,
    hardware: hardware(),
    evalSets: c.evalSets.map((s) => ({ id: s.id, label: s.label, metric: s.metric, domain: s.domain })),
    rows,
    wallSeconds: (performance.now() - t0) / 1000,
  };
  writeJson(path.join(o.out, 'results.json'), results);
  return results;
}
