/**
 * Gradient cache (Gao et al., 2021): a contrastive batch far larger than one forward pass fits in
 * memory. Representations are first computed chunk by chunk without grad and stand in the loss as
 * leaves; the loss's gradient with respect to them is taken on the whole batch; then each chunk is
 * encoded again with grad (same generator state, so the same dropout masks) and that slice of the
 * gradient is backpropagated into the encoder. Parameter gradients equal the uncached batch's: the
 * chain rule split at the representations. Memory holds one chunk's activations instead of the batch's.
 * @module
 */
import { Tensor, getRngState, noGrad, setRngState, tidy } from '../torch/index.ts';
import { backward as backpropagate } from '../model/checkpointing.ts';

interface Chunk {
  start: number;
  count: number;
  /** The CPU generator before the chunk was first encoded. */
  rng: Tensor;
}

interface Entry {
  leaf: Tensor;
  chunks: Chunk[];
  encode: (start: number, count: number) => Tensor;
}

export class GradCache {
  #entries: Entry[] = [];

  constructor(readonly chunk: number) {
    if (!(Number.isInteger(chunk) && chunk > 0)) throw new Error(`lion: the gradient-cache chunk must be a positive integer, got ${chunk}`);
  }

  /**
   * Encodes rows [0, n) chunk by chunk without grad (`encode(start, count)` gives rows
   * [start, start+count)); returns them as one leaf that collects the loss's gradient.
   */
  add(n: number, encode: (start: number, count: number) => Tensor): Tensor {
    const chunks: Chunk[] = [];
    const parts: Tensor[] = [];
    for (let start = 0; start < n; start += this.chunk) {
      const count = Math.min(this.chunk, n - start);
      chunks.push({ start, count, rng: getRngState('cpu').keep() });
      parts.push(noGrad(() => encode(start, count)));
    }
    const leaf = noGrad(() => (parts.length === 1 ? parts[0]! : Tensor.cat(parts, 0))).detach().requiresGrad_(true).keep();
    for (const p of parts) p.dispose();
    this.#entries.push({ leaf, chunks, encode });
    return leaf;
  }

  /**
   * Backpropagates loss × scale to the leaves, then re-encodes every chunk with grad under `forward`
   * (the loop's autocast) and backpropagates its slice of the leaf's gradient. Frees the cache.
   */
  backward(loss: Tensor, scale: number, forward: <T>(f: () => T) => T): void {
    const now = getRngState('cpu');
    try {
      backpropagate(scale === 1 ? loss : loss.mul(scale));
      for (const e of this.#entries) {
        const g = e.leaf.grad;
        if (!g) continue; // the loss does not depend on these rows
        for (const c of e.chunks) {
          setRngState(c.rng, 'cpu');
          tidy(() => {
            const reps = forward(() => e.encode(c.start, c.count));
            backpropagate(reps.mul(g.narrow(0, c.start, c.count)).sum());
          });
        }
        g.dispose();
      }
    } finally {
      setRngState(now, 'cpu');
      now.dispose();
      this.dispose();
    }
  }

  dispose(): void {
    for (const e of this.#entries) {
      e.leaf.dispose();
      for (const c of e.chunks) c.rng.dispose();
    }
    this.#entries = [];
  }
}
