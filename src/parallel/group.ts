/**
 * The data-parallel process group: libtorch's c10d (a TCPStore rendezvous, ProcessGroupGloo on CPU,
 * ProcessGroupNCCL on CUDA) through the addon, or a one-rank group when the process runs alone.
 *
 * A process is a rank when torchrun's variables are set (WORLD_SIZE > 1, RANK, LOCAL_RANK, MASTER_ADDR,
 * MASTER_PORT): `lion … --nproc N` sets them for the ranks it spawns, and any cluster launcher
 * (torchrun --no-python, Slurm with the variables mapped) can set them for ranks on several machines.
 * @module
 */
import { Tensor, native, type Device } from '../torch/index.ts';

export type Backend = 'gloo' | 'nccl';
export type ReduceOp = 'sum' | 'max' | 'min';

/** The addon's c10d functions (native/src/dist.cc). */
interface DistNative {
  distInit(o: { backend: Backend; rank: number; worldSize: number; masterAddr: string; masterPort: number; timeoutMs: number; storeIsClient?: boolean; interface?: string; hostname?: string }): void;
  distDestroy(): void;
  distAllReduce(ts: number[], op: ReduceOp): void;
  distAllReduceGrads(params: number[]): void;
  distAllGather(t: number): number;
  distBroadcast(ts: number[], root: number): void;
  distBarrier(): void;
  dieWithParent(parentPid: number): boolean;
  distBackends?: string;
}

function dist(): DistNative {
  const n = native() as unknown as Partial<DistNative>;
  if (typeof n.distInit !== 'function') throw new Error("lion: this libtorch addon has no c10d collectives; hint: rebuild it ('npm run build:native') after installing libgloo-dev");
  return n as DistNative;
}

/** Seconds spent inside collectives, by kind (the loop logs them per step). */
export interface CommTime {
  allReduce: number;
  allGather: number;
}

/** A set of ranks that train one model together. Every collective must be called by every rank. */
export interface Group {
  readonly rank: number;
  readonly size: number;
  readonly backend: Backend | 'none';
  /** Sums every parameter's gradient over the ranks, in place. */
  allReduceGrads(params: readonly Tensor[]): void;
  /** Reduces tensors over the ranks, in place. */
  allReduce(ts: readonly Tensor[], op?: ReduceOp): void;
  /** Every rank's `t` (same shape on every rank) concatenated along dim 0 in rank order; no gradient. */
  allGather(t: Tensor): Tensor;
  /** Makes every rank's tensors equal root's, in place. */
  broadcast(ts: readonly Tensor[], root: number): void;
  barrier(): void;
  /** Time spent in collectives since the last call (and resets it). */
  takeCommTime(): CommTime;
}

/** The group of a process that trains alone: every collective is the identity. */
export const SOLO: Group = {
  rank: 0,
  size: 1,
  backend: 'none',
  allReduceGrads: () => {},
  allReduce: () => {},
  allGather: (t) => t.clone(),
  broadcast: () => {},
  barrier: () => {},
  takeCommTime: () => ({ allReduce: 0, allGather: 0 }),
};

/** Gloo for CPU tensors, NCCL for CUDA ones (what torch.distributed users pick). */
export function backendFor(device: Device | string): Backend {
  return device.startsWith('cuda') ? 'nccl' : 'gloo';
}

/** The device a rank computes on: each local rank takes its own GPU when the device is plain 'cuda'. */
export function rankDevice(device: Device, localRank: number): Device {
  return device === 'cuda' ? `cuda:${localRank}` : device;
}

/** torchrun's variables, checked. */
export interface RankEnv {
  rank: number;
  localRank: number;
  worldSize: number;
  masterAddr: string;
  masterPort: number;
}

function envInt(env: NodeJS.ProcessEnv, name: string, min: number): number {
  const v = env[name];
  const n = Number(v);
  if (v === undefined || v.trim() === '' || !Number.isInteger(n) || n < min)
    throw new Error(`lion: the environment variable ${name} must be an integer >= ${min}, got '${v ?? ''}'; hint: a rank needs WORLD_SIZE, RANK, MASTER_ADDR and MASTER_PORT (torchrun sets them)`);
  return n;
}

/** The rank this process is, or null when it runs alone (no WORLD_SIZE, or WORLD_SIZE=1). */
export function rankEnv(env: NodeJS.ProcessEnv = process.env): RankEnv | null {
  if (env.WORLD_SIZE === undefined || env.WORLD_SIZE === '1') return null;
  const worldSize = envInt(env, 'WORLD_SIZE', 1);
  const rank = envInt(env, 'RANK', 0);
  if (rank >= worldSize) throw new Error(`lion: RANK=${rank} is not below WORLD_SIZE=${worldSize}`);
  const localRank = env.LOCAL_RANK === undefined ? rank : envInt(env, 'LOCAL_RANK', 0);
  const masterAddr = env.MASTER_ADDR;
  if (!masterAddr) throw new Error('lion: MASTER_ADDR is not set; hint: the address of the machine that runs rank 0');
  return { rank, localRank, worldSize, masterAddr, masterPort: envInt(env, 'MASTER_PORT', 1) };
}

