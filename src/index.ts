/**
 * Lion as a library: `import { … } from 'lion'`. The CLI (`lion <command>`) is a thin shell over
 * exactly these functions, so anything a command does can be done from code. Grouped by the data
 * flow: models and tokenizers → encoder → indexes and search → BM25 → evaluation → training.
 *
 * Nothing here loads the libtorch addon at import time: BM25, index search over stored vectors and
 * evaluation work without it; the first tensor operation loads it (see `engineInfo`).
 *
 * Library errors read `lion…: what; hint: fix` and name the file (and line) at fault.
 * @module
 */

// ---- models, adapters and tokenizers --------------------------------------------------------------
/** An HF-layout Llama folder (config.json, safetensors or .bin weights, tokenizer.json). */
export { loadModel, saveModel, type LoadOptions, type LoadedModel, type ModelIdentity } from './model/load.ts';
/** A model folder or llama2.c checkpoint plus an optional PEFT adapter, for a paradigm. */
export {
  loadBackbone,
  attachAdapter,
  saveAdapter,
  vectorIdentity,
  type Backbone,
  type BackboneSpec,
} from './model/backbone.ts';
/** Models by name from the Hugging Face Hub (standard cache layout, offline mode, resume). */
export { modelEncoder, corpusTexts, type TextEncoder } from './model/text-encoder.ts';
export {
  resolveModel,
  resolveBackbone,
  loadPretrained,
  parseModelRef,
  hubCacheDir,
  type HubOptions,
  type ModelRef,
} from './model/hub.ts';
/** A seeded random Llama in HF layout (tests, tiny experiments). */
export { makeModel, makeConfig, randomModel, resolveTokenizer, type ModelShape } from './model/make-model.ts';
export { LORA_TARGETS, type LoraTarget, type PeftLayout } from './formats/peft.ts';
export { PAPER_LORA, type LoraConfig } from './model/lora.ts';
export type { LlamaConfig } from './formats/hf-config.ts';
export { loadTokenizer, Tokenizer, HfTokenizer, type TokenBatch } from './text/index.ts';

// ---- encoding ---------------------------------------------------------------------------------------
/** Texts → sparse (vocabulary-sized, SPLADE-style) or dense (hidden-sized) vectors, by the paper's rules. */
export {
  Encoder,
  beirDocText,
  toSparse,
  MSMARCO_LENGTHS,
  BEIR_LENGTHS,
  type EncoderOptions,
  type MaxLengths,
  type TextKind,
} from './model/encoder.ts';

// ---- indexes and search -----------------------------------------------------------------------------
/**
 * Everything of src/index/index.ts: vectors, hits and runs; building, loading and searching sparse
 * and dense indexes (and the exact in-memory `MemorySparseIndex`); hybrid search and run fusion; exports
 * to search engines; manifests and vector files.
 */
export * from './index/index.ts';

// ---- BM25 ---------------------------------------------------------------------------------------------
export {
  Bm25Index,
  Bm25Builder,
  ANSERINI_BM25,
  englishAnalyzer,
  mineHardNegatives,
  mineTrainingExamples,
  type Bm25Params,
  type Analyzer,
  type MiningOptions,
} from './lexical/index.ts';

// ---- data and evaluation --------------------------------------------------------------------------------
export type { Doc, Query, Qrels } from './data/types.ts';
export {
  openDataset,
  listDatasets,
  readDocs,
  readQueries,
  readQrels,
  readTrecRun,
  writeTrecRun,
  readTrecQrels,
  readTrainingExamples,
  writeTrainingExamples,
  type TrainingExample,
} from './data/index.ts';
export {
  evaluate,
  parseMeasure,
  DEFAULT_MEASURES,
  pairedTTest,
  randomisationTest,
  rrf,
  fuseLinear,
  type EvaluationResult,
  type Measure,
  type PairedTestResult,
} from './eval/index.ts';

// ---- training ---------------------------------------------------------------------------------------------
/** The paper's recipes: causal-LM pretraining, MNTP adaptation, and retriever fine-tuning (CL / KD / CL+KD). */
export {
  pretrain,
  mntp,
  trainRetriever,
  loadExamples,
  type CommonTrainOptions,
  type LmTrainOptions,
  type MntpOptions,
  type RetrieverTrainOptions,
  type Tuning,
} from './train/recipes.ts';
export type { LoopSummary, ProgressEvent } from './train/loop.ts';

// ---- the engine ---------------------------------------------------------------------------------------------
export { engineInfo, setNumThreads, getNumThreads, devices, tidy, noGrad, manualSeed } from './torch/index.ts';
