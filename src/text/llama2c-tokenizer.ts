/**
 * llama2.c's SentencePiece tokenizer file (`tokenizer.bin`) and its encode/decode, as llama2.c's
 * `run.c` does them, so that ids match what llama2.c models were run with.
 *
 * File layout: int32 max_token_length, then for every token: float32 score, int32 byte length, the
 * piece's UTF-8 bytes (SentencePiece's '▁' already turned into ' '; BOS and EOS stored as "\n<s>\n"
 * and "\n</s>\n"). Ids are positions. Byte-fallback tokens `<0x00>`..`<0xFF>` sit at ids 3..258.
 *
 * Encoding (run.c `encode`): a dummy-prefix ' ' token when the text is not empty; each UTF-8 code
 * point becomes its piece, or its bytes as byte tokens (byte + 3); then repeatedly merge the adjacent
 * pair whose concatenation is a piece with the highest score (leftmost on ties) until none is left.
 * @module
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { FormatError } from '../formats/errors.ts';
import { Tokenizer, type DecodeOptions } from './tokenizer.ts';

const BOS = 1;
const EOS = 2;
const BYTE0 = 3;
/** llama2.c starts its best score there, so pairs scoring at or below it never merge. */
const NO_SCORE = -1e10;

export interface Llama2cVocab {
  maxTokenLength: number;
  /** Pieces as raw bytes (the file's spelling). */
  pieces: Uint8Array[];
  /** Scores as float32 values. */
  scores: Float32Array;
}

/** Parses a llama2.c tokenizer.bin. @throws FormatError naming the token where the file breaks off. */
export function parseLlama2cTokenizer(bytes: Uint8Array, file: string): Llama2cVocab {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.byteLength < 4) throw new FormatError(file, 'not a llama2.c tokenizer: too short');
  const maxTokenLength = v.getInt32(0, true);
  if (maxTokenLength <= 0 || maxTokenLength > 1024) throw new FormatError(file, `not a llama2.c tokenizer: max_token_length ${maxTokenLength}`);
  const pieces: Uint8Array[] = [];
  const scores: number[] = [];
  let p = 4;
  while (p < bytes.byteLength) {
    if (p + 8 > bytes.byteLength) throw new FormatError(file, `file is truncated inside token ${pieces.length}`);
    const score = v.getFloat32(p, true);
    const len = v.getInt32(p + 4, true);
    if (len < 0 || len > maxTokenLength || p + 8 + len > bytes.byteLength) throw new FormatError(file, `token ${pieces.length} has a bad length ${len} (max_token_length ${maxTokenLength}) or is cut off`);
    pieces.push(bytes.slice(p + 8, p + 8 + len));
    scores.push(score);
    p += 8 + len;
  }
  if (pieces.length < 259) throw new FormatError(file, `only ${pieces.length} tokens; a llama2.c vocabulary has <unk>, <s>, </s> and 256 byte tokens first`);
  return { maxTokenLength, pieces, scores: Float32Array.from(scores) };
}

/** The byte a `<0xXX>` piece stands for, or -1. */
function bytePiece(piece: string): number {
  const m = /^<0x([0-9A-Fa-f]{2})>$/.exec(piece);
  return m === null ? -1 : Number.parseInt(m[1] as string, 16);
}

export class Llama2cTokenizer extends Tokenizer {
  readonly kind = 'llama2c' as const;
  readonly path: string;
  readonly vocabSize: number;
  readonly bosId = BOS;
  readonly eosId = EOS;
  readonly fingerprint: string;
  readonly vocab: Llama2cVocab;
  /** Pieces decoded as strings (byte pieces keep their `<0xXX>` spelling). */
  readonly #text: string[];
  readonly #ids: Map<string, number>;
  /** Bytes each id decodes to (byte tokens to their byte). */
  readonly #bytes: Uint8Array[];
  readonly #space: number;

