/**
 * The plain values that flow between Lion's stages (see DESIGN.md): documents, queries, qrels, runs.
 * @module
 */

/**
 * One document of a collection. `title` is absent when the source format has no title field (MS MARCO
 * passages, `{"id", "text"}` lines) and '' when it has one that is empty (many BEIR documents): the
 * authors' BEIR text keeps the difference (see `beirDocText`).
 */
export interface Doc {
  id: string;
  title?: string;
  text: string;
}

/** One query (topic). */
export interface Query {
  id: string;
  text: string;
}

/** Relevance judgements: query id -> doc id -> grade (an integer; 0 = judged not relevant). */
export type Qrels = Map<string, Map<string, number>>;

/** One retrieved document. */
export interface Hit {
  docId: string;
  score: number;
}

/** Ranked results: query id -> hits, sorted by score descending (ties: doc id descending, as trec_eval). */
export type Run = Map<string, Hit[]>;

/**
 * trec_eval's ranking order: score descending, then doc id descending (string order).
 * trec_eval compares doc ids with strcmp (UTF-8 bytes); JS compares UTF-16 code units, which agrees
 * except between astral characters and U+E000..U+FFFF, which doc ids do not use in practice.
 */
export function compareHits(a: Hit, b: Hit): number {
  if (a.score !== b.score) return b.score - a.score;
  return a.docId < b.docId ? 1 : a.docId > b.docId ? -1 : 0;
}
