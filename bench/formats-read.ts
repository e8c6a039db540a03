/**
 * Reading a large safetensors checkpoint one tensor at a time: throughput and peak RSS, to show a
 * multi-GB file is never held whole. Writes a synthetic file of N × 64 MiB BF16 tensors to a temp
 * folder (default N = 12, 768 MiB), then iterates `entries()` keeping nothing.
 * Run: node --import tsx bench/formats-read.ts [N]
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SafetensorsFile, writeSafetensors } from '../src/formats/safetensors.ts';
import type { RawTensor } from '../src/formats/raw-tensor.ts';

const n = Number(process.argv[2] ?? 12);
const MiB = 1 << 20;
const dir = mkdtempSync(join(tmpdir(), 'lion-bench-st-'));
const file = join(dir, 'model.safetensors');
const chunk = new Uint8Array(64 * MiB).fill(7);
// The same buffer under every name: writing streams tensors, so this costs 64 MiB, not n × 64.
function* tensors(): Generator<[string, RawTensor]> {
  for (let i = 0; i < n; i++) yield [`model.layers.${i}.w`, { dtype: 'BF16', shape: [8192, 4096], data: chunk }];
}
let t0 = performance.now();
writeSafetensors(file, tensors());
const writeS = (performance.now() - t0) / 1000;
const size = statSync(file).size;
const rssBefore = process.memoryUsage().rss;
let peak = rssBefore;
t0 = performance.now();
let bytes = 0;
for (const [, t] of SafetensorsFile.open(file).entries()) {
  bytes += t.data.byteLength;
  peak = Math.max(peak, process.memoryUsage().rss);
}
const readS = (performance.now() - t0) / 1000;
rmSync(dir, { recursive: true });
console.log(JSON.stringify({
  file_mib: Math.round(size / MiB), tensors: n, write_mib_s: Math.round(size / MiB / writeS), read_mib_s: Math.round(bytes / MiB / readS),
  rss_before_read_mib: Math.round(rssBefore / MiB), peak_rss_during_read_mib: Math.round(peak / MiB),
}));