  private constructor(path: string, vocab: Llama2cVocab, fingerprint: string) {
    super();
    this.path = path;
    this.vocab = vocab;
    this.fingerprint = fingerprint;
    this.vocabSize = vocab.pieces.length;
    const dec = new TextDecoder();
    this.#text = vocab.pieces.map((b) => dec.decode(b));
    this.#ids = new Map();
    // First spelling wins, like a lookup in a sorted table without duplicates (both shipped files have none).
    this.#text.forEach((t, i) => {
      if (!this.#ids.has(t)) this.#ids.set(t, i);
    });
    this.#bytes = vocab.pieces.map((b, i) => {
      const byte = bytePiece(this.#text[i] as string);
      return byte >= 0 ? Uint8Array.of(byte) : b;
    });
    const space = this.#ids.get(' ');
    if (space === undefined) throw new FormatError(path, "the vocabulary has no ' ' piece for the dummy prefix");
    this.#space = space;
  }

  /** Reads tokenizer.bin (a file, or a folder holding `tokenizer.bin`). */
  static fromFile(pathOrDir: string): Llama2cTokenizer {
    const file = existsSync(pathOrDir) && statSync(pathOrDir).isDirectory() ? join(pathOrDir, 'tokenizer.bin') : pathOrDir;
    let bytes: Buffer;
    try {
      bytes = readFileSync(file);
    } catch (e) {
      throw new FormatError(file, `cannot read tokenizer: ${(e as Error).message}`, { cause: e });
    }
    const vocab = parseLlama2cTokenizer(bytes, file);
    return new Llama2cTokenizer(file, vocab, createHash('sha256').update(bytes).digest('hex'));
  }

  encodeRaw(text: string): number[] {
    if (text === '') return [];
    const ids: number[] = [this.#space];
    // One piece per code point when the vocabulary has it, else its UTF-8 bytes as byte tokens.
    const enc = new TextEncoder();
    for (const ch of text) {
      const id = this.#ids.get(ch);
      if (id !== undefined) ids.push(id);
      else for (const b of enc.encode(ch)) ids.push(b + BYTE0);
    }
    return this.#merge(ids);
  }

  /** BPE by score over a linked list; each step takes the best pair, leftmost on ties, as run.c. */
  #merge(ids: number[]): number[] {
    const n = ids.length;
    const tok = Int32Array.from(ids);
    const next = Int32Array.from({ length: n }, (_, i) => (i + 1 < n ? i + 1 : -1));
    const prev = Int32Array.from({ length: n }, (_, i) => i - 1);
    const pairId = new Int32Array(n).fill(-1);
    const pairScore = new Float64Array(n).fill(NO_SCORE);
    const score = this.vocab.scores;
    const look = (i: number): void => {
      const j = next[i] as number;
      pairId[i] = -1;
      pairScore[i] = NO_SCORE;
      if (j < 0) return;
      const id = this.#ids.get((this.#text[tok[i] as number] as string) + (this.#text[tok[j] as number] as string));
      if (id !== undefined && (score[id] as number) > NO_SCORE) {
        pairId[i] = id;
        pairScore[i] = score[id] as number;
      }
    };
    for (let i = 0; i < n; i++) look(i);
    for (;;) {
      let best = -1;
      let bestScore = NO_SCORE;
      for (let i = 0; i >= 0; i = next[i] as number) {
        if ((pairScore[i] as number) > bestScore) {
          bestScore = pairScore[i] as number;
          best = i;
        }
      }
      if (best < 0) break;
      const j = next[best] as number;
      tok[best] = pairId[best] as number;
      const k = next[j] as number;
      next[best] = k;
      if (k >= 0) prev[k] = best;
      look(best);
      if ((prev[best] as number) >= 0) look(prev[best] as number);
    }
    const out: number[] = [];
    for (let i = 0; i >= 0; i = next[i] as number) out.push(tok[i] as number);
    return out;
  }

  /**
   * Text of ids as llama2.c prints it: byte tokens become their bytes, and a piece right after BOS
   * (or first in the list) loses its leading space, as SentencePiece's decoder does.
   */
  decode(ids: ArrayLike<number>, options: DecodeOptions = {}): string {
    const skip = options.skipSpecialTokens ?? true;
    const parts: Uint8Array[] = [];
    let prev = BOS;
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i] as number;
      if (!Number.isInteger(id) || id < 0 || id >= this.vocabSize) throw new RangeError(`lion: token id ${id} is outside the vocabulary (0..${this.vocabSize - 1})`);
      if (id === BOS || id === EOS) {
        if (!skip) parts.push(new TextEncoder().encode(id === BOS ? '<s>' : '</s>'));
        prev = id;
        continue;
      }
      let b = this.#bytes[id] as Uint8Array;
      if (prev === BOS && b[0] === 0x20) b = b.subarray(1);
      parts.push(b);
      prev = id;
    }
    return new TextDecoder().decode(Buffer.concat(parts));
  }

  /** Accepts the file's spelling (' ' for spaces) or SentencePiece's ('▁'). */
  tokenToId(token: string): number | undefined {
    if (token === '<s>') return BOS;
    if (token === '</s>') return EOS;
    return this.#ids.get(token) ?? this.#ids.get(token.replaceAll('\u2581', ' '));
  }

  /** The piece in SentencePiece's spelling ('▁' for spaces, `<s>`, `</s>`, `<0x0A>`). */
  idToToken(id: number): string | undefined {
    if (id === BOS) return '<s>';
    if (id === EOS) return '</s>';
    return this.#text[id]?.replaceAll(' ', '\u2581');
  }
}
