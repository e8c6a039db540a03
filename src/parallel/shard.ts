/**
 * `--shard i/N`: which part of a corpus one of N encoders takes. Shards are contiguous runs of whole
 * encoding groups, so every text is encoded in exactly the batch it would share in one pass (same
 * padding, same vector), and the shard files laid end to end in shard order are the one-pass file.
 * @module
 */
export interface Shard {
  index: number;
  count: number;
}

/** Parses 'i/N' (0 ≤ i < N); null without a spec. */
export function parseShard(cmd: string, spec: string | undefined): Shard | null {
  if (spec === undefined) return null;
  const m = /^(\d+)\/(\d+)$/.exec(spec.trim());
  const index = m ? Number(m[1]) : NaN;
  const count = m ? Number(m[2]) : NaN;
  if (!m || count < 1 || index >= count)
    throw new Error(`lion ${cmd}: --shard must be i/N with 0 <= i < N, got '${spec}'; hint: --shard 0/4 is the first of four shards`);
  return { index, count };
}

/** The item range [start, end) of `shard` over `total` items encoded in groups of `group` items. */
export function shardRange(shard: Shard, total: number, group: number): { start: number; end: number } {
  const groups = Math.ceil(total / group);
  const first = Math.floor((shard.index * groups) / shard.count);
  const last = Math.floor(((shard.index + 1) * groups) / shard.count);
  return { start: Math.min(total, first * group), end: Math.min(total, last * group) };
}

/** The items of `items` in [start, end), by position. */
export async function* within<T>(items: AsyncIterable<T>, range: { start: number; end: number }): AsyncGenerator<T> {
  let i = 0;
  for await (const x of items) {
    if (i >= range.end) return;
    if (i++ >= range.start) yield x;
  }
}
