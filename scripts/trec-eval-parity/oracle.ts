/**
 * A line-by-line transcription of trec_eval 9's computation (get_qrels.c, get_trec_results.c,
 * form_res_rels.c, m_recip_rank.c, m_ndcg_cut.c, m_recall.c, m_P.c, m_map.c, and main's averaging),
 * kept deliberately close to the C (arrays of rel levels, the ideal-DCG level walk, the cutoff loops)
 * and independent of src/eval. It stands in for the trec_eval binary where that cannot be installed;
 * `compare.ts` checks src/eval against it and, when TREC_EVAL points at a binary, against trec_eval.
 * @module
 */

const RELVALUE_NONPOOL = -1;
const RELVALUE_UNJUDGED = -2;

interface TextQrel {
  docno: string;
  rel: number;
}
interface TextResult {
  docno: string;
  sim: number;
}

/** strcmp on byte strings (the generator uses ASCII ids, where this equals JS order). */
function strcmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** get_qrels.c: whitespace fields `qid iter docno rel`, rel via atol; sorted by qid then docno. */
export function parseQrels(text: string): Map<string, TextQrel[]> {
  const out = new Map<string, TextQrel[]>();
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 4 || line.trim().startsWith('#')) continue;
    const list = out.get(f[0]!) ?? [];
    list.push({ docno: f[2]!, rel: parseInt(f[3]!, 10) });
    out.set(f[0]!, list);
  }
  for (const list of out.values()) list.sort((a, b) => strcmp(a.docno, b.docno));
  return out;
}

/** get_trec_results.c: `qid iter docno rank sim run_id`, sim via atof; rank ignored. */
export function parseResults(text: string): Map<string, TextResult[]> {
  const out = new Map<string, TextResult[]>();
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 6) continue;
    const list = out.get(f[0]!) ?? [];
    list.push({ docno: f[2]!, sim: parseFloat(f[4]!) });
    out.set(f[0]!, list);
  }
  return out;
}

interface ResRels {
  num_ret: number;
  num_rel: number;
  results_rel_list: number[];
  rel_levels: number[];
  num_rel_levels: number;
}

/** form_res_rels.c (normal path, no -J). */
function formResRels(
  results: TextResult[],
  qrels: TextQrel[],
  relevanceLevel: number,
  maxNumDocsPerTopic: number,
): ResRels {
  const info = results.map((r) => ({ docno: r.docno, sim: r.sim, rank: 0, rel: 0 }));
  // comp_sim_docno: sim descending, then strcmp(p2->docno, p1->docno)
  info.sort((p1, p2) => (p1.sim > p2.sim ? -1 : p1.sim < p2.sim ? 1 : strcmp(p2.docno, p1.docno)));
  let num_results = info.length;
  if (num_results > maxNumDocsPerTopic) num_results = maxNumDocsPerTopic;
  for (let i = 0; i < num_results; i++) info[i]!.rank = i + 1;
  const top = info.slice(0, num_results).sort((a, b) => strcmp(a.docno, b.docno));
  for (let i = 1; i < num_results; i++)
    if (top[i]!.docno === top[i - 1]!.docno) throw new Error(`duplicate docs ${top[i]!.docno}`);
  let max_rel = qrels[0]!.rel;
  for (const q of qrels) if (max_rel < q.rel) max_rel = q.rel;
  const rel_levels = new Array<number>(Math.max(max_rel + 1, 0)).fill(0);
  let qp = 0;
  for (let i = 0; i < num_results; i++) {
    while (qp < qrels.length && strcmp(qrels[qp]!.docno, top[i]!.docno) < 0) {
      if (qrels[qp]!.rel >= 0) rel_levels[qrels[qp]!.rel]!++;
      qp++;
    }
    if (qp >= qrels.length || strcmp(qrels[qp]!.docno, top[i]!.docno) > 0) {
      top[i]!.rel = RELVALUE_NONPOOL;
    } else {
      top[i]!.rel = qrels[qp]!.rel < 0 ? RELVALUE_UNJUDGED : qrels[qp]!.rel;
      if (qrels[qp]!.rel >= 0) rel_levels[qrels[qp]!.rel]!++;
      qp++;
    }
  }
  while (qp < qrels.length) {
    if (qrels[qp]!.rel >= 0) rel_levels[qrels[qp]!.rel]!++;
    qp++;
  }
  const results_rel_list = new Array<number>(num_results).fill(0);
  for (let i = 0; i < num_results; i++) results_rel_list[top[i]!.rank - 1] = top[i]!.rel;
  let num_rel = 0;
  let num_rel_levels = 0;
  for (let i = 0; i <= max_rel; i++) {
    if (rel_levels[i]) {
      num_rel_levels = i + 1;
      if (i >= relevanceLevel) num_rel += rel_levels[i]!;
    }
  }
  return { num_ret: num_results, num_rel, results_rel_list, rel_levels, num_rel_levels };
}

