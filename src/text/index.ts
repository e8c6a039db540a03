/**
 * Text → token ids by Lion's rules (BOS first once, no EOS, pad = EOS, left padding).
 * @module
 */
export { Tokenizer, padLeft, type TokenBatch, type EncodeBatchOptions, type DecodeOptions, type TokenizerKind } from './tokenizer.ts';
export { HfTokenizer, type HfTokenizerOptions } from './hf-tokenizer.ts';
export { Llama2cTokenizer, parseLlama2cTokenizer, type Llama2cVocab } from './llama2c-tokenizer.ts';
export { loadTokenizer } from './load.ts';
