/**
 * loadTokenizer: picks the tokenizer kind from what is on disk.
 * @module
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { FormatError } from '../formats/errors.ts';
import { HfTokenizer, type HfTokenizerOptions } from './hf-tokenizer.ts';
import { Llama2cTokenizer } from './llama2c-tokenizer.ts';
import type { Tokenizer } from './tokenizer.ts';

/**
 * Loads a tokenizer from a file or a model folder: `tokenizer.json` (Hugging Face, with
 * `tokenizer_config.json` beside it when present) or llama2.c's `tokenizer.bin`. A folder with both
 * uses tokenizer.json.
 * @example
 * const tok = loadTokenizer('models/llama-3.2-1b');
 * const batch = tok.encodeBatch(['a query', 'another'], 64); // left-padded, BOS first, pad = EOS
 */
export function loadTokenizer(pathOrDir: string, options: HfTokenizerOptions = {}): Tokenizer {
  if (!existsSync(pathOrDir)) throw new FormatError(pathOrDir, 'no such tokenizer file or folder');
  if (statSync(pathOrDir).isDirectory()) {
    if (existsSync(join(pathOrDir, 'tokenizer.json'))) return HfTokenizer.fromFile(join(pathOrDir, 'tokenizer.json'), options);
    if (existsSync(join(pathOrDir, 'tokenizer.bin'))) return Llama2cTokenizer.fromFile(join(pathOrDir, 'tokenizer.bin'));
    throw new FormatError(pathOrDir, 'no tokenizer.json or tokenizer.bin in this folder', { hint: 'pass the tokenizer file itself' });
  }
  if (pathOrDir.endsWith('.json')) return HfTokenizer.fromFile(pathOrDir, options);
  if (pathOrDir.endsWith('.bin')) return Llama2cTokenizer.fromFile(pathOrDir);
  throw new FormatError(pathOrDir, 'unknown tokenizer file type', { hint: 'expected tokenizer.json (Hugging Face) or tokenizer.bin (llama2.c)' });
}
