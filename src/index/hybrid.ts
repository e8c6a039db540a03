/**
 * Hybrid retrieval: a sparse and a dense run for the same queries, fused by reciprocal rank or by a
 * normalised linear combination (the fusion functions live in src/eval/fusion.ts).
 * @module
 */
import { rrf, fuseLinear, type Normalisation } from '../eval/fusion.ts';
import type { Labelled, Run, SparseVector } from './types.ts';
import { searchIndex, type SearchOptions } from './search.ts';
import type { SparseIndex } from './sparse/index.ts';
import type { DenseIndex } from './dense/index.ts';

export interface HybridOptions extends SearchOptions {
  /** 'rrf' (default) or 'linear'. */
  fusion?: 'rrf' | 'linear';
  /** RRF's k; default 60. */
  rrfK?: number;
  /** Linear weights [sparse, dense]; default [0.5, 0.5]. */
  weights?: [number, number];
  /** Per-query score normalisation for 'linear'; default 'minmax'. */
  normalisation?: Normalisation;
  /** Depth of each input run; default k. */
  depth?: number;
}

/** Fuses two runs as `hybridSearch` does. */
export function fuseRuns(
  sparse: Run,
  dense: Run,
  opts: Pick<HybridOptions, 'fusion' | 'rrfK' | 'weights' | 'normalisation' | 'k'>,
): Run {
  return (opts.fusion ?? 'rrf') === 'rrf'
    ? rrf([sparse, dense], opts.rrfK ?? 60, { depth: opts.k })
    : fuseLinear([sparse, dense], opts.weights ?? [0.5, 0.5], opts.normalisation ?? 'minmax', { depth: opts.k });
}

/** Searches both indexes (each with its own query vectors, same query ids) and fuses the runs. */
export async function hybridSearch(
  sparse: SparseIndex,
  dense: DenseIndex,
  sparseQueries: readonly Labelled<SparseVector>[],
  denseQueries: readonly Labelled<Float32Array>[],
  opts: HybridOptions,
): Promise<Run> {
  const depth = opts.depth ?? opts.k;
  const a = await searchIndex(sparse, sparseQueries, { ...opts, k: depth });
  const b = await searchIndex(dense, denseQueries, { ...opts, k: depth });
  return fuseRuns(a, b, opts);
}
