/**
 * Hugging Face `tokenizer.json` tokenizers through `@huggingface/tokenizers` (pure JavaScript; it
 * reproduces Llama-3's ids, see test/text/hf-tokenizer.test.ts).
 *
 * The file's post-processor is bypassed (text is encoded without special tokens) and Lion adds BOS
 * itself, so files whose post-processor prepends `<|begin_of_text|>` (Meta's TemplateProcessing)
 * and files that do not (a plain ByteLevel post-processor) give the same ids. Special-token text
 * inside the input (`<|end_of_text|>`) becomes the special id, as Hugging Face's tokenizers do.
 * @module
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Tokenizer as HfLib } from '@huggingface/tokenizers';
import { FormatError } from '../formats/errors.ts';
import { Tokenizer, type DecodeOptions } from './tokenizer.ts';

export interface HfTokenizerOptions {
  /** Overrides the BOS id found in the files. */
  bosId?: number;
  /** Overrides the EOS (= pad) id found in the files, e.g. with config.json's eos_token_id. */
  eosId?: number;
}

interface AddedTokenJson {
  id: number;
  content: string;
  special?: boolean;
}

interface TokenizerJson {
  model?: { type?: string; vocab?: Record<string, number> | [string, number][] };
  added_tokens?: AddedTokenJson[];
  post_processor?: unknown;
}

/** `bos_token` in tokenizer_config.json is a string or an AddedToken object. */
function tokenContent(x: unknown): string | undefined {
  if (typeof x === 'string') return x;
  if (typeof x === 'object' && x !== null && typeof (x as { content?: unknown }).content === 'string') return (x as { content: string }).content;
  return undefined;
}

/** The first special token a TemplateProcessing post-processor puts before the sequence. */
function templateBos(pp: unknown): string | undefined {
  if (typeof pp !== 'object' || pp === null) return undefined;
  const o = pp as { type?: string; processors?: unknown[]; single?: unknown[] };
  if (o.type === 'Sequence' && Array.isArray(o.processors)) {
    for (const p of o.processors) {
      const b = templateBos(p);
      if (b !== undefined) return b;
    }
    return undefined;
  }
  if (o.type !== 'TemplateProcessing' || !Array.isArray(o.single)) return undefined;
  const first = o.single[0] as { SpecialToken?: { id?: string } } | undefined;
  return first?.SpecialToken?.id;
}

export class HfTokenizer extends Tokenizer {
  readonly kind = 'hf' as const;
  readonly path: string;
  readonly vocabSize: number;
  readonly bosId: number;
  readonly eosId: number;
  readonly fingerprint: string;
  /** Ids of special added tokens (dropped by decode's skipSpecialTokens). */
  readonly specialIds: ReadonlySet<number>;
  readonly #lib: HfLib;

  private constructor(path: string, lib: HfLib, fingerprint: string, bosId: number, eosId: number, vocabSize: number, specialIds: Set<number>) {
    super();
    this.path = path;
    this.#lib = lib;
    this.fingerprint = fingerprint;
    this.bosId = bosId;
    this.eosId = eosId;
    this.vocabSize = vocabSize;
    this.specialIds = specialIds;
  }

  /**
   * Loads `tokenizer.json` (a file, or a folder holding one) and `tokenizer_config.json` beside it
   * when present. BOS and EOS come from tokenizer_config.json's bos_token / eos_token, else the
   * post-processor's template, else the usual names (`<|begin_of_text|>`, `<s>`; `<|end_of_text|>`, `</s>`).
   */
  static fromFile(pathOrDir: string, options: HfTokenizerOptions = {}): HfTokenizer {
    const file = existsSync(pathOrDir) && statSync(pathOrDir).isDirectory() ? join(pathOrDir, 'tokenizer.json') : pathOrDir;
    let bytes: Buffer;
    try {
      bytes = readFileSync(file);
    } catch (e) {
      throw new FormatError(file, `cannot read tokenizer: ${(e as Error).message}`, { cause: e, hint: 'a Hugging Face model folder holds tokenizer.json' });
    }
    let json: TokenizerJson;
    try {
      json = JSON.parse(bytes.toString('utf8')) as TokenizerJson;
    } catch (e) {
      throw new FormatError(file, `tokenizer.json is not valid JSON: ${(e as Error).message}`, { cause: e });
    }
    if (typeof json !== 'object' || json === null || typeof json.model !== 'object' || json.model === null) throw new FormatError(file, 'not a tokenizer.json: no model section', { key: 'model' });
    const cfgFile = join(dirname(file), 'tokenizer_config.json');
    let config: Record<string, unknown> = {};
    if (existsSync(cfgFile)) {
      try {
        config = JSON.parse(readFileSync(cfgFile, 'utf8')) as Record<string, unknown>;
      } catch (e) {
        throw new FormatError(cfgFile, `not valid JSON: ${(e as Error).message}`, { cause: e });
      }
    }
    let lib: HfLib;
    try {
      lib = new HfLib(json, config);
    } catch (e) {
      throw new FormatError(file, `the tokenizer library cannot load this file: ${(e as Error).message}`, { cause: e });
    }
    const idOf = (tok: string | undefined): number | undefined => (tok === undefined ? undefined : lib.token_to_id(tok));
    const firstKnown = (...names: (string | undefined)[]): number | undefined => {
      for (const n of names) {
        const id = idOf(n);
        if (id !== undefined) return id;
      }
      return undefined;
    };
    const bosId = options.bosId ?? firstKnown(tokenContent(config.bos_token), templateBos(json.post_processor), '<|begin_of_text|>', '<s>');
    const eosId = options.eosId ?? firstKnown(tokenContent(config.eos_token), '<|end_of_text|>', '</s>');
    if (bosId === undefined) throw new FormatError(file, 'cannot tell the BOS token (no bos_token in tokenizer_config.json, no template, no <|begin_of_text|> or <s>)', { hint: 'pass bosId' });
    if (eosId === undefined) throw new FormatError(file, 'cannot tell the EOS token (no eos_token in tokenizer_config.json, no <|end_of_text|> or </s>)', { hint: 'pass eosId' });
    let maxId = -1;
    for (const id of lib.get_vocab(true).values()) if (id > maxId) maxId = id;
    const specialIds = new Set((json.added_tokens ?? []).filter((t) => t.special === true).map((t) => t.id));
    const fingerprint = createHash('sha256').update(bytes).digest('hex');
    return new HfTokenizer(file, lib, fingerprint, bosId, eosId, maxId + 1, specialIds);
  }

  encodeRaw(text: string): number[] {
    return this.#lib.encode(text, { add_special_tokens: false }).ids;
  }

  decode(ids: ArrayLike<number>, options: DecodeOptions = {}): string {
    if (ids.length === 0) return '';
    // clean_up_tokenization_spaces would turn " ." into "."; decoding stays faithful to the ids.
    return this.#lib.decode(Array.from(ids), { skip_special_tokens: options.skipSpecialTokens ?? true, clean_up_tokenization_spaces: false });
  }

  tokenToId(token: string): number | undefined {
    return this.#lib.token_to_id(token);
  }

  idToToken(id: number): string | undefined {
    return this.#lib.id_to_token(id);
  }
}
