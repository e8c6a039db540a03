/**
 * Learning byte-level BPE merges from a word-count map: the core of `trainByteLevelBpe`, a pure
 * function of its input.
 *
 * Algorithm (Sennrich et al.'s BPE as Hugging Face's BpeTrainer runs it): every distinct pre-token
 * ("word") is a sequence of symbol ids weighted by its count; the most frequent adjacent pair is merged
 * into a new symbol everywhere, left to right, and repeated. Pair counts are kept incrementally: a merge
 * visits only the words that hold the pair (an inverted list per pair) and adjusts the counts of the
 * neighbouring pairs it destroys and creates, so a merge costs the occurrences it touches, not the
 * corpus. The best pair comes from a max-heap with lazy deletion: a merge only lowers existing pairs'
 * counts (every pair it raises contains the new symbol, so is new), so an entry whose count is out of
 * date is re-pushed with its true count when it reaches the top.
 *
 * Ties (equal counts) go to the pair whose left token's bytes sort first, then the right token's
 * bytes: a total order on pairs, so the merges do not depend on the order texts were seen in.
 * @module
 */
import { BYTE_ALPHABET, CHAR_TO_BYTE } from './byte-level.ts';

/** Pair keys pack two ids into one number: left * KEY_BASE + right (exact below 2^53). */
const KEY_BASE = 2 ** 21;
/** The largest vocabulary the key packing allows. */
export const MAX_BPE_VOCAB = KEY_BASE;

export interface LearnMergesOptions {
  /** Stop when the vocabulary (256 byte symbols + merged tokens) reaches this many entries. */
  maxTokens: number;
  /** Merge only pairs seen at least this often (counts are weighted by word counts). */
  minFrequency: number;
  /** Called every 256 merges with the number of merges made so far. */
  onMerge?: (merges: number) => void;
}

/** Why learning stopped. */
export type StopReason = 'vocab-size' | 'min-frequency' | 'no-pairs';

export interface LearnedMerges {
  /** Byte-level spellings in id order: the 256 byte symbols (BYTE_ALPHABET), then merged tokens. */
  tokens: string[];
  /** Merges in rank order, as [left, right] byte-level spellings. */
  merges: [string, string][];
  /** The count of each merge's pair when it was made (for diagnostics and tests). */
  mergeCounts: number[];
  stoppedBy: StopReason;
  /** Σ count × tokens over the words after all merges: the corpus's length in tokens under these merges. */
  tokensAfter: number;
}

/**
 * A binary max-heap of (count, pair key), ordered by count, then by the pair's tie order.
 * Entries are never updated in place; stale ones are detected by the caller.
 */
class PairHeap {
  #counts: number[] = [];
  #keys: number[] = [];
  readonly #tieLess: (a: number, b: number) => boolean;

  constructor(tieLess: (a: number, b: number) => boolean) {
    this.#tieLess = tieLess;
  }

  get size(): number {
    return this.#keys.length;
  }

  #above(i: number, j: number): boolean {
    const ci = this.#counts[i]!;
    const cj = this.#counts[j]!;
    return ci > cj || (ci === cj && this.#tieLess(this.#keys[i]!, this.#keys[j]!));
  }

  #swap(i: number, j: number): void {
    const c = this.#counts[i]!;
    this.#counts[i] = this.#counts[j]!;
    this.#counts[j] = c;
    const k = this.#keys[i]!;
    this.#keys[i] = this.#keys[j]!;
    this.#keys[j] = k;
  }

  push(count: number, key: number): void {
    this.#counts.push(count);
    this.#keys.push(key);
    let i = this.#keys.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.#above(i, p)) break;
      this.#swap(i, p);
      i = p;
    }
  }

  /** Removes the top entry and returns it as [count, key]; undefined when empty. */
  pop(): [number, number] | undefined {
    const n = this.#keys.length;
    if (n === 0) return undefined;
    const top: [number, number] = [this.#counts[0]!, this.#keys[0]!];
    const lastC = this.#counts.pop()!;
    const lastK = this.#keys.pop()!;
    if (n > 1) {
      this.#counts[0] = lastC;
      this.#keys[0] = lastK;
      let i = 0;
      const m = n - 1;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= m) break;
        const r = l + 1;
        const c = r < m && this.#above(r, l) ? r : l;
        if (!this.#above(c, i)) break;
        this.#swap(i, c);
        i = c;
      }
    }
    return top;
  }
}

/**
 * Learns merges from `wordCounts`: byte-level spelled words (each character one of the 256 byte
 * symbols, see byte-level.ts) → how often each occurs.
 */