function recipRank(r: ResRels, level: number): number {
  let i = 0;
  for (; i < r.num_ret; i++) if (r.results_rel_list[i]! >= level) break;
  return i < r.num_ret ? 1 / (i + 1) : 0;
}

function ndcgCut(r: ResRels, cutoff: number): number {
  let sum = 0;
  let value = 0;
  let done = false;
  for (let i = 0; i < r.num_ret; i++) {
    if (i === cutoff) {
      value = sum;
      done = true;
      break;
    }
    const gain = r.results_rel_list[i]!;
    if (gain > 0) sum += gain / Math.log2(i + 2);
  }
  if (!done) value = sum;
  let cur_lvl = r.num_rel_levels - 1;
  let lvl_count = 0;
  let ideal_dcg = 0;
  let normalised = false;
  for (let i = 0; ; i++) {
    lvl_count++;
    while (cur_lvl > 0 && lvl_count > r.rel_levels[cur_lvl]!) {
      cur_lvl--;
      lvl_count = 1;
    }
    if (cur_lvl <= 0) break;
    if (i === cutoff) {
      if (ideal_dcg > 0) value /= ideal_dcg;
      normalised = true;
      break;
    }
    ideal_dcg += cur_lvl / Math.log2(i + 2);
  }
  if (!normalised && ideal_dcg > 0) value /= ideal_dcg;
  return value;
}

function recall(r: ResRels, cutoff: number, level: number): number {
  if (r.num_rel === 0) return 0;
  let rel_so_far = 0;
  for (let i = 0; i < r.num_ret; i++) {
    if (i === cutoff) return rel_so_far / r.num_rel;
    if (r.results_rel_list[i]! >= level) rel_so_far++;
  }
  return rel_so_far / r.num_rel;
}

function precision(r: ResRels, cutoff: number, level: number): number {
  let rel_so_far = 0;
  for (let i = 0; i < r.num_ret; i++) {
    if (i === cutoff) return rel_so_far / i;
    if (r.results_rel_list[i]! >= level) rel_so_far++;
  }
  return rel_so_far / cutoff;
}

function map(r: ResRels, level: number): number {
  let rel_so_far = 0;
  let sum = 0;
  for (let i = 0; i < r.num_ret; i++) {
    if (r.results_rel_list[i]! >= level) {
      rel_so_far++;
      sum += rel_so_far / (i + 1);
    }
  }
  return rel_so_far ? sum / r.num_rel : 0;
}

/** One trec_eval invocation: a measure (trec_eval name), a level (-l) and a max depth (-M). */
export interface OracleMeasure {
  name: 'recip_rank' | 'ndcg_cut' | 'recall' | 'P' | 'map';
  cutoff?: number;
  level: number;
  maxDocs?: number;
}

/** trec_eval's per-query values (qrels order: sorted qids) and mean over queries in both files. */
export function trecEval(
  qrelsText: string,
  runText: string,
  m: OracleMeasure,
): { perQuery: Map<string, number>; mean: number } {
  const qrels = parseQrels(qrelsText);
  const results = parseResults(runText);
  const perQuery = new Map<string, number>();
  for (const qid of [...qrels.keys()].sort(strcmp)) {
    const res = results.get(qid);
    if (!res) continue; // queries without results are skipped (no -c)
    const r = formResRels(res, qrels.get(qid)!, m.level, m.maxDocs ?? Number.MAX_SAFE_INTEGER);
    let v: number;
    if (m.name === 'recip_rank') v = recipRank(r, m.level);
    else if (m.name === 'ndcg_cut') v = ndcgCut(r, m.cutoff!);
    else if (m.name === 'recall') v = recall(r, m.cutoff!, m.level);
    else if (m.name === 'P') v = precision(r, m.cutoff!, m.level);
    else v = map(r, m.level);
    perQuery.set(qid, v);
  }
  let sum = 0;
  for (const v of perQuery.values()) sum += v;
  return { perQuery, mean: perQuery.size ? sum / perQuery.size : 0 };
}
