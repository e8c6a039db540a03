/**
 * Measure names in the ir_measures style, and what each means in trec_eval terms:
 *
 * | name | trec_eval | relevance |
 * |---|---|---|
 * | `RR@k` (`RR` = no cutoff) | `-M k -m recip_rank` | grade >= level |
 * | `nDCG@k` | `-m ndcg_cut.k` | gain = grade (all positive grades; level ignored) |
 * | `R@k` | `-m recall.k` | grade >= level |
 * | `P@k` | `-m P.k` | grade >= level |
 * | `AP` | `-m map` | grade >= level |
 *
 * `(rel=N)` after the name sets that measure's level (`R(rel=2)@1000` is trec_eval `-l 2 -m recall.1000`);
 * otherwise the evaluation's level applies (default 1, trec_eval's `-l`). trec_eval's own names
 * (`recip_rank`, `ndcg_cut_10`, `ndcg_cut.10`, `recall_1000`, `P_10`, `map`) are accepted too.
 * @module
 */

export type MeasureKind = 'RR' | 'nDCG' | 'R' | 'P' | 'AP';

export interface Measure {
  /** Canonical name, e.g. `nDCG@10`, `R(rel=2)@1000`. */
  name: string;
  kind: MeasureKind;
  /** Rank cutoff; undefined = the whole ranking (RR, AP). */
  cutoff?: number;
  /** Minimum grade that counts as relevant for this measure; undefined = the evaluation's level. */
  relLevel?: number;
}

const KINDS: Record<string, MeasureKind> = {
  rr: 'RR',
  mrr: 'RR',
  ndcg: 'nDCG',
  r: 'R',
  recall: 'R',
  p: 'P',
  ap: 'AP',
  map: 'AP',
};
const NEEDS_CUTOFF: ReadonlySet<MeasureKind> = new Set(['nDCG', 'R', 'P']);

function canonical(kind: MeasureKind, cutoff: number | undefined, relLevel: number | undefined): string {
  return `${kind}${relLevel === undefined ? '' : `(rel=${relLevel})`}${cutoff === undefined ? '' : `@${cutoff}`}`;
}

function bad(s: string, why: string): Error {
  return new Error(
    `lion: unknown measure '${s}' (${why}); hint: use RR@10, nDCG@10, R@1000, P@10, AP, or R(rel=2)@1000`,
  );
}

/** Parses a measure name (ir_measures style or trec_eval style). */
export function parseMeasure(s: string): Measure {
  const t = s.trim();
  // trec_eval names
  const te = /^(recip_rank|map|ndcg_cut|recall|P)(?:[._](\d+))?$/.exec(t);
  let kind: MeasureKind | undefined;
  let cutoff: number | undefined;
  let relLevel: number | undefined;
  if (te) {
    kind = ({ recip_rank: 'RR', map: 'AP', ndcg_cut: 'nDCG', recall: 'R', P: 'P' } as const)[te[1] as 'map'];
    cutoff = te[2] === undefined ? undefined : Number(te[2]);
    if (kind === 'AP' && cutoff !== undefined) throw bad(s, 'map takes no cutoff');
  } else {
    const m = /^([A-Za-z]+)(?:\(rel=(-?\d+)\))?(?:@(\d+))?$/.exec(t);
    if (!m) throw bad(s, 'not of the form NAME[(rel=N)][@k]');
    kind = KINDS[m[1]!.toLowerCase()];
    if (!kind) throw bad(s, `'${m[1]}' is not one of RR, nDCG, R, P, AP`);
    relLevel = m[2] === undefined ? undefined : Number(m[2]);
    cutoff = m[3] === undefined ? undefined : Number(m[3]);
    if (kind === 'AP' && cutoff !== undefined)
      throw bad(s, 'AP is computed over the whole ranking; AP@k is not supported');
    if (kind === 'nDCG' && relLevel !== undefined)
      throw bad(s, 'nDCG uses every positive grade as gain; it takes no rel level');
  }
  if (cutoff !== undefined && cutoff < 1) throw bad(s, 'the cutoff must be at least 1');
  if (NEEDS_CUTOFF.has(kind) && cutoff === undefined) throw bad(s, `${kind} needs a cutoff such as @10`);
  return { name: canonical(kind, cutoff, relLevel), kind, cutoff, relLevel };
}

/** The measures `lion eval` reports when none are named. */
export const DEFAULT_MEASURES: readonly string[] = ['RR@10', 'nDCG@10', 'R@1000', 'P@10', 'AP'];
