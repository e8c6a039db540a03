/**
 * Greedy (temperature 0) generation in causal mode: the numerics oracle against llama2.c's `run`.
 * No KV cache: each step reruns the prefix, which is fine for the small models this is used on.
 * @module
 */
import { Tensor, noGrad, tidy } from '../torch/index.ts';
import type { LlamaForCausalLM } from './llama.ts';

/** Appends `steps` argmax tokens to `prompt`; stops early at any id in `stopIds`. */
export function generateGreedy(model: LlamaForCausalLM, prompt: readonly number[], steps: number, stopIds: readonly number[] = []): number[] {
  const ids = [...prompt];
  for (let s = 0; s < steps; s++) {
    const next = noGrad(() =>
      tidy(() => {
        const x = Tensor.from(BigInt64Array.from(ids, BigInt), [1, ids.length], 'i64');
        const logits = model.forward(x, Tensor.ones([1, ids.length], 'i64'), 'causal'); // [1, T, V]
        return logits.narrow(1, ids.length - 1, 1).argmax(-1).item();
      }),
    );
    if (stopIds.includes(next)) break;
    ids.push(next);
  }
  return ids;
}
