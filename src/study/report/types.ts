/**
 * The scaling study's results: the one value the study runner produces and the report layer reads.
 * Everything in src/study/report/ is a function of a {@link StudyResults}, so a report can be rebuilt
 * from a saved `results.json` without rerunning anything.
 * @module
 */

export type StudyParadigm = 'sparse' | 'dense';
export type StudyObjective = 'cl' | 'kd' | 'cl+kd';

/** One evaluation set, e.g. `{ id: 'beir/scifact/test', label: 'SciFact', metric: 'nDCG@10', domain: 'out' }`. */
export interface EvalSetSpec {
  id: string;
  label: string;
  /** The set's main metric, in ir_measures naming (`nDCG@10`, `RR@10`). */
  metric: string;
  /** In-domain (the training collection, e.g. MS MARCO / TREC DL) or out-of-domain (BEIR). */
  domain: 'in' | 'out';
}

/** One cell of the grid (a trained model) or a baseline. */
export interface StudyRow {
  /** `baseline` = BM25. */
  kind: 'model' | 'baseline';
  /** e.g. 'nano-1', or 'BM25'. */
  size: string;
  /** Non-embedding parameters (null for baselines). */
  params: number | null;
  paradigm: StudyParadigm | 'bm25';
  objective: StudyObjective | null;
  /** Eval set id -> main metric value. */
  metrics: Record<string, number>;
  /** Why the cell has no results (it failed; rerunning the study retries it). */
  failed?: string;
  /** Sparse: mean non-zeros per query. */
  nnzQuery?: number;
  /** Sparse: mean non-zeros per document. */
  nnzDoc?: number;
  /** Sparse: expected FLOPs per query-doc pair, SPLADE-style (Σ_j p_q(j)·p_d(j)). */
  flops?: number;
  indexBytes?: number;
  encodeTokensPerSec?: number;
  trainFlops?: number;
  trainSeconds?: number;
  trainSteps?: number;
}

/** Everything a report shows. */
export interface StudyResults {
  /** Version of this JSON format; absent means 1 (see schema.ts). */
  formatVersion?: number;
  title: string;
  /** ISO 8601. */
  createdAt: string;
  /** The run's configuration (rendered as a collapsible table and JSON). */
  config: Record<string, unknown>;
  hardware: { cpu: string; cores: number; memoryGiB: number; gpu: string | null; node: string; libtorch: string };
  evalSets: EvalSetSpec[];
  rows: StudyRow[];
  wallSeconds?: number;
  /**
   * Differences of a main metric up to this size are called noise by the findings (default 0.005).
   * A study with a significance test or seed variance at hand can set it from that.
   */
  noiseThreshold?: number;
}
