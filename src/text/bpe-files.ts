/**
 * Writing a trained tokenizer: tokenizer.json laid out as Hugging Face writes it (vocabulary in id
 * order, one entry a line, so files diff well) and tokenizer_config.json beside it, each written to a
 * temp file and renamed into place. Plus the compression measure the CLI and benchmarks report.
 * @module
 */
import { mkdirSync } from 'node:fs';
import { writeBytesAtomic } from '../formats/file-io.ts';
import { join } from 'node:path';
import type { BpeTokenizerConfigJson, BpeTokenizerJson } from './bpe-train.ts';
import type { Tokenizer } from './tokenizer.ts';

/**
 * tokenizer.json text: two-space indented JSON with `model.vocab` in id order (JSON.stringify would
 * move integer-like keys such as "1" first) and one merge per line. Deterministic for a given object.
 */
export function stringifyTokenizerJson(json: BpeTokenizerJson): string {
  const VOCAB = '\u0000vocab';
  const MERGES = '\u0000merges';
  const skeleton = JSON.stringify({ ...json, model: { ...json.model, vocab: VOCAB, merges: MERGES } }, null, 2);
  const pad = '      ';
  const vocab = Object.entries(json.model.vocab).sort((a, b) => a[1] - b[1]);
  const vocabText = vocab.length === 0 ? '{}' : `{\n${vocab.map(([t, id]) => `${pad}${JSON.stringify(t)}: ${id}`).join(',\n')}\n    }`;
  const mergesText = json.model.merges.length === 0 ? '[]' : `[\n${json.model.merges.map((m) => `${pad}${JSON.stringify(m)}`).join(',\n')}\n    ]`;
  return `${skeleton.replace(JSON.stringify(VOCAB), () => vocabText).replace(JSON.stringify(MERGES), () => mergesText)}\n`;
}


/** Writes `dir/tokenizer.json` and `dir/tokenizer_config.json` (creating dir), each atomically. */
export function saveTokenizerFiles(dir: string, files: { tokenizer: BpeTokenizerJson; config: BpeTokenizerConfigJson }): { tokenizerPath: string; configPath: string } {
  mkdirSync(dir, { recursive: true });
  const tokenizerPath = join(dir, 'tokenizer.json');
  const configPath = join(dir, 'tokenizer_config.json');
  // Each file is whole at every moment; the pair is not one transaction (a crash between the two
  // renames leaves the new tokenizer.json beside the old config).
  writeBytesAtomic(tokenizerPath, stringifyTokenizerJson(files.tokenizer));
  writeBytesAtomic(configPath, `${JSON.stringify(files.config, null, 2)}\n`);
  return { tokenizerPath, configPath };
}

/** Compression of a tokenizer on some texts: UTF-8 bytes per token (no BOS counted). */
export interface Compression {
  bytes: number;
  tokens: number;
  bytesPerToken: number;
}

/** UTF-8 bytes per token of `texts` under `tok` (raw ids, no BOS): higher is better compression. */
export async function measureCompression(tok: Pick<Tokenizer, 'encodeRaw'>, texts: Iterable<string> | AsyncIterable<string>): Promise<Compression> {
  let bytes = 0;
  let tokens = 0;
  for await (const t of texts) {
    bytes += Buffer.byteLength(t, 'utf8');
    tokens += tok.encodeRaw(t).length;
  }
  return { bytes, tokens, bytesPerToken: tokens === 0 ? 0 : bytes / tokens };
}
