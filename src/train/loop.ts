/**
 * The training loop shared by pre-training, MNTP and retrieval fine-tuning: AdamW, linear warm-up and
 * decay, gradient accumulation, clipping, periodic validation and checkpoints, exact resume, a FLOP
 * budget, JSONL step logs and progress reports (the CLI draws a bar from them).
 *
 * Exactness of resume rests on three facts: every micro-batch is a pure function of its index (seeded
 * data order, see util/random.ts), the learning rate is a pure function of the step, and a checkpoint holds the
 * parameters, AdamW's moments and libtorch's RNG (dropout) exactly.
 * @module
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { AdamW, Tensor, autocast, clipGradNorm, deviceType, tidy, type Device } from '../torch/index.ts';
import { backward, discardPending } from '../model/checkpointing.ts';
import { latestCheckpoint, loadCheckpoint, readCheckpointState, saveCheckpoint, writeFinalExport } from './checkpoint.ts';
import { learningRate } from './objectives.ts';
import { DataParallel } from './data-parallel.ts';
import type { Group } from '../parallel/group.ts';

export interface MicroResult {
  /** The micro-batch's loss (a scalar with grad); the loop divides it by the accumulation factor. */
  loss: Tensor;
  /** Tokens processed (for throughput and the FLOP count). */
  tokens: number;
  /** FLOPs spent on this micro-batch (forward + backward). */
  flops: number;
  /** Scalars to log (mean over the step's micro-batches). */
  metrics?: Record<string, number>;
  /**
   * On N ranks: `loss` is the whole global batch's loss, the same on every rank (it was computed on
   * all-gathered representations, each rank's gradient reaching only its own encoder). Otherwise it
   * is this rank's share, and the ranks' losses add up to the batch loss. Either way the ranks'
   * gradients add up to the single-process gradient; `tokens` and `flops` are always this rank's.
   */
  replicated?: boolean;
  /**
   * Backpropagates `loss` × scale itself (gradient cache: the loss's gradient reaches cached
   * representations, then chunks are re-encoded with grad under `forward`, the loop's autocast).
   * Without it the loop backpropagates `loss`.
   */
  backward?: (scale: number, forward: <T>(f: () => T) => T) => void;
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

/** What the loop reports after each optimizer step (and once before the first): for a bar or a log. */
export interface ProgressEvent {
  step: number;
  steps: number;
  /** The step's loss (absent in the first report). */
  loss?: number;
  tokensPerSecond?: number;
  /** The loop has ended (normally or by an error). */
  done?: boolean;
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
  /** Gradient-norm clipping threshold (> 0; Infinity: no clipping, the norm is still logged). */
  clip: number;
  saveEvery: number;
  validateEvery?: number;
  /** Stop once this many training FLOPs are spent. */
  flopsBudget?: number;
  /** Stop once the run (all sessions together) has trained this long. */
  maxSeconds?: number;
  /** Mixed precision: forward and loss under libtorch autocast in this dtype (the paper: bf16). */
  autocast?: 'bf16' | 'f16';
  /** The device the model trains on (autocast's device type, and whose RNG checkpoints save); default cpu. */
  device?: Device;
  keep?: number;
  /**
   * The recipe's settings and input identities, recorded in every checkpoint and compared on resume
   * together with this loop's own optimisation settings (see recordedConfig).
   */
  config: Record<string, unknown>;
  /** Log to stderr every N steps when not on a TTY (0: never). */
  printEvery?: number;
  /** Called on the writing rank after each step; the CLI draws a progress bar with it. */
  onProgress?: (e: ProgressEvent) => void;
  /** Data-parallel ranks that train this model together (default: this process alone). */
  group?: Group;
  /** Seeds each rank's own dropout generator on N ranks. */
  seed?: number;
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

/**
 * What a checkpoint records and a resume must match: the recipe's config plus every setting of this
 * loop that shapes the trajectory. Settings that only decide when to stop, save, validate or print
 * (steps aside, which sets the schedule) may change between sessions: that is how a run is extended.
 */
export function recordedConfig(cfg: LoopConfig): Record<string, unknown> {
  const { steps, gradAccum, lr, warmup, weightDecay, betas, eps, clip, autocast, device } = cfg;
  const loop = { steps, gradAccum, lr, warmup, weightDecay, betas: betas ?? null, eps: eps ?? null, clip: Number.isFinite(clip) ? clip : 'none', autocast: autocast ?? null, device: device ?? 'cpu' };
  return { ...cfg.config, loop };
}

/** Names for recorded settings in refusals: the flag a user changes (dotted path otherwise). */
const SETTING_NAMES: Record<string, string> = {
  'loop.clip': '--clip',
  'loop.lr': '--lr',
  'loop.warmup': 'the warm-up steps (--warmup-ratio × --steps)',
  'loop.weightDecay': '--weight-decay',
  'loop.steps': '--steps',
  'loop.gradAccum': '--grad-accum',
  'loop.autocast': '--bf16',
  'flopsLambda.query': '--flops-q',
  'flopsLambda.doc': '--flops-d',
  'maxLength.query': '--query-length',
  'maxLength.doc': '--doc-length',
  'tuning.lora.r': '--lora-r',
  'tuning.lora.alpha': '--lora-alpha',
  'tuning.lora.dropout': '--lora-dropout',
  'tuning.kind': '--full',
  'identity.model': 'the base model (--model)',
  'identity.adapter': 'the starting adapter (--adapter)',
  'identity.train': 'the training file (--train)',
  'identity.corpus': 'the corpus (--corpus)',
};

function settingName(key: string): string {
  if (SETTING_NAMES[key]) return SETTING_NAMES[key];
  const last = key.split('.').pop()!;
  return /^[a-z][a-zA-Z]*$/.test(last) && !key.includes('.') ? `--${last.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}` : `'${key}'`;
}

function flatten(v: unknown, prefix: string, out: Map<string, string>): void {
  if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
    for (const [k, x] of Object.entries(v)) flatten(x, prefix ? `${prefix}.${k}` : k, out);
  } else out.set(prefix, JSON.stringify(v ?? null));
}

