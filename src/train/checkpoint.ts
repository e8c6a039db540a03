/**
 * Trainer checkpoints: everything an exact resume needs, written atomically.
 *
 *   <out>/checkpoint-<step>/trainable.safetensors   trainable parameters by name (f32, exact)
 *                           optimizer.safetensors   AdamW moments `<name>.exp_avg` / `.exp_avg_sq`
 *                           state.json              step, counters, libtorch RNG state, config, and the
 *                                                   size and sha256 of every other file of the checkpoint
 *                           export/                 the model as users load it (PEFT adapter or HF folder)
 *   <out>/latest.json                               {"checkpoint": "checkpoint-<step>"}, replaced atomically
 *   <out>/final/                                    the finished run's export, one stable folder to name
 *
 * A checkpoint folder is written under a temporary name and renamed when complete; latest.json is
 * replaced only after that, so a kill at any moment leaves the previous checkpoint usable. state.json
 * carries its own checksum and every file's, all verified before a resume uses any of them.
 * @module
 */
import { cpSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, readdirSync, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { AdamW, Tensor, getRngState, noGrad, setRngState, type Device } from '../torch/index.ts';
import { readAll } from '../formats/tensor-source.ts';
import { SafetensorsFile, writeSafetensors } from '../formats/safetensors.ts';
import { replaceDir, sweepStaleTempsIn, tempPath, trackTemp, writeJsonAtomic } from '../formats/file-io.ts';
import { fileSha256 } from '../formats/identity.ts';
import { rawToTensor, tensorToRaw } from '../model/weights.ts';

/** 2: state.json carries checksums (format 1 had none and cannot be verified). */
export const CHECKPOINT_FORMAT = 2;

export interface TrainerState {
  format: number;
  step: number;
  tokens: number;
  flops: number;
  seconds: number;
  /** The libtorch CPU generator state (dropout), base64. */
  rng: string;
  /** The training device's generator state (dropout on a GPU), base64, when it is not the CPU. */
  deviceRng?: { device: string; state: string };
  /** On N data-parallel ranks: every rank's CPU generator state, base64 in rank order (rng is rank 0's). */
  rankRng?: string[];
  config: Record<string, unknown>;
  /** Size and sha256 of every other file in the checkpoint folder, by path relative to it. */
  files?: Record<string, { bytes: number; sha256: string }>;
  /** sha256 of this JSON without the `checksum` field. */
  checksum?: string;
}

function stateChecksum(s: TrainerState): string {
  const { checksum: _, ...rest } = s;
  return createHash('sha256').update(JSON.stringify(rest)).digest('hex');
}

function listFiles(dir: string, prefix = ''): string[] {
  const out: string[] = [];
  for (const n of readdirSync(path.join(dir, prefix)).sort()) {
    const rel = prefix ? `${prefix}/${n}` : n;
    if (statSync(path.join(dir, rel)).isDirectory()) out.push(...listFiles(dir, rel));
    else out.push(rel);
  }
  return out;
}

function corrupt(file: string, problem: string, outDir: string): Error {
  return new Error(
    `lion: checkpoint file '${file}' ${problem}; hint: delete that checkpoint folder to resume from the one before (kept beside it), or start over with a new --output than '${outDir}'`,
  );
}

export function latestCheckpoint(outDir: string): string | null {
  sweepStaleTempsIn(outDir);
  const f = path.join(outDir, 'latest.json');
  if (!existsSync(f)) return null;
  let checkpoint: unknown;
  try {
    ({ checkpoint } = JSON.parse(readFileSync(f, 'utf8')) as { checkpoint: unknown });
  } catch (e) {
    throw new Error(
      `lion: '${f}' is truncated or not JSON (${(e as Error).message}); hint: write {"checkpoint": "checkpoint-N"} naming the newest complete checkpoint folder, or delete it to start over`,
      { cause: e },
    );
  }
  if (typeof checkpoint !== 'string' || !/^checkpoint-\d+$/.test(checkpoint))
    throw new Error(
      `lion: '${f}' does not name a checkpoint folder (got ${JSON.stringify(checkpoint)}); hint: write {"checkpoint": "checkpoint-N"}, or delete it to start over`,
    );
  const dir = path.join(outDir, checkpoint);
  if (!existsSync(path.join(dir, 'state.json')))
    throw new Error(
      `lion: ${f} names ${checkpoint}, which is incomplete or missing; hint: delete latest.json to start over`,
    );
  return dir;
}

/** Reads and verifies `dir/state.json` (its own checksum and format); the other files are checked by verifyCheckpoint. */
export function readCheckpointState(dir: string): TrainerState {
  const f = path.join(dir, 'state.json');
  const outDir = path.dirname(dir);
  let state: TrainerState;
  try {
    state = JSON.parse(readFileSync(f, 'utf8')) as TrainerState;
  } catch (e) {
    throw corrupt(f, `is truncated or not JSON (${(e as Error).message})`, outDir);
  }
  if (state.format !== CHECKPOINT_FORMAT)
    throw new Error(
      `lion: ${f} has checkpoint format ${String(state.format)}; this Lion reads format ${CHECKPOINT_FORMAT} (checksummed); hint: start over with a new --output folder`,
    );
  if (typeof state.checksum !== 'string' || state.checksum !== stateChecksum(state))
    throw corrupt(f, 'fails its checksum: it was corrupted or edited', outDir);
  return state;
}

/** Checks every file a checkpoint's state.json lists against its recorded size and sha256. */
export function verifyCheckpoint(dir: string, state: TrainerState): void {
  const outDir = path.dirname(dir);
  for (const [rel, e] of Object.entries(state.files ?? {})) {
    const f = path.join(dir, rel);
    if (!existsSync(f)) throw corrupt(f, 'is missing', outDir);
    const bytes = statSync(f).size;
    if (bytes !== e.bytes)
      throw corrupt(f, `has ${bytes} bytes, its state.json says ${e.bytes}: it was truncated or changed`, outDir);
    const got = fileSha256(f);
    if (got !== e.sha256)
      throw corrupt(
        f,
        `fails its checksum (sha256 ${got.slice(0, 16)}…, recorded ${e.sha256.slice(0, 16)}…): it is corrupted`,
        outDir,
      );
  }
  for (const need of ['trainable.safetensors', 'optimizer.safetensors'])
    if (!state.files?.[need]) throw corrupt(path.join(dir, 'state.json'), `lists no checksum for ${need}`, outDir);
}

export function saveCheckpoint(
  outDir: string,
  o: {
    params: [string, Tensor][];
    optimizer: AdamW;
    state: Omit<TrainerState, 'format' | 'rng' | 'deviceRng'>;
    exportTo?: (dir: string) => void;
    keep?: number;
    /** The training device: its generator state is saved beside the CPU's. */
    device?: Device;
  },
): string {
  const name = `checkpoint-${o.state.step}`;
  const final = path.join(outDir, name);
  mkdirSync(outDir, { recursive: true });
  const tmp = tempPath(final);
  const untrack = trackTemp(tmp);
  mkdirSync(tmp);
  try {
    writeSafetensors(
      path.join(tmp, 'trainable.safetensors'),
      o.params.map(([n, t]) => [n, tensorToRaw(t)] as const),
    );
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
    const rng = rngBase64('cpu');
    const deviceRng = o.device && o.device !== 'cpu' ? { device: o.device, state: rngBase64(o.device) } : undefined;
    if (o.exportTo) o.exportTo(path.join(tmp, 'export'));
    const files = Object.fromEntries(
      listFiles(tmp).map((rel) => [
        rel,
        { bytes: statSync(path.join(tmp, rel)).size, sha256: fileSha256(path.join(tmp, rel)) },
      ]),
    );
    const state: TrainerState = { format: CHECKPOINT_FORMAT, rng, ...(deviceRng ? { deviceRng } : {}), ...o.state, files };
    writeJsonAtomic(path.join(tmp, 'state.json'), { ...state, checksum: stateChecksum(state) } satisfies TrainerState);
    rmSync(final, { recursive: true, force: true });
    renameSync(tmp, final);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  } finally {
    untrack();
  }
  writeJsonAtomic(path.join(outDir, 'latest.json'), { checkpoint: name });
  // Keep the newest `keep` checkpoints.
  const all = readdirSync(outDir)
    .filter((d) => /^checkpoint-\d+$/.test(d))
    .sort((a, b) => Number(b.slice(11)) - Number(a.slice(11)));
  for (const old of all.slice(o.keep ?? 2)) rmSync(path.join(outDir, old), { recursive: true, force: true });
  return final;
}

/** Restores parameters, optimizer moments and the RNG from `dir`; returns the saved state. */
export function loadCheckpoint(dir: string, o: { params: [string, Tensor][]; optimizer: AdamW }): TrainerState {
  const state = readCheckpointState(dir);
  verifyCheckpoint(dir, state);
  const weights = readAll(SafetensorsFile.open(path.join(dir, 'trainable.safetensors')));
  noGrad(() => {
    for (const [n, p] of o.params) {
      const raw = weights.get(n);
      if (!raw)
        throw new Error(`lion: ${dir}/trainable.safetensors has no '${n}'; was it written by another configuration?`);
      const t = rawToTensor(raw, n, { dtype: p.dtype, device: p.device });
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
  restoreRng(state.rng, 'cpu');
  if (state.deviceRng) restoreRng(state.deviceRng.state, state.deviceRng.device as Device);
  return state;
}

function rngBase64(device: Device): string {
  const t = getRngState(device);
  const bytes = t.toArray() as Uint8Array;
  t.dispose();
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

function restoreRng(base64: string, device: Device): void {
  const bytes = Buffer.from(base64, 'base64');
  const t = Tensor.from(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), [bytes.byteLength], 'u8');
  setRngState(t, device);
  t.dispose();
}

/** The folder the finished model is exported to: `<out>/final/`. */
export const FINAL_DIR = 'final';

/**
 * Copies the latest checkpoint's export to `<out>/final/`, replacing an earlier one atomically, so that
 * later commands name one folder whatever the step count or the number of checkpoints kept. Returns
 * the folder, or null when the run has no checkpoint or its checkpoints have no export.
 */
export function writeFinalExport(outDir: string): string | null {
  const latest = latestCheckpoint(outDir);
  if (!latest || !existsSync(path.join(latest, 'export'))) return null;
  const final = path.join(outDir, FINAL_DIR);
  const tmp = tempPath(final);
  const untrack = trackTemp(tmp);
  try {
    cpSync(path.join(latest, 'export'), tmp, { recursive: true });
    replaceDir(tmp, final);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  } finally {
    untrack();
  }
  return final;
}
