/**
 * Trains a byte-level BPE tokenizer and writes it as a Hugging Face `tokenizer.json` with Llama-3's
 * design: the same split pattern (contractions, letter runs, 1–3 digit groups, punctuation, whitespace),
 * then ByteLevel (every UTF-8 byte is a symbol, so any text round-trips exactly and nothing is ever
 * unknown), BPE merges, a ByteLevel decoder, and special tokens appended after the BPE vocabulary.
 *
 * Why: the sparse head projects every token onto the whole vocabulary, so its cost per token is
 * ∝ V·d. With Llama-3's 128,256 entries that projection dwarfs a small model's transformer body; a
 * vocabulary of a few thousand trained on the target text keeps the nano study's models cheap.
 *
 * The words are cut by the very pre-tokenizer the file describes, run by @huggingface/tokenizers (the
 * library HfTokenizer loads files with), so training and encoding split text identically.
 * @module
 */
import { Tokenizer as HfLib } from '@huggingface/tokenizers';
import { bytesToSymbols } from './byte-level.ts';
import { learnBpeMerges, MAX_BPE_VOCAB, type StopReason } from './bpe-merges.ts';

/** Llama-3's pre-tokenizer split pattern, as Meta's tokenizer.json spells it. */
export const LLAMA3_SPLIT_PATTERN = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

/** Default BOS and EOS (Llama-3's names; Lion pads with EOS, so there is no pad token). */
export const DEFAULT_BOS = '<|begin_of_text|>';
export const DEFAULT_EOS = '<|end_of_text|>';

/** The subset of Hugging Face's tokenizer.json that a trained byte-level BPE file holds. */
export interface BpeTokenizerJson {
  version: '1.0';
  truncation: null;
  padding: null;
  added_tokens: AddedTokenJson[];
  normalizer: null;
  pre_tokenizer: {
    type: 'Sequence';
    pretokenizers: [
      { type: 'Split'; pattern: { Regex: string }; behavior: 'Isolated'; invert: false },
      { type: 'ByteLevel'; add_prefix_space: false; trim_offsets: true; use_regex: false },
    ];
  };
  post_processor: {
    type: 'Sequence';
    processors: [{ type: 'ByteLevel'; add_prefix_space: true; trim_offsets: false; use_regex: true }, TemplateProcessingJson];
  };
  decoder: { type: 'ByteLevel'; add_prefix_space: true; trim_offsets: true; use_regex: true };
  model: {
    type: 'BPE';
    dropout: null;
    unk_token: null;
    continuing_subword_prefix: null;
    end_of_word_suffix: null;
    fuse_unk: false;
    byte_fallback: false;
    ignore_merges: false;
    /** Byte-level spelling → id; ids 0..255 are the byte symbols, merged tokens follow in merge order. */
    vocab: Record<string, number>;
    /** "left right" in rank order (a space never occurs inside a byte-level token). */
    merges: string[];
  };
}

export interface AddedTokenJson {
  id: number;
  content: string;
  single_word: false;
  lstrip: false;
  rstrip: false;
  normalized: false;
  special: true;
}

type TemplatePiece = { SpecialToken: { id: string; type_id: number } } | { Sequence: { id: 'A' | 'B'; type_id: number } };
interface TemplateProcessingJson {
  type: 'TemplateProcessing';
  single: TemplatePiece[];
  pair: TemplatePiece[];
  special_tokens: Record<string, { id: string; ids: number[]; tokens: string[] }>;
}

/** tokenizer_config.json: what HfTokenizer (and transformers) read BOS/EOS from, plus Lion's training record. */
export interface BpeTokenizerConfigJson {
  tokenizer_class: 'PreTrainedTokenizerFast';
  bos_token: string;
  eos_token: string;
  /** Lion pads with EOS. */
  pad_token: string;
  clean_up_tokenization_spaces: false;
  model_max_length: number;
  added_tokens_decoder: Record<string, Omit<AddedTokenJson, 'id'>>;
  lion_bpe: BpeTrainRecord;
}

/** How the file was trained (stored in tokenizer_config.json under `lion_bpe`). */
export interface BpeTrainRecord {
  /** Version of this record's layout. */
  format_version: 1;
  vocab_size: number;
  min_frequency: number;
  merges: number;
  stopped_by: StopReason;
  texts: number;
  bytes: number;
}

