/**
 * Index building and searching from text through a pluggable encoder: any function from texts to
 * vectors (Lion's model once its loader lands, a BM25 weighting, a test stub) can feed an index.
 * @module
 */
import type { DenseEncoder, Labelled, Run, SparseEncoder, SparseVector } from './types.ts';
import type { IndexManifest } from './manifest.ts';
import { buildSparseIndex, type SparseBuildOptions } from './sparse/build.ts';
import { buildDenseIndex, type DenseBuildOptions } from './dense/build.ts';
import { searchIndex, type AnyIndex, type SearchOptions } from './search.ts';

export interface TextItem {
  id: string;
  text: string;
}

/** Encodes texts in batches of `batchSize`, yielding labelled vectors in input order. */
export async function* encodeStream<V>(
  texts: AsyncIterable<TextItem> | Iterable<TextItem>,
  encoder: (texts: string[]) => Promise<V[]>,
  batchSize = 32,
): AsyncGenerator<Labelled<V>> {
  let batch: TextItem[] = [];
  const flush = async function* (): AsyncGenerator<Labelled<V>> {
    const vs = await encoder(batch.map((b) => b.text));
    if (vs.length !== batch.length)
      throw new Error(`lion index: the encoder returned ${vs.length} vectors for ${batch.length} texts`);
    for (let i = 0; i < batch.length; i++) yield { id: batch[i]!.id, vector: vs[i]! };
    batch = [];
  };
  for await (const t of texts) {
    batch.push(t);
    if (batch.length >= batchSize) yield* flush();
  }
  if (batch.length) yield* flush();
}

/** Encodes a corpus and builds a sparse index from it in one streaming pass. */
export function indexTextsSparse(
  outDir: string,
  texts: AsyncIterable<TextItem> | Iterable<TextItem>,
  encoder: SparseEncoder,
  opts: SparseBuildOptions & { batchSize?: number } = {},
): Promise<IndexManifest> {
  return buildSparseIndex(outDir, encodeStream<SparseVector>(texts, encoder, opts.batchSize), opts);
}

/** Encodes a corpus and builds a dense index from it in one streaming pass. */
export function indexTextsDense(
  outDir: string,
  texts: AsyncIterable<TextItem> | Iterable<TextItem>,
  encoder: DenseEncoder,
  opts: DenseBuildOptions & { batchSize?: number } = {},
): Promise<IndexManifest> {
  return buildDenseIndex(outDir, encodeStream<Float32Array>(texts, encoder, opts.batchSize), opts);
}

/** Encodes query texts and searches them. */
export async function searchTexts(
  index: AnyIndex,
  queries: readonly TextItem[],
  encoder: SparseEncoder | DenseEncoder,
  opts: SearchOptions,
): Promise<Run> {
  const vectors = await (encoder as (t: string[]) => Promise<(SparseVector | Float32Array)[]>)(
    queries.map((q) => q.text),
  );
  return searchIndex(
    index,
    queries.map((q, i) => ({ id: q.id, vector: vectors[i]! })),
    opts,
  );
}
