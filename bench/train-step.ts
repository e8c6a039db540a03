/**
 * Training throughput: one causal-LM step (forward, backward, AdamW) for three model sizes in Lion and
 * the same step in Debian's python3-torch (bench/train_step_torch.py), alternating in one run. Reports
 * tokens/s, model FLOP utilisation (6·N·tokens + attention over a 2-core peak of 205 GFLOP/s) and the
 * Lion/Python throughput ratio. Lion and Python alternate for --rounds rounds per size; the figures are
 * the medians over rounds (the VM's timings vary ±15% between runs, so one round is not enough).
 * Usage: node --import tsx bench/train-step.ts [--threads 2] [--reps 5] [--rounds 3]
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { AdamW, Tensor, manualSeed, noGrad, setNumThreads, tidy } from '../src/torch/index.ts';
import { LlamaForCausalLM } from '../src/model/llama.ts';
import { shiftedCrossEntropy } from '../src/train/lm-tasks.ts';
import { flopsPerToken } from '../src/train/budget.ts';
import type { LlamaArch } from '../src/model/arch.ts';

const { values: o } = parseArgs({ options: { threads: { type: 'string', default: '2' }, reps: { type: 'string', default: '5' }, rounds: { type: 'string', default: '3' }, python: { type: 'string', default: '/usr/bin/python3' } } });
const PEAK = 205e9;
const sizes = [
  { name: 'd256-L4', vocab: 8192, hidden: 256, layers: 4, heads: 4, ffn: 768, batch: 8, seq: 256 },
  { name: 'd512-L4', vocab: 8192, hidden: 512, layers: 4, heads: 8, ffn: 1408, batch: 8, seq: 256 },
  { name: 'd768-L6', vocab: 8192, hidden: 768, layers: 6, heads: 12, ffn: 2048, batch: 4, seq: 256 },
];
setNumThreads(Number(o.threads));
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const rows = [];
for (const s of sizes) {
  const arch: LlamaArch = { vocab_size: s.vocab, hidden_size: s.hidden, intermediate_size: s.ffn, num_hidden_layers: s.layers, num_attention_heads: s.heads, rms_norm_eps: 1e-5, rope_theta: 500000, tie_word_embeddings: true };
  manualSeed(0);
  const model = new LlamaForCausalLM(arch);
  noGrad(() => { for (const p of model.parameters()) tidy(() => void p.copy_(Tensor.randn(p.shape).mul(0.02))); });
  const opt = new AdamW(model.parameters(), { lr: 1e-4, weightDecay: 0 });
  const ids = Tensor.randint(0, s.vocab, [s.batch, s.seq]).keep();
  const ones = Tensor.ones([s.batch, s.seq], 'i64').keep();
  const step = (): void => tidy(() => {
    opt.zeroGrad();
    shiftedCrossEntropy(model.forward(ids, ones, 'causal'), ids).backward();
    opt.step();
  });
  step(); step();
  const lionRounds: number[] = [];
  const pyRounds: number[] = [];
  for (let r = 0; r < Number(o.rounds); r++) {
    const ts: number[] = [];
    for (let i = 0; i < Number(o.reps); i++) { const t0 = performance.now(); step(); ts.push(performance.now() - t0); }
    lionRounds.push(median(ts));
    pyRounds.push((JSON.parse(execFileSync(o.python!, ['bench/train_step_torch.py', JSON.stringify(s), '--threads', o.threads!, '--reps', o.reps!], { encoding: 'utf8' })) as { ms_per_step: number }).ms_per_step);
  }
  opt.dispose(); model.dispose(); ids.dispose(); ones.dispose();
  const lionMs = median(lionRounds);
  const py = { ms_per_step: median(pyRounds) };
  const tokens = s.batch * s.seq;
  const flops = tokens * flopsPerToken(arch, { lmHead: true, seqLen: s.seq });
  const r = { size: s.name, rounds: { lion: lionRounds, python: pyRounds }, lionMs, pythonMs: py.ms_per_step, lionTokPerSec: tokens / (lionMs / 1000), pythonTokPerSec: tokens / (py.ms_per_step / 1000), lionMfu: flops / (lionMs / 1000) / PEAK, ratio: py.ms_per_step / lionMs };
  console.log(`${s.name.padEnd(8)} Lion ${r.lionMs.toFixed(0)} ms (${r.lionTokPerSec.toFixed(0)} tok/s, MFU ${(r.lionMfu * 100).toFixed(0)}%)  Python ${r.pythonMs.toFixed(0)} ms (${r.pythonTokPerSec.toFixed(0)} tok/s)  Lion/Python throughput ${r.ratio.toFixed(3)}`);
  rows.push(r);
}
mkdirSync('bench/out', { recursive: true });
writeFileSync('bench/out/train-step.json', JSON.stringify({ date: new Date().toISOString(), threads: Number(o.threads), rows }, null, 1));
