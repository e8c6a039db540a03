/**
 * A second, independent path to Llama-3 token ids, for cross-checking @huggingface/tokenizers.
 *
 * It follows tiktoken (the format Meta released Llama-3's tokenizer in), not the Hugging Face
 * pipeline: the Llama-3 split pattern written out by hand, GPT-2's byte → unicode table, and rank
 * BPE where a pair's priority is the vocabulary id (= tiktoken rank) of the merged token — the
 * `merges` list of tokenizer.json is never read. Added special tokens are split out first, as
 * Hugging Face's tokenizers do by default.
 * @module
 */

/** GPT-2's bytes_to_unicode: printable bytes map to themselves, the rest to U+0100 onwards. */
function byteChars(): string[] {
  const keep: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) keep.push(b);
  for (let b = 0xa1; b <= 0xac; b++) keep.push(b);
  for (let b = 0xae; b <= 0xff; b++) keep.push(b);
  const out: string[] = new Array<string>(256);
  let n = 0;
  for (let b = 0; b < 256; b++) out[b] = String.fromCodePoint(keep.includes(b) ? b : 256 + n++);
  return out;
}

// Unicode White_Space as Rust's regex and Oniguruma use it (JS's \s adds U+FEFF and lacks U+0085).
const S = '\\t\\n\\v\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
/**
 * Llama-3's pattern: (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
 * with the case-insensitive group spelled out (Node 20 has no inline (?i:)).
 */
const PATTERN = new RegExp(
  `'(?:[sS]|[tT]|[rR][eE]|[vV][eE]|[mM]|[lL][lL]|[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^${S}\\p{L}\\p{N}]+[\\r\\n]*|[${S}]*[\\r\\n]+|[${S}]+(?![^${S}])|[${S}]+`,
  'gu',
);

export class Llama3Reference {
  readonly #ranks: Map<string, number>;
  readonly #specials: Map<string, number>;
  readonly #specialRe: RegExp | null;
  readonly #bytes = byteChars();

  /** `tokenizerJson` is a parsed Llama-3 tokenizer.json; only model.vocab and added_tokens are read. */
  constructor(tokenizerJson: { model: { vocab: Record<string, number> }; added_tokens: { id: number; content: string; special: boolean }[] }) {
    this.#ranks = new Map(Object.entries(tokenizerJson.model.vocab));
    this.#specials = new Map(tokenizerJson.added_tokens.filter((t) => t.special).map((t) => [t.content, t.id]));
    const alts = [...this.#specials.keys()].sort((a, b) => b.length - a.length).map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
    this.#specialRe = alts.length === 0 ? null : new RegExp(`(${alts.join('|')})`, 'u');
  }

  encode(text: string): number[] {
    const out: number[] = [];
    const parts = this.#specialRe === null ? [text] : text.split(this.#specialRe);
    parts.forEach((part, i) => {
      if (i % 2 === 1) out.push(this.#specials.get(part) as number);
      else for (const m of part.matchAll(PATTERN)) out.push(...this.#bpe(m[0]));
    });
    return out;
  }

  /** tiktoken's byte_pair_merge: merge the adjacent pair whose union has the lowest rank, leftmost first. */
  #bpe(piece: string): number[] {
    const mapped = [...new TextEncoder().encode(piece)].map((b) => this.#bytes[b] as string);
    const whole = this.#ranks.get(mapped.join(''));
    if (whole !== undefined) return [whole];
    const parts = mapped;
    for (;;) {
      let best = -1;
      let bestRank = Infinity;
      for (let i = 0; i + 1 < parts.length; i++) {
        const r = this.#ranks.get((parts[i] as string) + (parts[i + 1] as string));
        if (r !== undefined && r < bestRank) {
          bestRank = r;
          best = i;
        }
      }
      if (best < 0) break;
      parts.splice(best, 2, (parts[best] as string) + (parts[best + 1] as string));
    }
    return parts.map((p) => {
      const id = this.#ranks.get(p);
      if (id === undefined) throw new Error(`reference BPE: '${p}' is not in the vocabulary`);
      return id;
    });
  }
}
