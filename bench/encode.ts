/**
 * Encoding throughput: a 4-layer d=512 Llama (8 heads, SwiGLU 1408) with the Llama-3 vocabulary
 * (128,256, tied head), batch 32 × 192 tokens, bidirectional; sparse and dense heads. Reports tokens/s
 * and peak RSS per paradigm (each in its own process, so peaks do not mix).
 * Usage: node --import tsx bench/encode.ts [--batches N]   (writes bench/out/encode.json)
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync, existsSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';

const { values: opts } = parseArgs({ options: { batches: { type: 'string', default: '4' }, child: { type: 'string' }, model: { type: 'string', default: 'bench/out/model-4x512-llama3' } } });

async function child(paradigm: 'sparse' | 'dense'): Promise<void> {
  const { loadBackbone } = await import('../src/model/backbone.ts');
  const { Tensor, noGrad, tidy } = await import('../src/torch/index.ts');
  const { sparseHead, denseHead } = await import('../src/model/heads.ts');
  const b = loadBackbone({ model: opts.model!, paradigm });
  const [B, T] = [32, 192];
  const run = (): void =>
    noGrad(() =>
      tidy(() => {
        const ids = Tensor.randint(1000, 100000, [B, T]);
        const mask = Tensor.ones([B, T], 'i64');
        const h = b.model.model.forward(ids, mask, 'bidirectional');
        void (paradigm === 'sparse' ? sparseHead(h, mask, b.model.lmHeadWeight) : denseHead(h, mask)).toFloat32Array();
      }),
    );
  run(); // warm-up
  const n = Number(opts.batches);
  const t0 = performance.now();
  for (let i = 0; i < n; i++) run();
  const secs = (performance.now() - t0) / 1000;
  const status = readFileSync('/proc/self/status', 'utf8');
  const peak = Number(/VmHWM:\s+(\d+)/.exec(status)![1]) * 1024;
  console.log(JSON.stringify({ paradigm, tokensPerSec: (n * B * T) / secs, msPerBatch: (secs * 1000) / n, peakRssMiB: peak / 2 ** 20 }));
}

if (opts.child) {
  await child(opts.child as 'sparse' | 'dense');
} else {
  if (!existsSync(opts.model!)) {
    execFileSync(fileURLToPath(new URL('../bin/lion.js', import.meta.url)), ['make-model', '--output', opts.model!, '--hidden', '512', '--layers', '4', '--heads', '8', '--intermediate', '1408', '--tokenizer', 'llama3'], { stdio: 'inherit' });
  }
  const results = (['dense', 'sparse'] as const).map((p) =>
    JSON.parse(execFileSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--child', p, '--batches', opts.batches!, '--model', opts.model!], { encoding: 'utf8' }).trim().split('\n').pop()!),
  );
  for (const r of results) console.log(`${r.paradigm.padEnd(7)} ${r.tokensPerSec.toFixed(0).padStart(7)} tokens/s  ${r.msPerBatch.toFixed(0)} ms per 32×192 batch  peak RSS ${r.peakRssMiB.toFixed(0)} MiB`);
  mkdirSync('bench/out', { recursive: true });
  writeFileSync('bench/out/encode.json', JSON.stringify({ date: new Date().toISOString(), model: '4 layers, d 512, 8 heads, ffn 1408, vocab 128256 tied', batch: [32, 192], results }, null, 1));
}
