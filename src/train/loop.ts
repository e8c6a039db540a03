/**
 * The training loop shared by pre-training, MNTP and retrieval fine-tuning: AdamW, linear warm-up and
 * decay, gradient accumulation, clipping, periodic validation and checkpoints, exact resume, a FLOP
 * budget, JSONL step logs and a progress bar.
 *
 * Exactness of resume rests on three facts: every micro-batch is a pure function of its index (seeded
 * data order, see rng.ts), the learning rate is a pure function of the step, and a checkpoint holds the
 * parameters, AdamW's moments and libtorch's RNG (dropout) exactly.
 * @module
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { AdamW, Tensor, autocast, clipGradNorm, tidy } from '../torch/index.ts';
import { progress } from '../cli/progress.ts';
import { latestCheckpoint, loadCheckpoint, saveCheckpoint } from './checkpoint.ts';
import { learningRate } from './objectives.ts';

export interface MicroResult {
  /** The micro-batch's loss (a scalar with grad); the loop divides it by the accumulation factor. */
  loss: Tensor;
  /** Tokens processed (for throughput and the FLOP count). */
  tokens: number;
  /** FLOPs spent on this micro-batch (forward + backward). */
  flops: number;
  /** Scalars to log (mean over the step's micro-batches). */
  metrics?: Record<string, number>;
}

export interface TrainTask {
  /** Trainable parameters with their names (checkpoint keys). */
  params: [string, Tensor][];
  /** Builds and evaluates micro-batch `u` (global index step·GA + m) with grad on; `step` for schedules. */
  micro(u: number, step: number): MicroResult;
  /** Validation metrics (called without grad). */
  validate?(): Record<string, number>;
  /** Writes the model as users load it (PEFT adapter or HF folder). */
  exportTo?(dir: string): void;
  /** Sets training/eval mode (dropout). */
  train(on: boolean): void;
}

export interface LoopConfig {
  outDir: string;
  steps: number;
  gradAccum: number;
  lr: number;
  /** Warm-up steps (the paper: warmup_ratio 0.04 of the steps). */
  warmup: number;
  weightDecay: number;
  betas?: [number, number];
  eps?: number;
  clip: number;
  saveEvery: number;
  validateEvery?: number;
  /** Stop once this many training FLOPs are spent. */
  flopsBudget?: number;
  /** Stop once the run (all sessions together) has trained this long. */
  maxSeconds?: number;
  /** Mixed precision: forward and loss under libtorch autocast in this dtype (the paper: bf16). */
  autocast?: 'bf16' | 'f16';
  /** Device for autocast (default cpu). */
  device?: 'cpu' | 'cuda';
  keep?: number;
  /** Recorded in every checkpoint, and compared on resume. */
  config: Record<string, unknown>;
  /** Log to stderr every N steps when not on a TTY (0: never). */
  printEvery?: number;
}

export interface LoopSummary {
  step: number;
  tokens: number;
  flops: number;
  seconds: number;
  resumedFrom: number;
  lastLoss: number;
  validation: Record<string, number> | null;
  stoppedBy: 'steps' | 'budget' | 'time';
}

