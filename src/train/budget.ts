/**
 * Training compute: forward + backward ≈ 6 · N · tokens, N the parameters a token passes through
 * (the non-embedding parameters, plus the vocabulary projection V·d when the LM head is used:
 * sparse retrieval, MNTP and causal LM). Attention's T² term is added: 6 · 2 · layers · T · d per
 * token (QKᵀ and AV), which matters at 512 tokens for small models.
 * @module
 */
import { archSizes, nonEmbeddingParams, type LlamaArch } from '../model/arch.ts';

export function flopsPerToken(arch: LlamaArch, o: { lmHead: boolean; seqLen: number }): number {
  const s = archSizes(arch);
  const n = nonEmbeddingParams(arch) + (o.lmHead ? s.vocab * s.d : 0);
  const attention = 2 * s.layers * o.seqLen * s.heads * s.headDim;
  return 6 * (n + attention);
}

/** A budget in FLOPs, given as a number or with a suffix: "3e15", "2.5P", "40T", "800G". */
export function parseFlops(s: string): number {
  const m = /^\s*([0-9.]+(?:e[+-]?\d+)?)\s*([kKMGTPE]?)\s*(?:FLOPs?)?\s*$/.exec(s);
  if (!m) throw new Error(`lion: cannot read a FLOP budget from '${s}'; hint: write e.g. 3e15 or 2.5P`);
  const mult = { '': 1, k: 1e3, K: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18 }[m[2] as 'k'];
  return Number(m[1]) * mult;
}
