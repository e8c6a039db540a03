/**
 * Token strings and identity of a tokenizer (Hugging Face tokenizer.json or llama2.c tokenizer.bin),
 * for sparse exports (which write `{token: weight}`) and for recording which tokenizer an index's
 * term ids belong to.
 * @module
 */
import { basename, resolve } from 'node:path';
import { loadTokenizer } from '../text/index.ts';
import type { VectorIdentity } from './types.ts';

export interface TokenizerInfo {
  /** Term id → token string as the file spells it. */
  tokens: (string | undefined)[];
  vocabSize: number;
  /** Identity fields: tokenizer name, sha256 of the file (as the model loader records it), path. */
  identity: Pick<VectorIdentity, 'tokenizer' | 'tokenizerHash' | 'tokenizerFile'>;
}

/** Reads a tokenizer file (or a folder holding one). */
export function readTokenizerInfo(path: string): TokenizerInfo {
  const tok = loadTokenizer(path);
  const tokens = Array.from({ length: tok.vocabSize }, (_, i) => tok.idToToken(i));
  return {
    tokens,
    vocabSize: tok.vocabSize,
    identity: { tokenizer: basename(tok.path), tokenizerHash: tok.fingerprint, tokenizerFile: resolve(tok.path) },
  };
}
