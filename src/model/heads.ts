/**
 * The two retrieval heads of the paper (docs/paper.md §3, §4), as functions of the final hidden states.
 * @module
 */
import { Tensor, isGradEnabled, noGrad, tidy } from '../torch/index.ts';

/** Added to padded positions' logits before the max (the authors' −10⁶). */
export const PAD_PENALTY = -1e6;

export interface SparseHeadOptions {
  /**
   * Positions per chunk. Peak extra memory is B·chunk·V·4 bytes for the logits of one chunk (f32),
   * whatever T is: 32 × 16 × 128,256 × 4 B = 263 MB at the default. With gradients the same bound
   * holds: a first pass without grad finds each term's max position, a second recomputes only the
   * gathered winners with grad, so autograd keeps [B, V] per chunk instead of [B, T, V].
   */
  chunk?: number;
}

/**
 * Lion-SP (SPLADE-style max pooling over an LLM head):
 *   w_j = log(1 + ReLU(max_{t: mask_t = 1} (H_t · W_jᵀ) · d^(−1/4)))
 * hidden [B, T, d], attentionMask [B, T], lmHead W [V, d] -> [B, V]. BOS and special tokens stay in.
 */
export function sparseHead(hidden: Tensor, attentionMask: Tensor, lmHead: Tensor, o: SparseHeadOptions = {}): Tensor {
  return tidy(() => {
    const [B, T, d] = hidden.shape as [number, number, number];
    const V = lmHead.size(0);
    const scale = d ** -0.25;
    const chunk = Math.max(1, Math.min(o.chunk ?? 16, T));
    const penalty = attentionMask.eq(0).to(hidden.dtype === 'f64' ? 'f64' : 'f32').mul(PAD_PENALTY); // [B, T]
    const chunkLogits = (start: number, len: number): Tensor =>
      hidden.narrow(1, start, len).matmul(lmHead.T).mul(scale).add(penalty.narrow(1, start, len).unsqueeze(2)); // [B, c, V]

    const needGrad = isGradEnabled() && (hidden.requiresGrad || lmHead.requiresGrad);
    if (!needGrad) {
      // Inference: only the running max over positions is needed.
      let best: Tensor | null = null; // [B, V]
      for (let s = 0; s < T; s += chunk) {
        const len = Math.min(chunk, T - s);
        const next: Tensor = tidy(() => {
          const m = chunkLogits(s, len).amax(1);
          return best ? best.maximum(m) : m;
        });
        best?.dispose();
        best = next;
      }
      return best!.relu().log1p();
    }

    // Pass 1, no grad: the running max over positions and where it was reached.
    const { where } = noGrad(() => {
      let best: Tensor | null = null; // [B, V]
      let where: Tensor | null = null; // [B, V] i64
      for (let s = 0; s < T; s += chunk) {
        const len = Math.min(chunk, T - s);
        const r = tidy(() => {
          const [m, i] = chunkLogits(s, len).max(1); // [B, V]
          if (!best || !where) return { best: m, where: i.add(s) };
          const better = m.gt(best); // ties keep the earlier position, as a full max does
          return { best: Tensor.where(better, m, best), where: Tensor.where(better, i.add(s), where) };
        });
        best?.dispose();
        where?.dispose();
        best = r.best;
        where = r.where;
      }
      return { where: where! };
    });

    // Pass 2, with grad: recompute each chunk's logits and keep only the winning positions' values.
    let pooled: Tensor = Tensor.zeros([B, V], hidden.dtype, hidden.device);
    for (let s = 0; s < T; s += chunk) {
      const len = Math.min(chunk, T - s);
      pooled = tidy(() => {
        const inChunk = where.ge(s).logicalAnd(where.lt(s + len)); // [B, V]
        const idx = where.sub(s).clamp(0, len - 1).unsqueeze(1); // [B, 1, V]
        const picked = chunkLogits(s, len).gather(1, idx).squeeze(1); // [B, V]
        return pooled.add(Tensor.where(inChunk, picked, Tensor.zeros([1], picked.dtype, picked.device)));
      });
    }
    return pooled.relu().log1p();
  });
}

/**
 * Lion-DS: the mean over non-pad positions of L2-normalised token states, with no final normalisation:
 *   e = (1/n) Σ_{t: mask_t = 1} h_t / max(‖h_t‖₂, 1e−12)
 * hidden [B, T, d], attentionMask [B, T] -> [B, d]. Masked rather than "last n positions", so it does
 * not depend on the padding side (the paper's code relies on left padding; both agree there).
 */
export function denseHead(hidden: Tensor, attentionMask: Tensor): Tensor {
  return tidy(() => {
    const m = attentionMask.to(hidden.dtype).unsqueeze(2); // [B, T, 1]
    const unit = hidden.div(hidden.norm(2, -1, true).clamp(1e-12)); // [B, T, d]
    return unit.mul(m).sum(1).div(m.sum(1)); // [B, d]
  });
}