export interface BpeTrainOptions {
  /** Total ids, special tokens included (= the model's vocab_size); at least 256 + specials. */
  vocabSize: number;
  /** Merge only pairs seen at least this often; default 2 (a pair seen once is noise). */
  minFrequency?: number;
  /** Special tokens, appended after the BPE vocabulary in this order; default [bosToken, eosToken]. */
  specialTokens?: string[];
  /** Default `<|begin_of_text|>`; must be among specialTokens. */
  bosToken?: string;
  /** Default `<|end_of_text|>`; must be among specialTokens. */
  eosToken?: string;
  /** Progress: texts read while counting, then merges made. */
  onProgress?: (p: { phase: 'count'; texts: number } | { phase: 'merge'; merges: number }) => void;
}

export interface BpeTrainStats {
  texts: number;
  /** UTF-8 bytes of all texts. */
  bytes: number;
  /** Pre-tokens counted (with repeats). */
  words: number;
  uniqueWords: number;
  merges: number;
  /** The training texts' length in tokens under the learned merges (no BOS). */
  tokens: number;
  /** bytes / tokens: compression on the training texts. */
  bytesPerToken: number;
  /** Ids in the file, special tokens included; less than asked when minFrequency stopped training. */
  vocabSize: number;
  stoppedBy: StopReason;
  countSeconds: number;
  mergeSeconds: number;
}

export interface TrainedBpe {
  /** The tokenizer.json object (write it with stringifyTokenizerJson). */
  tokenizer: BpeTokenizerJson;
  /** The tokenizer_config.json object to write beside it. */
  config: BpeTokenizerConfigJson;
  stats: BpeTrainStats;
}

/** The Split pre-tokenizer section with Llama-3's pattern. */
function splitSection(): BpeTokenizerJson['pre_tokenizer']['pretokenizers'][0] {
  return { type: 'Split', pattern: { Regex: LLAMA3_SPLIT_PATTERN }, behavior: 'Isolated', invert: false };
}

/**
 * Llama-3's split as @huggingface/tokenizers runs it when it loads the file (its regex translation
 * included). Built through the typed Tokenizer constructor: the package's type declarations do not
 * export the pre-tokenizer classes under NodeNext resolution, though the runtime has them.
 */
