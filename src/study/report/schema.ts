/**
 * Validation of a results JSON at the edge (a file written by `lion study`, or by hand), so the
 * renderers can trust the {@link StudyResults} type. Unknown extra fields are kept; a missing or
 * mistyped field is an error naming the file and the field's path.
 * @module
 */
import { z } from 'zod';
import type { StudyResults } from './types.ts';

/** The results format version this reader understands (files without one are taken as version 1). */
export const RESULTS_FORMAT_VERSION = 1;

const evalSet = z.looseObject({
  id: z.string().min(1),
  label: z.string(),
  metric: z.string(),
  domain: z.enum(['in', 'out']),
});

const optionalNumber = z.number().optional();

const row = z.looseObject({
  kind: z.enum(['model', 'baseline']),
  size: z.string(),
  params: z.number().nullable(),
  paradigm: z.enum(['sparse', 'dense', 'bm25']),
  objective: z.enum(['cl', 'kd', 'cl+kd']).nullable(),
  metrics: z.record(z.string(), z.number()),
  nnzQuery: optionalNumber,
  nnzDoc: optionalNumber,
  flops: optionalNumber,
  indexBytes: optionalNumber,
  encodeTokensPerSec: optionalNumber,
  trainFlops: optionalNumber,
  trainSeconds: optionalNumber,
  trainSteps: optionalNumber,
  failed: z.string().optional(),
});

const results = z.looseObject({
  formatVersion: z.number().int().optional(),
  title: z.string(),
  createdAt: z.string(),
  config: z.record(z.string(), z.unknown()),
  hardware: z.looseObject({
    cpu: z.string(),
    cores: z.number(),
    memoryGiB: z.number(),
    gpu: z.string().nullable(),
    node: z.string(),
    libtorch: z.string(),
  }),
  evalSets: z.array(evalSet),
  rows: z.array(row),
  wallSeconds: optionalNumber,
  noiseThreshold: z.number().nonnegative().optional(),
});

/**
 * Parses and validates results JSON text. `source` names the file in errors.
 * @throws Error `lion study: invalid results '<source>': <path>: <problem>; hint: ...`
 */
export function parseStudyResults(json: string, source = 'results.json'): StudyResults {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (e) {
    throw new Error(
      `lion study: results are not JSON '${source}': ${(e as Error).message}; hint: is the file complete?`,
      { cause: e },
    );
  }
  const r = results.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0];
    const where = issue === undefined || issue.path.length === 0 ? '(top level)' : issue.path.map(String).join('.');
    throw new Error(
      `lion study: invalid results '${source}': ${where}: ${issue?.message ?? 'invalid'}; hint: see docs/study-report.md for the format`,
    );
  }
  const v = r.data.formatVersion ?? RESULTS_FORMAT_VERSION;
  if (v !== RESULTS_FORMAT_VERSION)
    throw new Error(
      `lion study: unsupported results format version '${v}' in '${source}'; hint: this Lion reads version ${RESULTS_FORMAT_VERSION}, upgrade Lion`,
    );
  const ids = new Set<string>();
  for (const e of r.data.evalSets) {
    if (ids.has(e.id))
      throw new Error(
        `lion study: invalid results '${source}': duplicate eval set id '${e.id}'; hint: ids must be unique`,
      );
    ids.add(e.id);
  }
  const parsed: StudyResults = r.data;
  return parsed;
}
