/**
 * Seeded pseudo-randomness, Lion's one home for it: data order, negative sampling, masking,
 * randomisation tests and synthetic benchmarks. The same seed always gives the same numbers, on every
 * machine, and every training draw is a pure function of (seed, stream, step), so a resumed run makes
 * exactly the draws the uninterrupted one made without storing any generator state.
 * @module
 */

/** mulberry32: a small, fast generator of floats in [0, 1). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** splitmix64-style mixing of a few integers into a 32-bit seed. */
export function mixSeed(...parts: number[]): number {
  let h = 0x9e3779b9;
  for (const p of parts) {
    h = Math.imul(h ^ (p >>> 0), 0x85ebca6b);
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
    h ^= h >>> 16;
    h = Math.imul(h ^ Math.floor(p / 2 ** 32), 0x27d4eb2f) ^ (h >>> 15);
  }
  return h >>> 0;
}

/** A permutation of 0..n−1 (Fisher–Yates). */
export function permutation(n: number, seed: number): Uint32Array {
  const r = rng(seed);
  const p = new Uint32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    const t = p[i]!;
    p[i] = p[j]!;
    p[j] = t;
  }
  return p;
}

/** k distinct items of `items` (all of them, shuffled, when k ≥ length). */
export function sampleWithoutReplacement<T>(items: readonly T[], k: number, seed: number): T[] {
  const p = permutation(items.length, seed);
  return Array.from(p.subarray(0, Math.min(k, items.length)), (i) => items[i]!);
}

/**
 * The example indices of one micro-batch in a seeded epoch order: the stream of examples is epoch 0's
 * permutation, then epoch 1's, …; micro-batch `u` takes items [u·B, (u+1)·B).
 */
export function batchIndices(u: number, batch: number, n: number, seed: number): number[] {
  const out: number[] = [];
  let cache: { epoch: number; perm: Uint32Array } | null = null;
  for (let k = u * batch; k < (u + 1) * batch; k++) {
    const epoch = Math.floor(k / n);
    if (!cache || cache.epoch !== epoch) cache = { epoch, perm: permutation(n, mixSeed(seed, epoch)) };
    out.push(cache.perm[k % n]!);
  }
  return out;
}
