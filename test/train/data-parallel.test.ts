// Data-parallel training over c10d Gloo: N ranks on a split global batch end where one process ends
// (every paradigm × objective, and MNTP); a killed 2-rank run resumes exactly; the gradient cache
// gives the uncached gradients.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readAll } from '../../src/formats/tensor-source.ts';
import { SafetensorsFile } from '../../src/formats/safetensors.ts';
import { launchRanks } from '../../src/parallel/launch.ts';
import { CASES, STEPS, makeInputs, runCase } from './dp-cases.ts';
import { loadBackbone } from '../../src/model/backbone.ts';
import { RetrievalTask, resolveExamples } from '../../src/train/retrieval.ts';
import { loadExamples } from '../../src/train/recipes.ts';
import { backward } from '../../src/model/checkpointing.ts';
import { manualSeed, tidy } from '../../src/torch/index.ts';
import type { Paradigm } from '../../src/model/encoder.ts';
import type { Objective } from '../../src/train/objectives.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const lion = path.join(root, 'bin/lion.js');
const work = mkdtempSync(path.join(tmpdir(), 'lion-dp-'));
process.on('exit', () => rmSync(work, { recursive: true, force: true }));
makeInputs(work);

type Weights = Map<string, Float32Array>;
function weights(out: string, step: number): Weights {
  const m = readAll(SafetensorsFile.open(path.join(out, `checkpoint-${step}`, 'trainable.safetensors')));
  return new Map([...m].map(([k, v]) => [k, new Float32Array(v.data.buffer.slice(v.data.byteOffset, v.data.byteOffset + v.data.byteLength))]));
}
/** ‖a − b‖ over all tensors. */
function distance(a: Weights, b: Weights): number {
  assert.deepEqual([...a.keys()].sort(), [...b.keys()].sort());
  let s = 0;
  for (const [k, x] of a) {
    const y = b.get(k)!;
    for (let i = 0; i < x.length; i++) s += (x[i]! - y[i]!) ** 2;
  }
  return Math.sqrt(s);
}
function norm(a: Weights): number {
  let s = 0;
  for (const x of a.values()) for (const v of x) s += v * v;
  return Math.sqrt(s);
}
const losses = (out: string): number[] =>
  readFileSync(path.join(out, 'train.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { loss?: number }).filter((r) => r.loss !== undefined).map((r) => r.loss!);

test('2 ranks (c10d Gloo) end at the weights of 1 process on the same global batch: CL, KD, CL+KD × sparse, dense, and MNTP', async (t) => {
  const n2 = path.join(work, 'n2');
  const code = await launchRanks(2, { argv: ['--import', 'tsx', path.join(here, 'dp-worker.ts'), work, n2], env: { ...process.env, LION_NUM_THREADS: '1' } });
  assert.equal(code, 0, 'both ranks finished');
  for (const c of CASES) {
    const n1 = path.join(work, 'n1', c);
    await runCase(work, c, n1);
    const one = weights(n1, STEPS);
    const two = weights(path.join(n2, c), STEPS);
    // The run moved the weights (so equality is not trivial), and the two runs agree far closer.
    const moved = distance(one, weights(n1, STEPS / 2));
    const rel = distance(one, two) / norm(one);
    assert.ok(moved / norm(one) > 1e-3, `${c}: training moved the weights by ${moved}`);
    t.diagnostic(`${c}: relative weight difference ${rel.toExponential(2)}, difference / movement ${(distance(one, two) / moved).toExponential(2)}`);
    assert.ok(rel < 1e-4, `${c}: relative difference ${rel.toExponential(2)}`);
    assert.ok(distance(one, two) < 1e-2 * moved, `${c}: difference ${distance(one, two)} vs movement ${moved}`);
    // Rank 0 logs the global batch's loss: the same as the single process's at every step.
    const l1 = losses(n1);
    const l2 = losses(path.join(n2, c));
    assert.equal(l2.length, STEPS);
    l1.forEach((x, i) => assert.ok(Math.abs(x - l2[i]!) <= 1e-4 * Math.abs(x), `${c} step ${i + 1}: loss ${x} vs ${l2[i]}`));
    // Rank 0 alone wrote the run folder: one log, one final export.
    assert.ok(existsSync(path.join(n2, c, 'final')), `${c}: final export`);
  }
});

test('a 2-rank run killed mid-way resumes to the final weights of an uninterrupted 2-rank run (LoRA dropout on)', async () => {
  const train = path.join(work, 'train.jsonl');
  const steps = 16;
  const args = (out: string): string[] => ['train', '--nproc', '2', '--model', path.join(work, 'model'), '--paradigm', 'sparse', '--objective', 'cl+kd', '--train', train, '--negatives', '2', '--batch-size', '4', '--steps', String(steps), '--save-every', '2', '--lr', '1e-3', '--lora-r', '4', '--lora-dropout', '0.1', '--query-length', '16', '--doc-length', '24', '--output', out];
  const env = { ...process.env, LION_NUM_THREADS: '1' };
  const a = path.join(work, 'kill-a');
  execFileSync(lion, args(a), { stdio: 'pipe', env });
  const b = path.join(work, 'kill-b');
  const child = spawn(lion, args(b), { stdio: 'ignore', env });
  const killedAt = await new Promise<number>((resolve, reject) => {
    const timer = setInterval(() => {
      const log = path.join(b, 'train.jsonl');
      if (!existsSync(log)) return;
      const last = Math.max(0, ...losses(b).map((_, i) => i + 1));
      if (last >= 3) {
        clearInterval(timer);
        child.kill('SIGKILL'); // the launcher: its ranks die with it
        resolve(last);
      }
    }, 10);
    child.on('exit', (code) => code === 0 && reject(new Error('the run finished before it could be killed')));
  });
  await new Promise((r) => child.on('exit', r));
  assert.ok(killedAt < steps, `killed at step ${killedAt}`);
  assert.ok(!existsSync(path.join(b, `checkpoint-${steps}`)), 'the killed run had not finished');
  execFileSync(lion, args(b), { stdio: 'pipe', env });
  assert.match(readFileSync(path.join(b, 'train.jsonl'), 'utf8'), /"event":"resume"/);
  const wa = weights(a, steps);
  const wb = weights(b, steps);
  assert.ok(norm(wa) > 0);
  assert.ok(distance(wa, wb) <= 1e-6 * norm(wa), `distance ${distance(wa, wb)}`);
});

test('--grad-cache: the same gradients as the uncached batch (sparse CL+KD, dense CL)', async () => {
  const train = path.join(work, 'train.jsonl');
  const { examples } = resolveExamples(await loadExamples(train), new Map(), { minNegatives: 2, needTeacher: true, file: train });
  for (const [paradigm, objective] of [['sparse', 'cl+kd'], ['dense', 'cl']] as [Paradigm, Objective][]) {
    manualSeed(0);
    const b = loadBackbone({ model: path.join(work, 'model'), paradigm });
    try {
      const params = b.model.namedParameters();
      for (const [, p] of params) p.requiresGrad_(true);
      const grads = (gradCache?: number): Float32Array[] => {
        for (const [, p] of params) p.zeroGrad();
        const task = new RetrievalTask({ model: b.model, tokenizer: b.tokenizer, paradigm, objective, examples, batchSize: 8, negatives: 2, maxLength: { query: 16, doc: 24 }, seed: 5, totalSteps: 10, params, gradCache });
        tidy(() => {
          const r = task.micro(1, 4);
          if (r.backward) r.backward(1, (f) => f());
          else backward(r.loss);
        });
        return params.map(([, p]) => {
          const g = p.grad;
          const a = g ? (g.toArray() as Float32Array).slice() : new Float32Array(p.numel);
          g?.dispose();
          return a;
        });
      };
      const full = grads();
      const cached = grads(3);
      let d = 0;
      let n = 0;
      full.forEach((g, i) => g.forEach((v, j) => ((d += (v - cached[i]![j]!) ** 2), (n += v * v))));
      assert.ok(n > 0, 'nonzero gradients');
      assert.ok(Math.sqrt(d / n) < 1e-4, `${paradigm} ${objective}: relative gradient difference ${Math.sqrt(d / n)}`);
    } finally {
      b.model.dispose();
    }
  }
});
