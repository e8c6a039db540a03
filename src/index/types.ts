/**
 * The values that flow through Lion's indexes: vectors, hits, runs, identities and encoders.
 * @module
 */

/** A sparse vector over a vocabulary: `indices` strictly ascending term ids, `values` their weights. */
export interface SparseVector {
  indices: Uint32Array;
  values: Float32Array;
}

/** A dense vector of length d. */
export type DenseVector = Float32Array;

/** Which kind of representation an index holds. */
export type Paradigm = 'sparse' | 'dense';

/** Hits and runs are the data layer's (one home): a run maps query ids to hits sorted by score descending. */
export type { Hit, Run } from '../data/types.ts';

/**
 * Turns texts into vectors; the encoder-backed index and search paths take one of these, so any model
 * (Lion's own encoder, BM25 weighting, a test stub) can feed an index.
 */
export type SparseEncoder = (texts: string[]) => Promise<SparseVector[]>;
export type DenseEncoder = (texts: string[]) => Promise<Float32Array[]>;

/**
 * Who made the vectors. An index records the identity of its documents' vectors and refuses queries
 * whose identity differs in any field both sides state.
 */
export interface VectorIdentity {
  /** Model name or path, e.g. `lion-sp-1b` or a checkpoint folder's name. */
  model?: string;
  /** A fingerprint of the model weights (e.g. sha256 of the safetensors index), if known. */
  modelHash?: string;
  /** Tokenizer name or path. */
  tokenizer?: string;
  /** sha256 of the tokenizer's vocabulary (see `tokenizerFingerprint`). */
  tokenizerHash?: string;
  /** Where the tokenizer.json was read from (informational: exports use it for token strings). */
  tokenizerFile?: string;
}

/** A labelled vector as read from `lion encode` output. */
export interface Labelled<V> {
  id: string;
  vector: V;
}