function splitter(): { pre_tokenize_text(text: string): string[] } {
  const lib = new HfLib({ normalizer: null, pre_tokenizer: splitSection(), post_processor: null, decoder: null, added_tokens: [], model: { type: 'BPE', vocab: {}, merges: [] } }, {});
  const pre = lib.pre_tokenizer;
  if (pre === null) throw new Error('lion: @huggingface/tokenizers built no pre-tokenizer for the Split section');
  return pre;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export interface WordCounts {
  /** Byte-level spelled pre-token → count. */
  counts: Map<string, number>;
  texts: number;
  bytes: number;
  words: number;
  /** Special-token strings cut out of the texts (each encodes to one id). */
  specials: number;
}

/**
 * Cuts texts into pre-tokens with Llama-3's split (special-token text is cut out first, as encoding
 * does) and counts them, byte-level spelled. Memory grows with the distinct pre-tokens, not the text.
 */
export async function countWords(texts: Iterable<string> | AsyncIterable<string>, specialTokens: readonly string[] = [], onText?: (n: number) => void): Promise<WordCounts> {
  // A string is an Iterable<string> of its characters: almost surely a caller's mistake.
  if (typeof texts === 'string') throw new TypeError('lion: texts must be a collection of strings, not one string; hint: pass [text]');
  const split = splitter();
  const raw = new Map<string, number>();
  const specialRe = specialTokens.length === 0 ? null : new RegExp([...specialTokens].sort((a, b) => b.length - a.length).map(escapeRegExp).join('|'), 'g');
  let n = 0;
  let bytes = 0;
  let words = 0;
  let specialsSeen = 0;
  for await (const text of texts) {
    n++;
    bytes += Buffer.byteLength(text, 'utf8');
    let sections = [text];
    if (specialRe !== null && specialTokens.some((s) => text.includes(s))) {
      sections = text.split(specialRe);
      specialsSeen += sections.length - 1;
    }
    for (const section of sections) {
      if (section.length === 0) continue;
      for (const piece of split.pre_tokenize_text(section)) {
        raw.set(piece, (raw.get(piece) ?? 0) + 1);
        words++;
      }
    }
    if (onText && n % 1000 === 0) onText(n);
  }
  // Distinct pieces can share a byte spelling only if they are equal, so this is a relabelling.
  const counts = new Map<string, number>();
  for (const [piece, c] of raw) counts.set(bytesToSymbols(Buffer.from(piece, 'utf8')), c);
  return { counts, texts: n, bytes, words, specials: specialsSeen };
}

/**
 * Trains a byte-level BPE tokenizer on `texts` and returns its tokenizer.json and
 * tokenizer_config.json objects. The output depends only on the multiset of pre-tokens (not on text
 * order) and is byte-identical from run to run.
 * @example
 * const { tokenizer, config } = await trainByteLevelBpe(texts, { vocabSize: 8192 });
 * saveTokenizerFiles('out/tok', { tokenizer, config }); // then loadTokenizer('out/tok')
 */
export async function trainByteLevelBpe(texts: Iterable<string> | AsyncIterable<string>, opts: BpeTrainOptions): Promise<TrainedBpe> {
  const bos = opts.bosToken ?? DEFAULT_BOS;
  const eos = opts.eosToken ?? DEFAULT_EOS;
  const specials = opts.specialTokens ?? [bos, eos];
  const minFrequency = opts.minFrequency ?? 2;
  if (new Set(specials).size !== specials.length) throw new RangeError(`lion: special tokens repeat: ${JSON.stringify(specials)}`);
  if (specials.some((s) => s.length === 0)) throw new RangeError('lion: a special token is empty');
  if (!specials.includes(bos)) throw new RangeError(`lion: the BOS token '${bos}' is not among the special tokens ${JSON.stringify(specials)}`);
  if (!specials.includes(eos)) throw new RangeError(`lion: the EOS token '${eos}' is not among the special tokens ${JSON.stringify(specials)}`);
  const maxTokens = opts.vocabSize - specials.length;
  if (!Number.isInteger(opts.vocabSize) || maxTokens < 256 || opts.vocabSize > MAX_BPE_VOCAB) {
    throw new RangeError(`lion: vocabSize must be an integer in [${256 + specials.length}, ${MAX_BPE_VOCAB}] (256 byte symbols + ${specials.length} special tokens at least), got ${opts.vocabSize}`);
  }
  if (!(Number.isInteger(minFrequency) && minFrequency >= 1)) throw new RangeError(`lion: minFrequency must be an integer >= 1, got ${minFrequency}`);

  let t = performance.now();
  const wc = await countWords(texts, specials, (n) => opts.onProgress?.({ phase: 'count', texts: n }));
  const countSeconds = (performance.now() - t) / 1000;
  t = performance.now();
  const learned = learnBpeMerges(wc.counts, { maxTokens, minFrequency, onMerge: (merges) => opts.onProgress?.({ phase: 'merge', merges }) });
  const mergeSeconds = (performance.now() - t) / 1000;

  const vocab: Record<string, number> = {};
  learned.tokens.forEach((tok, id) => (vocab[tok] = id));
  const base = learned.tokens.length;
  const added: AddedTokenJson[] = specials.map((content, i) => ({ id: base + i, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }));
  const bosId = base + specials.indexOf(bos);
  const tokenizer: BpeTokenizerJson = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: added,
    normalizer: null,
    pre_tokenizer: { type: 'Sequence', pretokenizers: [splitSection(), { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false }] },
    // As Meta's Llama-3 file: libraries that honour the post-processor prepend BOS (Lion adds it itself).
    post_processor: {
      type: 'Sequence',
      processors: [
        { type: 'ByteLevel', add_prefix_space: true, trim_offsets: false, use_regex: true },
        {
          type: 'TemplateProcessing',
          single: [{ SpecialToken: { id: bos, type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
          pair: [{ SpecialToken: { id: bos, type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: bos, type_id: 1 } }, { Sequence: { id: 'B', type_id: 1 } }],
          special_tokens: { [bos]: { id: bos, ids: [bosId], tokens: [bos] } },
        },
      ],
    },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab,
      merges: learned.merges.map(([l, r]) => `${l} ${r}`),
    },
  };
  const vocabSize = base + specials.length;
  const config: BpeTokenizerConfigJson = {
    tokenizer_class: 'PreTrainedTokenizerFast',
    bos_token: bos,
    eos_token: eos,
    pad_token: eos,
    clean_up_tokenization_spaces: false,
    model_max_length: 131072,
    added_tokens_decoder: Object.fromEntries(added.map(({ id, ...rest }) => [String(id), rest])),
    lion_bpe: { format_version: 1, vocab_size: vocabSize, min_frequency: minFrequency, merges: learned.merges.length, stopped_by: learned.stoppedBy, texts: wc.texts, bytes: wc.bytes },
  };
  const stats: BpeTrainStats = {
    texts: wc.texts,
    bytes: wc.bytes,
    words: wc.words,
    uniqueWords: wc.counts.size,
    merges: learned.merges.length,
    tokens: learned.tokensAfter + wc.specials,
    bytesPerToken: learned.tokensAfter + wc.specials === 0 ? 0 : wc.bytes / (learned.tokensAfter + wc.specials),
    vocabSize,
    stoppedBy: learned.stoppedBy,
    countSeconds,
    mergeSeconds,
  };
  return { tokenizer, config, stats };
}