class C10dGroup implements Group {
  #comm: CommTime = { allReduce: 0, allGather: 0 };
  constructor(readonly rank: number, readonly size: number, readonly backend: Backend) {}
  #timed<T>(kind: keyof CommTime, f: () => T): T {
    const t0 = performance.now();
    try {
      return f();
    } finally {
      this.#comm[kind] += (performance.now() - t0) / 1000;
    }
  }
  allReduceGrads(params: readonly Tensor[]): void {
    this.#timed('allReduce', () => dist().distAllReduceGrads(params.map((p) => p.handle)));
  }
  allReduce(ts: readonly Tensor[], op: ReduceOp = 'sum'): void {
    this.#timed('allReduce', () => dist().distAllReduce(ts.map((t) => t.handle), op));
  }
  allGather(t: Tensor): Tensor {
    return this.#timed('allGather', () => new Tensor(dist().distAllGather(t.handle)));
  }
  broadcast(ts: readonly Tensor[], root: number): void {
    dist().distBroadcast(ts.map((t) => t.handle), root);
  }
  barrier(): void {
    dist().distBarrier();
  }
  takeCommTime(): CommTime {
    const c = this.#comm;
    this.#comm = { allReduce: 0, allGather: 0 };
    return c;
  }
}

let joined: Group | null = null;

/**
 * This process's group: joins c10d once when the environment names a rank (the collectives run on
 * `device`'s backend), else the one-rank group. Ranks spawned by `--nproc` die with their launcher.
 */
export function joinGroup(device: Device | string = 'cpu', env: NodeJS.ProcessEnv = process.env): Group {
  if (joined) return joined;
  const r = rankEnv(env);
  if (!r) return (joined = SOLO);
  const d = dist();
  const parent = Number(env.LION_PARENT_PID);
  if (Number.isInteger(parent) && parent > 0 && !d.dieWithParent(parent)) throw new Error('lion: the launcher of this rank has exited');
  const backend = backendFor(device);
  const timeout = Number(env.LION_DIST_TIMEOUT ?? 1800);
  d.distInit({
    backend,
    rank: r.rank,
    worldSize: r.worldSize,
    masterAddr: r.masterAddr,
    masterPort: r.masterPort,
    timeoutMs: Math.round((Number.isFinite(timeout) && timeout > 0 ? timeout : 1800) * 1000),
    // torchrun's agent hosts the store itself when it says so; then rank 0 connects as a client.
    storeIsClient: /^(1|true)$/i.test(env.TORCH_ELASTIC_USE_AGENT_STORE ?? ''),
    // Gloo's transport: PyTorch's GLOO_SOCKET_IFNAME, else the loopback for local ranks, else this host.
    interface: env.GLOO_SOCKET_IFNAME?.split(',')[0],
    hostname: env.GLOO_SOCKET_IFNAME ? undefined : isLoopback(r.masterAddr) ? '127.0.0.1' : undefined,
  });
  return (joined = new C10dGroup(r.rank, r.worldSize, backend));
}

function isLoopback(addr: string): boolean {
  return addr === 'localhost' || addr.startsWith('127.') || addr === '::1';
}

/**
 * The rows [rank·b, (rank+1)·b) of a global batch of `total` rows, b = total / size: the share of one
 * rank, in the order one process would read the batch. The batch must split evenly.
 */
export function shareOf(group: Pick<Group, 'rank' | 'size'>, total: number, what = 'batch'): { start: number; count: number } {
  if (total % group.size !== 0) throw new Error(`lion: the ${what} of ${total} does not split evenly over ${group.size} ranks; hint: make --batch-size a multiple of --nproc`);
  const count = total / group.size;
  return { start: group.rank * count, count };
}

/**
 * The all-gathered batch with this rank's rows carrying the gradient (the authors' gather): the
 * gathered tensor is a constant, and the local slice of it is replaced by `local` itself, so the
 * backward pass reaches this rank's encoder and no other.
 */
export function gatherWithGrad(group: Group, local: Tensor): Tensor {
  if (group.size === 1) return local;
  const all = group.allGather(local);
  const b = local.size(0);
  const parts: Tensor[] = [];
  if (group.rank > 0) parts.push(all.narrow(0, 0, group.rank * b));
  parts.push(local);
  if (group.rank < group.size - 1) parts.push(all.narrow(0, (group.rank + 1) * b, (group.size - 1 - group.rank) * b));
  return Tensor.cat(parts, 0);
}
