/**
 * Engine benchmark, one run for both engines so the ratios hold on a shared VM:
 *   B1: f32 matmul 1024×1024·1024×1024 and 4096×512·512×2048, GFLOP/s at 1 and 2 threads;
 *   B2: one Llama-style block (hidden 512, 8 heads, SwiGLU 1408, RMSNorm, RoPE θ=500000, batch 16 ×
 *       seq 128, bidirectional): forward (no grad), and forward + backward + AdamW, in ms.
 * The same computations run in Debian's python3-torch (bench/engine_torch.py), alternating rounds.
 * Usage: node --import tsx bench/engine.ts [--reps N] [--rounds N] [--device cuda] [--python PATH]
 * Writes bench/out/engine.json.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { AdamW, Tensor, linear, native, noGrad, setNumThreads, tidy, type Device } from '../src/torch/index.ts';

const { values: opts } = parseArgs({
  options: {
    reps: { type: 'string', default: '10' },
    rounds: { type: 'string', default: '3' },
    device: { type: 'string', default: 'cpu' },
    python: { type: 'string', default: '/usr/bin/python3' },
    threads: { type: 'string', default: '2' },
  },
});
const reps = Number(opts.reps);
const device = opts.device as Device;
const sync = (): void => (device === 'cpu' ? undefined : native().cudaSynchronize());

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}
function timeit(fn: () => void, n = reps, warm = 2): number {
  for (let i = 0; i < warm; i++) fn();
  sync();
  const ts: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    fn();
    sync();
    ts.push(performance.now() - t0);
  }
  return median(ts);
}

function b1(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const threads of device === 'cpu' ? [1, 2] : [1]) {
    setNumThreads(threads);
    for (const [m, k, n] of [[1024, 1024, 1024], [4096, 512, 2048]] as const) {
      tidy(() => {
        const a = Tensor.randn([m, k], 'f32', device);
        const b = Tensor.randn([k, n], 'f32', device);
        const ms = timeit(() => tidy(() => void a.matmul(b)));
        out[`${m}x${k}x${n}@${threads}T`] = (2 * m * k * n) / (ms / 1000) / 1e9;
      });
    }
  }
  return out;
}

function b2(): { forward_ms: number; train_ms: number } {
  setNumThreads(Number(opts.threads));
  const [B, T, D, H, F, theta] = [16, 128, 512, 8, 1408, 500000];
  const hd = D / H;
  return tidy(() => {
    const lin = (o: number, i: number): Tensor => Tensor.rand([o, i], 'f32', device).mul(2).sub(1).div(Math.sqrt(i)).requiresGrad_();
    const P = { q: lin(D, D), k: lin(D, D), v: lin(D, D), o: lin(D, D), gate: lin(F, D), up: lin(F, D), down: lin(D, F), n1: Tensor.ones([D], 'f32', device).requiresGrad_(), n2: Tensor.ones([D], 'f32', device).requiresGrad_() };
    const inv = Tensor.arange(0, hd, 2, 'f32', device).div(hd).mul(Math.log(theta)).neg().exp(); // θ^(−2i/d)
    const ang = Tensor.arange(0, T, 1, 'f32', device).unsqueeze(1).mul(inv.unsqueeze(0)); // [T, hd/2]
    const cos = Tensor.cat([ang.cos(), ang.cos()], -1); // [T, hd]
    const sin = Tensor.cat([ang.sin(), ang.sin()], -1);
    const rms = (x: Tensor, w: Tensor): Tensor => x.mul(x.pow(2).mean(-1, true).add(1e-5).rsqrt()).mul(w);
    const rot = (x: Tensor): Tensor => Tensor.cat([x.narrow(-1, hd / 2, hd / 2).neg(), x.narrow(-1, 0, hd / 2)], -1);
    const heads = (x: Tensor): Tensor => x.view([B, T, H, hd]).transpose(1, 2); // [B, H, T, hd]
    const block = (x0: Tensor): Tensor =>
      tidy(() => {
        const h = rms(x0, P.n1);
        let q = heads(linear(h, P.q));
        let k = heads(linear(h, P.k));
        const v = heads(linear(h, P.v));
        q = q.mul(cos).add(rot(q).mul(sin));
        k = k.mul(cos).add(rot(k).mul(sin));
        const att = q.matmul(k.transpose(-2, -1)).div(Math.sqrt(hd)).softmax(-1); // [B, H, T, T], no causal mask
        const y = att.matmul(v).transpose(1, 2).reshape([B, T, D]);
        const x = x0.add(linear(y, P.o));
        const h2 = rms(x, P.n2);
        return x.add(linear(linear(h2, P.gate).silu().mul(linear(h2, P.up)), P.down));
      });
    const x = Tensor.randn([B, T, D], 'f32', device);
    const opt = new AdamW(Object.values(P), { lr: 1e-4 });
    const forward_ms = timeit(() => noGrad(() => tidy(() => void block(x))));
    const train_ms = timeit(() =>
      tidy(() => {
        opt.zeroGrad();
        block(x).square().mean().backward();
        opt.step();
      }),
    );
    opt.dispose();
    return { forward_ms, train_ms };
  });
}

interface Result { b1: Record<string, number>; b2: { forward_ms: number; train_ms: number } }
const lion: Result[] = [];
const py: (Result & { torch: string; blas: string[] })[] = [];
for (let r = 0; r < Number(opts.rounds); r++) {
  lion.push({ b1: b1(), b2: b2() });
  if (device === 'cpu') {
    try {
      py.push(JSON.parse(execFileSync(opts.python, ['bench/engine_torch.py', '--reps', String(reps), '--threads', opts.threads], { encoding: 'utf8' })));
    } catch (e) {
      console.error(`python reference unavailable (${opts.python}): ${(e as Error).message.split('\n')[0]}`);
    }
  }
}

const best = (rs: Result[]): Result => ({
  b1: Object.fromEntries(Object.keys(rs[0]!.b1).map((k) => [k, Math.max(...rs.map((r) => r.b1[k]!))])),
  b2: { forward_ms: Math.min(...rs.map((r) => r.b2.forward_ms)), train_ms: Math.min(...rs.map((r) => r.b2.train_ms)) },
});
const L = best(lion);
const summary: Record<string, unknown> = { date: new Date().toISOString(), device, libtorch: native().version(), lion: L, rounds: lion };
console.log(`libtorch ${native().version()} on ${device}; best of ${opts.rounds} rounds, median of ${reps} reps each`);
if (py.length) {
  const P = best(py);
  summary.python = { torch: py[0]!.torch, blas: py[0]!.blas, best: P, rounds: py };
  console.log('B1 GFLOP/s            Lion     Python   ratio');
  for (const k of Object.keys(L.b1)) console.log(`  ${k.padEnd(18)} ${L.b1[k]!.toFixed(1).padStart(7)}  ${P.b1[k]!.toFixed(1).padStart(7)}   ${(L.b1[k]! / P.b1[k]!).toFixed(3)}`);
  console.log('B2 ms                 Lion     Python   ratio (Lion/Python)');
  for (const k of ['forward_ms', 'train_ms'] as const) console.log(`  ${k.padEnd(18)} ${L.b2[k].toFixed(1).padStart(7)}  ${P.b2[k].toFixed(1).padStart(7)}   ${(L.b2[k] / P.b2[k]).toFixed(3)}`);
  summary.ratios = {
    b1: Object.fromEntries(Object.keys(L.b1).map((k) => [k, L.b1[k]! / P.b1[k]!])),
    b2: { forward: L.b2.forward_ms / P.b2.forward_ms, train: L.b2.train_ms / P.b2.train_ms },
  };
} else {
  console.log(JSON.stringify(L, null, 1));
}
mkdirSync('bench/out', { recursive: true });
writeFileSync(`bench/out/engine-${device.replace(':', '')}.json`, JSON.stringify(summary, null, 1));