export function runTraining(task: TrainTask, cfg: LoopConfig): LoopSummary {
  mkdirSync(cfg.outDir, { recursive: true });
  const log = path.join(cfg.outDir, 'train.jsonl');
  const write = (o: Record<string, unknown>): void => appendFileSync(log, JSON.stringify({ time: new Date().toISOString(), ...o }) + '\n');
  const params = task.params.map(([, p]) => p);
  const opt = new AdamW(params, { lr: 0, weightDecay: cfg.weightDecay, betas: cfg.betas, eps: cfg.eps });
  let step = 0;
  let tokens = 0;
  let flops = 0;
  let seconds = 0;
  const resume = latestCheckpoint(cfg.outDir);
  if (resume) {
    const st = loadCheckpoint(resume, { params: task.params, optimizer: opt });
    const was = JSON.stringify(st.config);
    const now = JSON.stringify(cfg.config);
    if (was !== now) throw new Error(`lion: ${cfg.outDir} holds a run with another configuration; hint: use a new --output folder\n  was: ${was}\n  now: ${now}`);
    ({ step, tokens, flops, seconds } = st);
    write({ event: 'resume', step, checkpoint: path.basename(resume) });
  } else {
    write({ event: 'start', config: cfg.config });
  }
  const resumedFrom = step;
  const bar = progress(cfg.steps, 'steps', 'train');
  bar.update(step);
  let lastLoss = NaN;
  let validation: Record<string, number> | null = null;
  let stoppedBy: LoopSummary['stoppedBy'] = 'steps';
  const t0 = performance.now() - seconds * 1000;
  try {
    while (step < cfg.steps) {
      if (cfg.flopsBudget !== undefined && flops >= cfg.flopsBudget) {
        stoppedBy = 'budget';
        break;
      }
      if (cfg.maxSeconds !== undefined && (performance.now() - t0) / 1000 >= cfg.maxSeconds) {
        stoppedBy = 'time';
        break;
      }
      task.train(true);
      const lr = learningRate(step, { peak: cfg.lr, warmup: cfg.warmup, total: cfg.steps });
      opt.setLr(lr);
      opt.zeroGrad();
      let loss = 0;
      let stepTokens = 0;
      const metrics: Record<string, number> = {};
      for (let m = 0; m < cfg.gradAccum; m++) {
        tidy(() => {
          // Forward and loss under autocast; backward outside it, as PyTorch recommends.
          const u = step * cfg.gradAccum + m;
          const r = cfg.autocast ? autocast(cfg.autocast, () => task.micro(u, step), cfg.device ?? 'cpu') : task.micro(u, step);
          r.loss.div(cfg.gradAccum).backward();
          loss += r.loss.item() / cfg.gradAccum;
          stepTokens += r.tokens;
          flops += r.flops;
          for (const [k, v] of Object.entries(r.metrics ?? {})) metrics[k] = (metrics[k] ?? 0) + v / cfg.gradAccum;
        });
      }
      const gradNorm = clipGradNorm(params, cfg.clip);
      opt.step();
      step++;
      tokens += stepTokens;
      lastLoss = loss;
      seconds = (performance.now() - t0) / 1000;
      const rec: Record<string, unknown> = { step, loss, lr, gradNorm, tokens, flops, seconds, tokensPerSec: tokens / Math.max(seconds, 1e-9), rss: process.memoryUsage.rss(), ...metrics };
      if (cfg.validateEvery && task.validate && (step % cfg.validateEvery === 0 || step === cfg.steps)) {
        task.train(false);
        validation = task.validate();
        Object.assign(rec, Object.fromEntries(Object.entries(validation).map(([k, v]) => [`val/${k}`, v])));
      }
      write(rec);
      bar.update(step, { loss: loss.toFixed(4), 'tok/s': Math.round(tokens / Math.max(seconds, 1e-9)) });
      if (cfg.printEvery && !process.stderr.isTTY && step % cfg.printEvery === 0) {
        console.error(`step ${step}/${cfg.steps} loss ${loss.toFixed(4)} lr ${lr.toExponential(2)} ${Math.round(tokens / seconds)} tok/s`);
      }
      if (step % cfg.saveEvery === 0 || step === cfg.steps) {
        saveCheckpoint(cfg.outDir, { params: task.params, optimizer: opt, state: { step, tokens, flops, seconds, config: cfg.config }, exportTo: task.exportTo, keep: cfg.keep });
      }
    }
    if (stoppedBy !== 'steps' && step > resumedFrom && step % cfg.saveEvery !== 0) {
      saveCheckpoint(cfg.outDir, { params: task.params, optimizer: opt, state: { step, tokens, flops, seconds, config: cfg.config }, exportTo: task.exportTo, keep: cfg.keep });
    }
    write({ event: 'end', step, stoppedBy, flops, seconds });
  } finally {
    bar.stop();
    opt.dispose();
  }
  task.train(false);
  return { step, tokens, flops, seconds, resumedFrom, lastLoss, validation, stoppedBy };
}
