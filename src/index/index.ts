/**
 * Lion's indexes: sparse inverted indexes with exact and pruned top-k search, flat dense indexes,
 * TREC runs, hybrid fusion and exports to search engines.
 * @module
 */
export type {
  SparseVector,
  DenseVector,
  Paradigm,
  Hit,
  Run,
  SparseEncoder,
  DenseEncoder,
  VectorIdentity,
  Labelled,
} from './types.ts';
export { buildSparseIndex, SparseIndexBuilder, MAX_VOCAB, type SparseBuildOptions } from './sparse/build.ts';
export {
  SparseIndex,
  SPARSE_ALGORITHMS,
  type SparseAlgorithm,
  type SparseSearchOptions,
  type RawHits,
} from './sparse/index.ts';
export { MemorySparseIndex } from './sparse/memory.ts';
export {
  buildDenseIndex,
  DenseIndexBuilder,
  DENSE_DTYPES,
  type DenseDtype,
  type DenseBuildOptions,
} from './dense/build.ts';
export { DenseIndex, type DenseBackend, type DenseSearchOptions } from './dense/index.ts';
export { openIndex, searchIndex, SparsePool, type AnyIndex, type SearchOptions } from './search.ts';
export { indexTextsSparse, indexTextsDense, searchTexts, encodeStream, type TextItem } from './encode.ts';
export { hybridSearch, fuseRuns, type HybridOptions } from './hybrid.ts';
export {
  exportIndex,
  engineMapping,
  engineTokenKey,
  EXPORT_FORMATS,
  type ExportFormat,
  type ExportOptions,
} from './export.ts';
export { readManifest, checkIdentity, INDEX_FORMAT_VERSION, type IndexManifest } from './manifest.ts';
export { VectorFile, parseVectorLine, type VectorMeta } from './vectors.ts';
export { readTokenizerInfo } from './tokens.ts';
export { SyntheticSparse } from './synthetic.ts';
