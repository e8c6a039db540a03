/**
 * Attention masks. Bidirectional attention (Lion's encoder) masks only padded keys; causal attention
 * (pre-training, the llama2.c oracle) masks future keys as well. Masks are additive, [B, 1, T, T], with a
 * large finite negative rather than −∞ so that a fully masked row (a pad query) softmaxes to a uniform
 * row instead of NaN, as Hugging Face does with finfo.min.
 * @module
 */
import { Tensor, tidy } from '../torch/index.ts';

export type AttentionMode = 'causal' | 'bidirectional';

export const MASKED = -1e30;

/** attentionMask [B, T] (1 = token, 0 = pad) -> additive mask [B, 1, T, T] in f32, on the mask's device. */
export function additiveMask(attentionMask: Tensor, mode: AttentionMode): Tensor {
  return tidy(() => {
    const [B, T] = attentionMask.shape as [number, number];
    const device = attentionMask.device;
    let allowed = attentionMask.ne(0).reshape([B, 1, 1, T]); // keys that are tokens
    if (mode === 'causal') {
      const causal = Tensor.ones([T, T], 'bool', device).tril(); // query t sees keys ≤ t
      allowed = allowed.logicalAnd(causal.reshape([1, 1, T, T]));
    } else {
      allowed = allowed.expand([B, 1, T, T]);
    }
    return Tensor.zeros([B, 1, T, T], 'f32', device).maskedFill(allowed.logicalNot(), MASKED);
  });
}

/** Position ids [B, T]: 0 at each row's first token, counting tokens only (pads get 0). */
export function positionIds(attentionMask: Tensor): Tensor {
  return tidy(() => attentionMask.to('i64').cumsum(1).sub(1).clamp(0));
}
