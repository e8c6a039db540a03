/**
 * What the training loop does differently on N ranks (src/parallel/group.ts), in one place: rank 0's
 * weights everywhere at the start, gradients summed before clipping and AdamW, step totals summed,
 * stop decisions agreed, every rank's dropout generator saved and restored, and rank 0 alone writing.
 *
 * Tasks make the sum exact: their losses are built so that the ranks' gradients add up to the
 * gradient of the single-process loss on the whole global batch (see MicroResult.replicated).
 * @module
 */
import { Tensor, getRngState, manualSeed, setRngState } from '../torch/index.ts';
import { SOLO, type Group } from '../parallel/group.ts';
import { mixSeed } from '../util/random.ts';

export class DataParallel {
  constructor(readonly group: Group = SOLO) {}

  get size(): number {
    return this.group.size;
  }

  /** Rank 0 writes logs, checkpoints and exports; the others only compute. */
  get writer(): boolean {
    return this.group.rank === 0;
  }

  /**
   * Before the first step: every rank starts from rank 0's weights, and at a fresh start each rank
   * draws its own dropout masks (a resume restores each rank's saved generator instead).
   */
  start(params: readonly Tensor[], o: { seed: number; resumed: boolean }): void {
    if (this.size === 1) return;
    this.group.broadcast(params, 0);
    if (!o.resumed) manualSeed(mixSeed(o.seed, 0xd15, this.group.rank));
  }

  /** Sums the gradients of the ranks (each holds its share of the global batch's gradient). */
  reduceGrads(params: readonly Tensor[]): void {
    if (this.size > 1) this.group.allReduceGrads(params);
  }

  /** Sums per-rank numbers over the ranks (f64, so token and FLOP counts stay exact). */
  sum(values: readonly number[]): number[] {
    if (this.size === 1) return [...values];
    const t = Tensor.from(Float64Array.from(values), [values.length], 'f64');
    this.group.allReduce([t], 'sum');
    const out = Array.from(t.toArray() as Float64Array);
    t.dispose();
    return out;
  }

  /** True on every rank when it is true on any (a stop that one rank's clock decided). */
  any(flag: boolean): boolean {
    return this.size === 1 ? flag : this.sum([flag ? 1 : 0])[0]! > 0;
  }

  /** Checks that every rank resumed from the same step (each reads the run folder itself). */
  agreeOnStep(step: number, outDir: string): void {
    if (this.size === 1) return;
    const [total] = this.sum([step]);
    if (total !== step * this.size)
      throw new Error(`lion: the ranks found different checkpoints in '${outDir}' (this rank: step ${step}); hint: the run folder must be one shared folder that every machine sees`);
  }

  /** Every rank's CPU generator state, base64 in rank order (a collective: all ranks call it). */
  rngStates(): string[] | undefined {
    if (this.size === 1) return undefined;
    const mine = getRngState('cpu');
    const all = this.group.allGather(mine);
    const bytes = all.toArray() as Uint8Array;
    const n = mine.size(0);
    mine.dispose();
    all.dispose();
    return Array.from({ length: this.size }, (_, r) => Buffer.from(bytes.buffer, bytes.byteOffset + r * n, n).toString('base64'));
  }

  /**
   * After a resume: this rank's own generator. A run resumed with another number of ranks cannot
   * restore them; each rank then reseeds from (seed, step, rank), still deterministically.
   */
  restoreRng(states: readonly string[] | undefined, o: { seed: number; step: number }): void {
    if (states ? states.length === this.size : this.size === 1) {
      if (!states || this.group.rank === 0) return; // loadCheckpoint restored rank 0's state already
      const b = Buffer.from(states[this.group.rank]!, 'base64');
      const t = Tensor.from(new Uint8Array(b.buffer, b.byteOffset, b.byteLength), [b.byteLength], 'u8');
      setRngState(t, 'cpu');
      t.dispose();
      return;
    }
    manualSeed(mixSeed(o.seed, 0xd15, o.step, this.group.rank));
  }
}
