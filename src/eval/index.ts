/**
 * Evaluation: trec_eval-exact measures, significance tests, run fusion.
 * @module
 */
export { evaluate, type EvaluateOptions, type EvaluationResult } from './evaluate.ts';
export { parseMeasure, DEFAULT_MEASURES, type Measure, type MeasureKind } from './measures.ts';
export {
  pairedTTest,
  randomisationTest,
  pairByQuery,
  type PairedTestResult,
  type TTestResult,
} from './significance.ts';
export { rrf, fuseLinear, type Normalisation, type FusionOptions } from './fusion.ts';
