/**
 * Optional cross-check of Lion's torch `.bin` reader and writer against real PyTorch (not a test:
 * CI machines need not have Python torch). Both directions:
 *   1. Lion writes a state dict (every dtype, odd shapes), `torch.load` reads it, values compared;
 *   2. `torch.save` writes views, shared storages, parameters and every dtype, Lion reads them.
 * Run: node --import tsx scripts/torch-bin-crosscheck.ts   (LION_PYTHON picks the interpreter)
 * Exits 0 with "skipped" when no Python with torch is found, 1 on any mismatch.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RAW_DTYPES, rawFromNumbers, rawToNumbers, type RawDType, type RawTensor } from '../src/formats/raw-tensor.ts';
import { TorchBinFile, writeTorchStateDict } from '../src/formats/torch-bin.ts';
import { readPeftAdapter, writePeftAdapter, parseLoraConfig } from '../src/formats/peft.ts';

const candidates = [process.env.LION_PYTHON, 'python3', '/usr/bin/python3'].filter((p): p is string => p !== undefined && p !== '');
const python = candidates.find((p) => {
  try {
    execFileSync(p, ['-c', 'import torch'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
});
if (python === undefined) {
  console.log(`skipped: none of ${candidates.join(', ')} can import torch`);
  process.exit(0);
}
const py = (code: string): string => execFileSync(python, ['-c', code], { encoding: 'utf8', maxBuffer: 1 << 26 });
console.log(`python: ${python}, torch ${py('import torch; print(torch.__version__)').trim()}`);

const dir = mkdtempSync(join(tmpdir(), 'lion-xcheck-'));
let failures = 0;
const check = (what: string, ok: boolean, detail = ''): void => {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}${detail === '' ? '' : `: ${detail}`}`);
  if (!ok) failures++;
};
const TORCH_DTYPE: Record<RawDType, string> = {
  F32: 'torch.float32', F16: 'torch.float16', BF16: 'torch.bfloat16', F64: 'torch.float64', I64: 'torch.int64',
  I32: 'torch.int32', I16: 'torch.int16', I8: 'torch.int8', U8: 'torch.uint8', BOOL: 'torch.bool',
};

// 1. Lion writes, torch reads.
const ours = new Map<string, RawTensor>();
RAW_DTYPES.forEach((d, k) => {
  const shape = [3, k + 2];
  const n = shape[0]! * shape[1]!;
  const vals = Array.from({ length: n }, (_, i) => {
    if (d === 'BOOL') return i % 2;
    if (d === 'U8') return (i * 37) % 256;
    if (d.startsWith('I')) return (i * 37 - 50) * (d === 'I8' ? 1 : 1000);
    return Math.sin(i + k) * 100;
  });
  if (d === 'F32' || d === 'F16' || d === 'BF16' || d === 'F64') ours.set(`w.${d}`, rawFromNumbers(vals, shape, d));
  else {
    const bytes = { I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1 }[d];
    const data = new Uint8Array(n * bytes);
    const v = new DataView(data.buffer);
    vals.forEach((x, i) => {
      if (d === 'I64') v.setBigInt64(i * 8, BigInt(x), true);
      else if (d === 'I32') v.setInt32(i * 4, x, true);
      else if (d === 'I16') v.setInt16(i * 2, x, true);
      else if (d === 'I8') v.setInt8(i, Math.max(-128, Math.min(127, x)));
      else v.setUint8(i, x);
    });
    ours.set(`w.${d}`, { dtype: d, shape, data });
  }
});
ours.set('scalar', rawFromNumbers([2.5], [], 'F32'));
ours.set('empty', rawFromNumbers([], [0, 3], 'F32'));
const oursFile = join(dir, 'ours.bin');
writeTorchStateDict(oursFile, ours);
const loaded = JSON.parse(py(`
import json, torch
d = torch.load(${JSON.stringify(oursFile)})
print(json.dumps({k: {"dtype": str(v.dtype), "shape": list(v.shape), "values": v.double().flatten().tolist()} for k, v in d.items()}))
`)) as Record<string, { dtype: string; shape: number[]; values: number[] }>;
check('torch.load reads every tensor Lion wrote, in order', JSON.stringify(Object.keys(loaded)) === JSON.stringify([...ours.keys()]));
for (const [k, t] of ours) {
  const got = loaded[k];
  const want = Array.from(rawToNumbers(t));
  check(`torch.load ${k}`, got !== undefined && got.dtype === TORCH_DTYPE[t.dtype] && JSON.stringify(got.shape) === JSON.stringify(t.shape) && JSON.stringify(got.values) === JSON.stringify(want), got === undefined ? 'missing' : `${got.dtype} ${JSON.stringify(got.shape)}`);
}

// 2. torch writes, Lion reads.
const theirsFile = join(dir, 'theirs.bin');
const expected = JSON.parse(py(`
import json, torch
torch.manual_seed(0)
base = torch.randn(5, 7)
shared = torch.arange(40, dtype=torch.float64)
sd = {
  "t": base.t(), "slice": base[1:4, 2:6], "step": base[:, ::3], "shared": shared, "shared_view": shared[10:20].view(2, 5),
  "param": torch.nn.Parameter(torch.randn(3, 4)), "bf16": torch.randn(33).to(torch.bfloat16), "f16": torch.randn(2, 9).half(),
  "i64": torch.randint(-2**40, 2**40, (6,)), "i32": torch.randint(-2**30, 2**30, (5,), dtype=torch.int32),
  "i16": torch.randint(-30000, 30000, (4,), dtype=torch.int16), "i8": torch.randint(-128, 127, (4,), dtype=torch.int8),
  "u8": torch.randint(0, 255, (4,), dtype=torch.uint8), "bool": torch.rand(7) > 0.5, "scalar": torch.tensor(1.25), "big": torch.randn(300, 70),
}
torch.save(sd, ${JSON.stringify(theirsFile)})
print(json.dumps({k: {"shape": list(v.shape), "values": v.detach().double().flatten().tolist()} for k, v in sd.items()}))
`)) as Record<string, { shape: number[]; values: number[] }>;
const theirs = TorchBinFile.open(theirsFile);
check('Lion reads every tensor torch.save wrote, in order', JSON.stringify(theirs.names()) === JSON.stringify(Object.keys(expected)));
for (const [k, want] of Object.entries(expected)) {
  const t = theirs.read(k);
  const got = Array.from(rawToNumbers(t));
  const close = got.length === want.values.length && got.every((x, i) => x === want.values[i] || Math.abs(x - want.values[i]!) <= 1e-12 * Math.abs(want.values[i]!));
  check(`Lion reads ${k} (${t.dtype})`, JSON.stringify(t.shape) === JSON.stringify(want.shape) && close);
}

// 3. PEFT adapter_model.bin both ways (dense layout as torch would hold it).
const adapterDir = join(dir, 'adapter');
const config = parseLoraConfig({ r: 2, lora_alpha: 4, target_modules: ['q_proj'], peft_type: 'LORA' }, 'adapter_config.json');
const modules = new Map([['model.layers.0.self_attn.q_proj', { A: rawFromNumbers([1, 2, 3, 4, 5, 6, 7, 8], [2, 4], 'BF16'), B: rawFromNumbers([1, -1, 2, -2], [2, 2], 'BF16') }]]);
writePeftAdapter(adapterDir, { config, modules, layout: 'dense' }, { format: 'bin' });
const keys = py(`import torch; d = torch.load(${JSON.stringify(join(adapterDir, 'adapter_model.bin'))}); print(sorted((k, str(v.dtype), v.float().sum().item()) for k, v in d.items()))`).trim();
check('torch.load reads Lion\'s adapter_model.bin', keys === "[('base_model.model.layers.0.self_attn.q_proj.lora_A.weight', 'torch.bfloat16', 36.0), ('base_model.model.layers.0.self_attn.q_proj.lora_B.weight', 'torch.bfloat16', 0.0)]", keys);
py(`
import torch
from collections import OrderedDict
sd = OrderedDict()
sd["base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight"] = torch.ones(2, 4)
sd["base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight"] = torch.full((2, 2), 3.0)
torch.save(sd, ${JSON.stringify(join(adapterDir, 'adapter_model.bin'))})
`);
const back = readPeftAdapter(adapterDir);
const pair = back.modules.get('model.layers.0.self_attn.q_proj');
check('Lion reads a torch.save\'d sparse-layout adapter', back.layout === 'sparse' && pair !== undefined && rawToNumbers(pair.B).every((x) => x === 3));

rmSync(dir, { recursive: true });
console.log(failures === 0 ? 'all cross-checks passed' : `${failures} cross-check(s) failed`);
process.exit(failures === 0 ? 0 : 1);
