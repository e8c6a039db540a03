/**
 * The lexical baseline: English analysis, BM25 with Lucene's scoring, sparse BM25 vectors and
 * hard-negative mining.
 * @module
 */
export {
  englishAnalyzer,
  tokenize,
  LUCENE_ENGLISH_STOP_WORDS,
  type Analyzer,
  type AnalyzerOptions,
} from './analyzer.ts';
export {
  Bm25Index,
  Bm25Builder,
  ANSERINI_BM25,
  type Bm25Params,
  type Bm25BuildOptions,
  type SparseVector,
} from './bm25.ts';
export { mineHardNegatives, mineTrainingExamples, type MiningOptions } from './mining.ts';
