/**
 * Masked next-token prediction (MNTP, docs/paper.md §2) and causal-LM data: token blocks and masks.
 * @module
 */
import { rng } from '../util/random.ts';

export interface MaskingOptions {
  /** Fraction of tokens selected (HF mlm_probability): 0.2 in the paper. */
  probability: number;
  /** The id written over 80% of selected tokens: the paper uses "_" (Llama-3 id 62). */
  maskId: number;
  vocabSize: number;
  /** Ids never selected (BOS; padding). */
  protectedIds: ReadonlySet<number>;
}

/**
 * HF DataCollatorForLanguageModeling semantics: each token is selected with probability p (protected
 * ids never); a selected token becomes the mask id (80%), a uniformly random id from the whole
 * vocabulary (10%) or stays (10%); labels hold the original id where selected and −100 elsewhere.
 */
export function maskTokens(ids: Int32Array, o: MaskingOptions, seed: number): { input: Int32Array; labels: Int32Array } {
  const r = rng(seed);
  const input = ids.slice();
  const labels = new Int32Array(ids.length).fill(-100);
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i]!;
    if (o.protectedIds.has(id) || r() >= o.probability) continue;
    labels[i] = id;
    const u = r();
    if (u < 0.8) input[i] = o.maskId;
    else if (u < 0.9) input[i] = Math.floor(r() * o.vocabSize);
  }
  return { input, labels };
}

/**
 * The paper's MNTP/LM data: every passage tokenised with BOS, all concatenated, cut into blocks of
 * `size` tokens, the remainder dropped (so BOS tokens appear mid-block).
 */
export function packBlocks(tokenised: Iterable<readonly number[]>, size: number): Int32Array[] {
  const blocks: Int32Array[] = [];
  let cur = new Int32Array(size);
  let n = 0;
  for (const ids of tokenised) {
    for (const id of ids) {
      cur[n++] = id;
      if (n === size) {
        blocks.push(cur);
        cur = new Int32Array(size);
        n = 0;
      }
    }
  }
  return blocks;
}