export function learnBpeMerges(wordCounts: ReadonlyMap<string, number>, opts: LearnMergesOptions): LearnedMerges {
  const { maxTokens, minFrequency } = opts;
  if (!Number.isInteger(maxTokens) || maxTokens < 256 || maxTokens > MAX_BPE_VOCAB) throw new RangeError(`lion: maxTokens must be an integer in [256, ${MAX_BPE_VOCAB}], got ${maxTokens}`);
  if (!(Number.isInteger(minFrequency) && minFrequency >= 1)) throw new RangeError(`lion: minFrequency must be an integer >= 1, got ${minFrequency}`);

  // Symbol tables: spelling, raw bytes (for tie order), spelling → id (a merge that spells an existing
  // token reuses its id, as Hugging Face's trainer does).
  const tokens: string[] = [...BYTE_ALPHABET];
  const tokBytes: Buffer[] = tokens.map((t) => Buffer.from([CHAR_TO_BYTE.get(t)!]));
  const idOf = new Map<string, number>(tokens.map((t, i) => [t, i]));

  // Words as id sequences, merged in place (lens tracks the shrinking length).
  const words: Int32Array[] = [];
  const lens: number[] = [];
  const freq: number[] = [];
  for (const [w, c] of wordCounts) {
    if (!(c > 0)) continue;
    const ids = new Int32Array(w.length);
    for (let i = 0; i < w.length; i++) {
      const id = idOf.get(w[i]!);
      if (id === undefined) throw new RangeError(`lion: word ${JSON.stringify(w)} holds '${w[i]}', not a byte-level symbol`);
      ids[i] = id;
    }
    words.push(ids);
    lens.push(w.length);
    freq.push(c);
  }

  const pairCount = new Map<number, number>();
  // Words that held the pair when it was counted (may go stale: a word is checked when visited).
  const where = new Map<number, number[]>();
  for (let w = 0; w < words.length; w++) {
    const ids = words[w]!;
    const f = freq[w]!;
    for (let i = 0; i + 1 < ids.length; i++) {
      const key = ids[i]! * KEY_BASE + ids[i + 1]!;
      pairCount.set(key, (pairCount.get(key) ?? 0) + f);
      const list = where.get(key);
      if (list === undefined) where.set(key, [w]);
      else if (list[list.length - 1] !== w) list.push(w);
    }
  }

  const tieLess = (ka: number, kb: number): boolean => {
    const la = Math.floor(ka / KEY_BASE);
    const lb = Math.floor(kb / KEY_BASE);
    const c = la === lb ? 0 : Buffer.compare(tokBytes[la]!, tokBytes[lb]!);
    if (c !== 0) return c < 0;
    return Buffer.compare(tokBytes[ka - la * KEY_BASE]!, tokBytes[kb - lb * KEY_BASE]!) < 0;
  };
  const heap = new PairHeap(tieLess);
  for (const [key, c] of pairCount) heap.push(c, key);

  const merges: [string, string][] = [];
  const mergeCounts: number[] = [];
  const visited = new Int32Array(words.length).fill(-1);
  let stoppedBy: StopReason = 'no-pairs';
  while (tokens.length < maxTokens) {
    const top = heap.pop();
    if (top === undefined) break;
    const [count, key] = top;
    const actual = pairCount.get(key) ?? 0;
    if (actual !== count) {
      if (actual > 0) heap.push(actual, key);
      continue;
    }
    if (count < minFrequency) {
      stoppedBy = 'min-frequency';
      break;
    }
    const a = Math.floor(key / KEY_BASE);
    const b = key - a * KEY_BASE;
    const spelling = tokens[a]! + tokens[b]!;
    let id = idOf.get(spelling);
    if (id === undefined) {
      id = tokens.length;
      tokens.push(spelling);
      tokBytes.push(Buffer.concat([tokBytes[a]!, tokBytes[b]!]));
      idOf.set(spelling, id);
    }
    const m = merges.length;
    merges.push([tokens[a]!, tokens[b]!]);
    mergeCounts.push(count);
    pairCount.delete(key);
    const list = where.get(key) ?? [];
    where.delete(key);

    // Merge in every word that holds (a, b), left to right, recording the neighbouring pairs' changes.
    const raised = new Set<number>();
    const change = (k: number, delta: number, w: number): void => {
      if (k === key) return; // the merged pair is gone everywhere
      pairCount.set(k, (pairCount.get(k) ?? 0) + delta);
      if (delta > 0) {
        raised.add(k);
        const l = where.get(k);
        if (l === undefined) where.set(k, [w]);
        else if (l[l.length - 1] !== w) l.push(w);
      }
    };
    for (const w of list) {
      if (visited[w] === m) continue;
      visited[w] = m;
      const ids = words[w]!;
      const n = lens[w]!;
      const f = freq[w]!;
      let out = 0;
      let i = 0;
      while (i < n) {
        if (i + 1 < n && ids[i] === a && ids[i + 1] === b) {
          // ids[out - 1] is the (possibly just merged) left neighbour; ids[i + 2] the right one.
          if (out > 0) {
            const prev = ids[out - 1]!;
            change(prev * KEY_BASE + a, -f, w);
            change(prev * KEY_BASE + id, f, w);
          }
          if (i + 2 < n) {
            const next = ids[i + 2]!;
            change(b * KEY_BASE + next, -f, w);
            change(id * KEY_BASE + next, f, w);
          }
          ids[out++] = id;
          i += 2;
        } else {
          ids[out++] = ids[i]!;
          i += 1;
        }
      }
      lens[w] = out;
    }
    for (const k of raised) {
      const c = pairCount.get(k)!;
      if (c > 0) heap.push(c, k);
    }
    if (opts.onMerge && merges.length % 256 === 0) opts.onMerge(merges.length);
  }
  if (tokens.length >= maxTokens) stoppedBy = 'vocab-size';
  let tokensAfter = 0;
  for (let w = 0; w < words.length; w++) tokensAfter += freq[w]! * lens[w]!;
  return { tokens, merges, mergeCounts, stoppedBy, tokensAfter };
}
