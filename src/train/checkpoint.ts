/**
 * Trainer checkpoints: everything an exact resume needs, written atomically.
 *
 *   <out>/checkpoint-<step>/trainable.safetensors   trainable parameters by name (f32, exact)
 *                           optimizer.safetensors   AdamW moments `<name>.exp_avg` / `.exp_avg_sq`
 *                           state.json              step, counters, libtorch RNG state, config
 *                           export/                 the model as users load it (PEFT adapter or HF folder)
 *   <out>/latest.json                               {"checkpoint": "checkpoint-<step>"}, replaced atomically
 *
 * A checkpoint folder is written under a temporary name and renamed when complete; latest.json is
 * replaced only after that, so a kill at any moment leaves the previous checkpoint usable.
 * @module
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { AdamW, Tensor, getRngState, noGrad, setRngState } from '../torch/index.ts';
import { readAll } from '../formats/tensor-source.ts';
import { SafetensorsFile, writeSafetensors } from '../formats/safetensors.ts';
import { writeJsonAtomic } from '../formats/file-io.ts';
import { rawToTensor, tensorToRaw } from '../model/weights.ts';

export const CHECKPOINT_FORMAT = 1;

export interface TrainerState {
  format: number;
  step: number;
  tokens: number;
  flops: number;
  seconds: number;
  /** The libtorch CPU generator state (dropout), base64. */
  rng: string;
  config: Record<string, unknown>;
}

export function latestCheckpoint(outDir: string): string | null {
  const f = path.join(outDir, 'latest.json');
  if (!existsSync(f)) return null;
  const { checkpoint } = JSON.parse(readFileSync(f, 'utf8')) as { checkpoint: string };
  const dir = path.join(outDir, checkpoint);
  if (!existsSync(path.join(dir, 'state.json'))) throw new Error(`lion: ${f} names ${checkpoint}, which is incomplete or missing; hint: delete latest.json to start over`);
  return dir;
}

export function saveCheckpoint(
  outDir: string,
  o: { params: [string, Tensor][]; optimizer: AdamW; state: Omit<TrainerState, 'format' | 'rng'>; exportTo?: (dir: string) => void; keep?: number },
): string {
  const name = `checkpoint-${o.state.step}`;
  const final = path.join(outDir, name);
  const tmp = path.join(outDir, `.${name}.${process.pid}.tmp`);
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  writeSafetensors(path.join(tmp, 'trainable.safetensors'), o.params.map(([n, t]) => [n, tensorToRaw(t)] as const));
  const moments = o.optimizer.stateDict();
  const opt: [string, ReturnType<typeof tensorToRaw>][] = [];
  const steps: Record<string, string> = {};
  moments.forEach((m, i) => {
    if (!m) return;
    const n = o.params[i]![0];
    opt.push([`${n}.exp_avg`, tensorToRaw(m.expAvg)], [`${n}.exp_avg_sq`, tensorToRaw(m.expAvgSq)]);
    steps[n] = String(m.step);
    m.expAvg.dispose();
    m.expAvgSq.dispose();
  });
  writeSafetensors(path.join(tmp, 'optimizer.safetensors'), opt, { metadata: steps });
  const rngT = getRngState();
  const rng = Buffer.from((rngT.toArray() as Uint8Array).buffer).toString('base64');
  rngT.dispose();
  writeJsonAtomic(path.join(tmp, 'state.json'), { format: CHECKPOINT_FORMAT, rng, ...o.state } satisfies TrainerState);
  if (o.exportTo) o.exportTo(path.join(tmp, 'export'));
  rmSync(final, { recursive: true, force: true });
  renameSync(tmp, final);
  writeJsonAtomic(path.join(outDir, 'latest.json'), { checkpoint: name });
  // Keep the newest `keep` checkpoints.
  const all = readdirSync(outDir).filter((d) => /^checkpoint-\d+$/.test(d)).sort((a, b) => Number(b.slice(11)) - Number(a.slice(11)));
  for (const old of all.slice(o.keep ?? 2)) rmSync(path.join(outDir, old), { recursive: true, force: true });
  return final;
}

/** Restores parameters, optimizer moments and the RNG from `dir`; returns the saved state. */
export function loadCheckpoint(dir: string, o: { params: [string, Tensor][]; optimizer: AdamW }): TrainerState {
  const state = JSON.parse(readFileSync(path.join(dir, 'state.json'), 'utf8')) as TrainerState;
  if (state.format !== CHECKPOINT_FORMAT) throw new Error(`lion: ${dir}/state.json has checkpoint format ${state.format}; this Lion reads format ${CHECKPOINT_FORMAT}`);
  const weights = readAll(SafetensorsFile.open(path.join(dir, 'trainable.safetensors')));
  noGrad(() => {
    for (const [n, p] of o.params) {
      const raw = weights.get(n);
      if (!raw) throw new Error(`lion: ${dir}/trainable.safetensors has no '${n}'; was it written by another configuration?`);
      const t = rawToTensor(raw, n, p.dtype);
      p.copy_(t);
      t.dispose();
    }
  });
  const optFile = SafetensorsFile.open(path.join(dir, 'optimizer.safetensors'));
  const meta = optFile.metadata ?? {};
  const moments = readAll(optFile);
  const state2 = o.params.map(([n]) => {
    const m = moments.get(`${n}.exp_avg`);
    const v = moments.get(`${n}.exp_avg_sq`);
    if (!m || !v) return null;
    return { step: Number(meta[n]), expAvg: rawToTensor(m, n), expAvgSq: rawToTensor(v, n) };
  });
  o.optimizer.loadStateDict(state2);
  for (const s of state2) {
    s?.expAvg.dispose();
    s?.expAvgSq.dispose();
  }
  const bytes = Buffer.from(state.rng, 'base64');
  const rngT = Tensor.from(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), [bytes.byteLength], 'u8');
  setRngState(rngT);
  rngT.dispose();
  return state;
}
