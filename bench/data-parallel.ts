/**
 * Data-parallel training on this machine: 2 ranks × 1 thread (c10d Gloo over the loopback) against
 * 1 rank × 2 threads on the same global batch (step time, time in all-reduce / all-gather per step,
 * peak memory per rank), and the gradient cache's peak memory on a large batch.
 *
 * Usage: node --import tsx bench/data-parallel.ts   (writes bench/out/data-parallel.json)
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir, loadavg } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { LORA_TARGETS } from '../src/formats/peft.ts';

const self = fileURLToPath(import.meta.url);
const [mode, work] = process.argv.slice(2) as [string | undefined, string | undefined];

/** Peak resident memory of this process (VmHWM), bytes. */
function peakRss(): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) * 1024 : NaN;
}

const STEPS = 12;

async function train(o: { work: string; out: string; batch: number; negatives: number; gradCache?: number; steps: number }): Promise<void> {
  const { trainRetriever } = await import('../src/train/recipes.ts');
  const words = 'protein cell gene cancer virus drug brain blood heart lung liver bone skin muscle immune tissue'.split(' ');
  const examples = Array.from({ length: 512 }, (_, i) => {
    const w = (k: number): string => words[(i * 7 + k) % words.length]!;
    const doc = (k: number): string => Array.from({ length: 20 + ((i + k) % 30) }, (_, j) => w(k + j)).join(' ');
    return { query: { text: `${w(0)} ${w(1)} ${w(2)}` }, positives: [{ text: doc(0) }], negatives: Array.from({ length: 8 }, (_, k) => ({ text: doc(k + 1) })) };
  });
  await trainRetriever({ model: path.join(o.work, 'model'), output: o.out, paradigm: 'dense', objective: 'cl', examples, trainFile: 'synthetic', corpus: new Map(), negatives: o.negatives, batchSize: o.batch, steps: o.steps, lr: 1e-4, seed: 0, saveEvery: 1000, maxLength: { query: 32, doc: 64 }, printEvery: 0, gradCache: o.gradCache, tuning: { kind: 'lora', lora: { r: 16, alpha: 32, dropout: 0, targetModules: [...LORA_TARGETS] } } });
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function stepStats(out: string): { stepSeconds: number; allReduceMs: number; allGatherMs: number; rss: number } {
  const rows = readFileSync(path.join(out, 'train.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { step?: number; seconds?: number; allReduceMs?: number; allGatherMs?: number; rss?: number }).filter((r) => r.step !== undefined && r.seconds !== undefined);
  const later = rows.slice(2); // the first steps warm up
  const dt = later.slice(1).map((r, i) => r.seconds! - later[i]!.seconds!);
  return { stepSeconds: median(dt), allReduceMs: median(later.map((r) => r.allReduceMs ?? 0)), allGatherMs: median(later.map((r) => r.allGatherMs ?? 0)), rss: Math.max(...rows.map((r) => r.rss ?? 0)) };
}

if (mode === 'rank' || mode === 'solo' || mode === 'big' || mode === 'big-cached') {
  // One measured process (or one rank of two): train, then report this process's peak memory.
  const big = mode.startsWith('big');
  await train({ work: work!, out: path.join(work!, mode === 'rank' ? 'dp2' : mode), batch: big ? 48 : 16, negatives: big ? 8 : 4, steps: big ? 3 : STEPS, gradCache: mode === 'big-cached' ? 32 : undefined });
  writeFileSync(path.join(work!, `peak-${mode}-${process.env.RANK ?? 0}.json`), JSON.stringify({ peak: peakRss() }));
} else {
  const w = mkdtempSync(path.join(tmpdir(), 'lion-dp-bench-'));
  const { makeModel, resolveTokenizer } = await import('../src/model/make-model.ts');
  const { HfTokenizer } = await import('../src/text/hf-tokenizer.ts');
  makeModel(path.join(w, 'model'), { hidden: 128, layers: 4, heads: 4, intermediate: 384 }, HfTokenizer.fromFile(resolveTokenizer('llama3')), 0);
  const run = (m: string, env: Record<string, string>): void => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', self, m, w], { stdio: 'inherit', env: { ...process.env, ...env } });
    if (r.status !== 0) throw new Error(`${m} failed`);
  };
  const load0 = loadavg()[0]!;
  // 2 ranks × 1 thread: the launcher of `--nproc 2`.
  const { launchRanks } = await import('../src/parallel/launch.ts');
  const code = await launchRanks(2, { argv: ['--import', 'tsx', self, 'rank', w], env: { ...process.env, LION_NUM_THREADS: '1' } });
  if (code !== 0) throw new Error('ranks failed');
  run('solo', { LION_NUM_THREADS: '2' });
  run('big', { LION_NUM_THREADS: '2' });
  run('big-cached', { LION_NUM_THREADS: '2' });
  const peak = (m: string, r = 0): number => (JSON.parse(readFileSync(path.join(w, `peak-${m}-${r}.json`), 'utf8')) as { peak: number }).peak;
  const mib = (b: number): string => (b / 2 ** 20).toFixed(0);
  const dp = stepStats(path.join(w, 'dp2'));
  const solo = stepStats(path.join(w, 'solo'));
  const result = {
    date: new Date().toISOString(),
    loadavg: [load0, loadavg()[0]],
    model: 'Llama d=128, 4 layers, llama3 vocabulary, dense CL, LoRA r16, batch 16 queries × (1+4) docs, doc length 64',
    twoRanks: { ...dp, peakRank0: peak('rank', 0), peakRank1: peak('rank', 1) },
    oneRank: { ...solo, peak: peak('solo') },
    gradCache: { batch: '48 queries × (1+8) docs', uncachedPeak: peak('big'), cachedPeak: peak('big-cached'), chunk: 32 },
  };
  mkdirSync('bench/out', { recursive: true });
  writeFileSync('bench/out/data-parallel.json', JSON.stringify(result, null, 1));
  console.log(`| setting | step (s) | all-reduce (ms/step) | all-gather (ms/step) | peak RSS per rank (MiB) |`);
  console.log(`|---|---|---|---|---|`);
  console.log(`| 2 ranks × 1 thread (Gloo) | ${dp.stepSeconds.toFixed(3)} | ${dp.allReduceMs.toFixed(1)} | ${dp.allGatherMs.toFixed(1)} | ${mib(peak('rank', 0))} / ${mib(peak('rank', 1))} |`);
  console.log(`| 1 rank × 2 threads | ${solo.stepSeconds.toFixed(3)} | – | – | ${mib(peak('solo'))} |`);
  console.log(`gradient cache (48 × 9 texts, chunk 32): peak RSS ${mib(peak('big'))} MiB uncached, ${mib(peak('big-cached'))} MiB cached; load ${load0.toFixed(1)} -> ${loadavg()[0]!.toFixed(1)}`);
  rmSync(w, { recursive: true, force: true });
}