/** The first recorded setting that differs between two configurations (every key of either), or null. */
export function configDifference(was: unknown, now: unknown): { key: string; what: string; was: string; now: string } | null {
  const a = new Map<string, string>();
  const b = new Map<string, string>();
  flatten(was, '', a);
  flatten(now, '', b);
  for (const key of new Set([...a.keys(), ...b.keys()])) {
    const x = a.get(key) ?? '(not set)';
    const y = b.get(key) ?? '(not set)';
    if (x !== y) return { key, what: settingName(key), was: x, now: y };
  }
  return null;
}

export function runTraining(task: TrainTask, cfg: LoopConfig): LoopSummary {
  // A zero (or NaN) threshold would scale every gradient to zero: the run would "train" without moving.
  if (!(cfg.clip > 0)) throw new Error(`lion: gradient clipping threshold must be > 0 (or Infinity for none), got ${cfg.clip}; hint: --clip 1, or --clip none`);
  const dp = new DataParallel(cfg.group);
  mkdirSync(cfg.outDir, { recursive: true });
  const log = path.join(cfg.outDir, 'train.jsonl');
  const write = (o: Record<string, unknown>): void => {
    if (dp.writer) appendFileSync(log, JSON.stringify({ time: new Date().toISOString(), ...o }) + '\n');
  };
  const params = task.params.map(([, p]) => p);
  const opt = new AdamW(params, { lr: 0, weightDecay: cfg.weightDecay, betas: cfg.betas, eps: cfg.eps });
  let step = 0;
  let tokens = 0;
  let flops = 0;
  let seconds = 0;
  const resume = latestCheckpoint(cfg.outDir);
  const config = recordedConfig(cfg);
  if (resume) {
    // Compared before any weights are read: a resume with another setting or input is refused.
    const changed = configDifference(readCheckpointState(resume).config, config);
    if (changed) {
      opt.dispose();
      throw new Error(
        `lion: cannot resume the run in '${cfg.outDir}': ${changed.what} was ${changed.was} when it started, now ${changed.now}; hint: rerun with the run's settings and inputs, or use a new --output folder`,
      );
    }
    const st = loadCheckpoint(resume, { params: task.params, optimizer: opt });
    ({ step, tokens, flops, seconds } = st);
    dp.agreeOnStep(step, cfg.outDir);
    dp.restoreRng(st.rankRng, { seed: cfg.seed ?? 0, step });
    write({ event: 'resume', step, checkpoint: path.basename(resume) });
  } else {
    dp.agreeOnStep(0, cfg.outDir);
    write({ event: 'start', config });
  }
  dp.start(params, { seed: cfg.seed ?? 0, resumed: resume !== null });
  const resumedFrom = step;
  const report = dp.writer ? cfg.onProgress : undefined;
  report?.({ step, steps: cfg.steps });
  let lastLoss = NaN;
  let validation: Record<string, number> | null = null;
  let stoppedBy: LoopSummary['stoppedBy'] = 'steps';
  const t0 = performance.now() - seconds * 1000;
  // Every rank's generator is gathered (a collective), rank 0 writes.
  const save = (): void => {
    const rankRng = dp.rngStates();
    if (dp.writer) saveCheckpoint(cfg.outDir, { params: task.params, optimizer: opt, state: { step, tokens, flops, seconds, config, ...(rankRng ? { rankRng } : {}) }, exportTo: task.exportTo, keep: cfg.keep, device: cfg.device });
  };
  try {
    while (step < cfg.steps) {
      if (cfg.flopsBudget !== undefined && flops >= cfg.flopsBudget) {
        stoppedBy = 'budget';
        break;
      }
      if (cfg.maxSeconds !== undefined && dp.any((performance.now() - t0) / 1000 >= cfg.maxSeconds)) {
        stoppedBy = 'time';
        break;
      }
      task.train(true);
      const lr = learningRate(step, { peak: cfg.lr, warmup: cfg.warmup, total: cfg.steps });
      opt.setLr(lr);
      opt.zeroGrad();
      let loss = 0;
      let shardLoss = 0;
      let stepTokens = 0;
      let stepFlops = 0;
      const metrics: Record<string, number> = {};
      for (let m = 0; m < cfg.gradAccum; m++) {
        tidy(() => {
          // Forward and loss under autocast; backward outside it, as PyTorch recommends.
          const u = step * cfg.gradAccum + m;
          const r = cfg.autocast ? autocast(cfg.autocast, () => task.micro(u, step), deviceType(cfg.device ?? 'cpu')) : task.micro(u, step);
          // Also recomputes activation-checkpointed layers (a no-op without them).
          if (r.backward) r.backward(1 / cfg.gradAccum, (f) => (cfg.autocast ? autocast(cfg.autocast, f, deviceType(cfg.device ?? 'cpu')) : f()));
          else backward(r.loss.div(cfg.gradAccum));
          if (r.replicated) loss += r.loss.item() / cfg.gradAccum;
          else shardLoss += r.loss.item() / cfg.gradAccum;
          stepTokens += r.tokens;
          stepFlops += r.flops;
          for (const [k, v] of Object.entries(r.metrics ?? {})) metrics[k] = (metrics[k] ?? 0) + v / cfg.gradAccum;
        });
      }
      dp.reduceGrads(params);
      const [sharded, globalTokens, globalFlops] = dp.sum([shardLoss, stepTokens, stepFlops]);
      loss += sharded!;
      flops += globalFlops!;
      const gradNorm = clipGradNorm(params, cfg.clip);
      opt.step();
      step++;
      tokens += globalTokens!;
      lastLoss = loss;
      seconds = (performance.now() - t0) / 1000;
      const rec: Record<string, unknown> = { step, loss, lr, gradNorm, tokens, flops, seconds, tokensPerSec: tokens / Math.max(seconds, 1e-9), rss: process.memoryUsage.rss(), ...metrics };
      const comm = cfg.group?.takeCommTime();
      if (comm && dp.size > 1) Object.assign(rec, { allReduceMs: comm.allReduce * 1000, allGatherMs: comm.allGather * 1000 });
      if (dp.writer && cfg.validateEvery && task.validate && (step % cfg.validateEvery === 0 || step === cfg.steps)) {
        task.train(false);
        validation = task.validate();
        Object.assign(rec, Object.fromEntries(Object.entries(validation).map(([k, v]) => [`val/${k}`, v])));
      }
      write(rec);
      report?.({ step, steps: cfg.steps, loss, tokensPerSecond: tokens / Math.max(seconds, 1e-9) });
      if (dp.writer && cfg.printEvery && !process.stderr.isTTY && step % cfg.printEvery === 0) {
        console.error(`step ${step}/${cfg.steps} loss ${loss.toFixed(4)} lr ${lr.toExponential(2)} ${Math.round(tokens / seconds)} tok/s`);
      }
      if (step % cfg.saveEvery === 0 || step === cfg.steps) {
        save();
      }
    }
    if (stoppedBy !== 'steps' && step > resumedFrom && step % cfg.saveEvery !== 0) {
      save();
    }
    // Also when a finished run is rerun (no step taken): final/ must exist whenever the run is done.
    const final = dp.writer ? writeFinalExport(cfg.outDir) : null;
    write({ event: 'end', step, stoppedBy, flops, seconds, ...(final ? { final } : {}) });
  } finally {
    discardPending(); // chains a failed micro-batch recorded and never backpropagated
    report?.({ step, steps: cfg.steps, done: true });
    opt.dispose();
  }
  task.train(false);
  return { step, tokens, flops, seconds, resumedFrom, lastLoss, validation, stoppedBy };
}
