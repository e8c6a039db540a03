/**
 * GPT-2's byte ↔ unicode table, which byte-level BPE files (GPT-2, Llama-3, Lion's own) spell their
 * vocabulary in: every byte becomes one printable character, so a token is a plain JSON string and a
 * space never occurs inside one (it is `Ġ`, U+0120), which keeps `merges` entries ("left right") unambiguous.
 * @module
 */

/** Byte b → its character: printable Latin-1 bytes map to themselves, the other 68 to U+0100 onwards. */
export const BYTE_TO_CHAR: readonly string[] = (() => {
  const keep = (b: number): boolean => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  const out: string[] = [];
  let n = 0;
  for (let b = 0; b < 256; b++) out.push(String.fromCharCode(keep(b) ? b : 256 + n++));
  return out;
})();

/** The inverse of BYTE_TO_CHAR, keyed by character. */
export const CHAR_TO_BYTE: ReadonlyMap<string, number> = new Map(BYTE_TO_CHAR.map((c, b) => [c, b]));

/**
 * The 256 byte symbols in the order Hugging Face's ByteLevel BPE trainer (and Llama-3) give them ids:
 * by the character's code point, so `!` (0x21) is first and the remapped control bytes come last.
 */
export const BYTE_ALPHABET: readonly string[] = [...BYTE_TO_CHAR].sort((a, b) => a.charCodeAt(0) - b.charCodeAt(0));

/** UTF-8 bytes → the byte-level spelling. */
export function bytesToSymbols(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += BYTE_TO_CHAR[b];
  return s;
}

/** The byte-level spelling → raw bytes (throws on a character outside the table). */
export function symbolsToBytes(symbols: string): Uint8Array {
  const out = new Uint8Array(symbols.length);
  for (let i = 0; i < symbols.length; i++) {
    const b = CHAR_TO_BYTE.get(symbols[i]!);
    if (b === undefined) throw new RangeError(`lion: '${symbols[i]}' is not a byte-level symbol`);
    out[i] = b;
  }
  return out;
}
