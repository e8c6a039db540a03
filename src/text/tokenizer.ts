/**
 * The Tokenizer contract and Lion's tokenisation rules, shared by every tokenizer kind.
 *
 * Lion's rules (docs/paper.md §12, pitfalls 1–2, as the paper's encoders do): BOS first, exactly once, whatever
 * the tokenizer file's post-processor would add; no EOS; pad id = EOS id; left padding; truncation to
 * a maximum length that counts the BOS. Subclasses supply only the raw text → ids map.
 * @module
 */

/** A left-padded batch, row-major `[batch, seqLen]`. */
export interface TokenBatch {
  /** Token ids, pad id in front of shorter rows. */
  ids: Int32Array;
  /** 1 for real tokens (BOS included), 0 for padding. */
  attentionMask: Uint8Array;
  /** Real tokens per row (BOS included). */
  lengths: Int32Array;
  batch: number;
  seqLen: number;
}

export interface EncodeBatchOptions {
  /** 'longest' (default): pad to the longest row; 'max': pad every row to maxLength. */
  padTo?: 'longest' | 'max';
}

export interface DecodeOptions {
  /** Drop special tokens (BOS, EOS, …); default true. */
  skipSpecialTokens?: boolean;
}

/** Which implementation a tokenizer is. */
export type TokenizerKind = 'hf' | 'llama2c';

export abstract class Tokenizer {
  abstract readonly kind: TokenizerKind;
  /** The tokenizer file read (tokenizer.json or tokenizer.bin). */
  abstract readonly path: string;
  /** One more than the largest token id (special tokens included). */
  abstract readonly vocabSize: number;
  abstract readonly bosId: number;
  abstract readonly eosId: number;
  /** sha256 (hex) of the tokenizer file's bytes: the identity index manifests record. */
  abstract readonly fingerprint: string;

  /** Pad id: Lion pads with EOS, as the paper does. */
  get padId(): number {
    return this.eosId;
  }

  /** Ids of `text` with no special tokens added (no BOS, no EOS). */
  abstract encodeRaw(text: string): number[];
  abstract decode(ids: ArrayLike<number>, options?: DecodeOptions): string;
  /** The id of a vocabulary entry spelled as the file spells it, or undefined. */
  abstract tokenToId(token: string): number | undefined;
  /** The vocabulary entry for an id, spelled as the file spells it, or undefined. */
  abstract idToToken(id: number): string | undefined;

  /**
   * Ids of `text` by Lion's rules: BOS, then the text's tokens, no EOS; with `maxLength`, cut to
   * that many ids counting the BOS.
   */
  encode(text: string, maxLength?: number): number[] {
    if (maxLength !== undefined && !(Number.isInteger(maxLength) && maxLength >= 1)) throw new RangeError(`lion: maxLength must be an integer >= 1, got ${maxLength}`);
    const ids = [this.bosId, ...this.encodeRaw(text)];
    return maxLength === undefined ? ids : ids.slice(0, maxLength);
  }

  /** Encodes texts into one left-padded batch (pad = EOS), each cut to `maxLength` counting BOS. */
  encodeBatch(texts: readonly string[], maxLength: number, options: EncodeBatchOptions = {}): TokenBatch {
    return padLeft(texts.map((t) => this.encode(t, maxLength)), this.padId, options.padTo === 'max' ? maxLength : undefined);
  }
}

/**
 * Left-pads rows of ids into a `[batch, seqLen]` batch. seqLen is the longest row, or `padTo`
 * when given (rows longer than it are refused).
 */
export function padLeft(rows: readonly (readonly number[])[], padId: number, padTo?: number): TokenBatch {
  const longest = rows.reduce((m, r) => Math.max(m, r.length), 0);
  const seqLen = padTo ?? longest;
  if (longest > seqLen) throw new RangeError(`lion: a row of ${longest} ids does not fit seqLen ${seqLen}`);
  const batch = rows.length;
  const ids = new Int32Array(batch * seqLen).fill(padId);
  const attentionMask = new Uint8Array(batch * seqLen);
  const lengths = new Int32Array(batch);
  rows.forEach((r, b) => {
    const start = b * seqLen + seqLen - r.length;
    ids.set(r, start);
    attentionMask.fill(1, start, start + r.length);
    lengths[b] = r.length;
  });
  return { ids, attentionMask, lengths, batch, seqLen };
}
