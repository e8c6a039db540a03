/**
 * Teacher scores for distillation (docs/paper.md §5, §7): from a file, from BM25, or from a reranker. A teacher
 * is a function from a query and its candidate texts to one score per candidate.
 * @module
 */
import type { TrainingExample } from '../data/training.ts';
import { readTrainingExamples } from '../data/training.ts';
import type { Bm25Index } from '../lexical/bm25.ts';

export type Teacher = (query: string, docs: readonly string[]) => number[];

interface Sparse {
  indices: ArrayLike<number>;
  values: ArrayLike<number>;
}

/** Dot product of two sparse vectors with ascending indices. */
export function sparseDot(a: Sparse, b: Sparse): number {
  let i = 0;
  let j = 0;
  let s = 0;
  while (i < a.indices.length && j < b.indices.length) {
    const x = a.indices[i]!;
    const y = b.indices[j]!;
    if (x === y) s += a.values[i++]! * b.values[j++]!;
    else if (x < y) i++;
    else j++;
  }
  return s;
}

/** BM25 with the index's collection statistics as the teacher (Lucene scoring, exact). */
export function bm25Teacher(index: Bm25Index): Teacher {
  return (query, docs) => {
    const q = index.encodeQuery(query);
    return docs.map((d) => sparseDot(q, index.encodeDocument(d)));
  };
}

/**
 * Teacher scores from a file of `{query|qid, docids, scores}` lines (docs/paper.md §7 KD format): looked up by
 * query (id or text) and document id. Missing pairs are an error naming both.
 */
export async function fileTeacherScores(file: string): Promise<Map<string, Map<string, number>>> {
  const out = new Map<string, Map<string, number>>();
  for await (const ex of readTrainingExamples(file)) {
    const key = ex.query.id ?? ex.query.text ?? '';
    const m = out.get(key) ?? new Map<string, number>();
    const docs = [...ex.positives, ...ex.negatives];
    const scores = [...(ex.positiveScores ?? []), ...(ex.negativeScores ?? [])];
    if (scores.length !== docs.length) throw new Error(`lion teacher: ${file}: query '${key}' has ${scores.length} scores for ${docs.length} documents`);
    docs.forEach((d, i) => m.set(d.id ?? d.text ?? '', scores[i]!));
    out.set(key, m);
  }
  return out;
}

/** Adds teacher scores to every example (positives and negatives), by texts from `corpus`. */
export function scoreExamples(examples: readonly TrainingExample[], corpus: ReadonlyMap<string, string>, teacher: Teacher, onProgress?: (done: number) => void): TrainingExample[] {
  const text = (r: { id?: string; text?: string }): string => {
    const t = r.text ?? (r.id !== undefined ? corpus.get(r.id) : undefined);
    if (t === undefined) throw new Error(`lion teacher: document '${r.id}' is not in the corpus`);
    return t;
  };
  return examples.map((ex, i) => {
    const docs = [...ex.positives, ...ex.negatives].map(text);
    const s = teacher(text(ex.query), docs);
    onProgress?.(i + 1);
    return { ...ex, positiveScores: s.slice(0, ex.positives.length), negativeScores: s.slice(ex.positives.length) };
  });
}

/** Adds scores looked up in a teacher file; a pair without a score is an error. */
export function attachFileScores(examples: readonly TrainingExample[], scores: ReadonlyMap<string, ReadonlyMap<string, number>>, file: string): TrainingExample[] {
  return examples.map((ex) => {
    const key = ex.query.id ?? ex.query.text ?? '';
    const m = scores.get(key);
    const get = (d: { id?: string; text?: string }): number => {
      const v = m?.get(d.id ?? d.text ?? '');
      if (v === undefined) throw new Error(`lion teacher: ${file} has no score for query '${key}' and document '${d.id ?? d.text}'`);
      return v;
    };
    return { ...ex, positiveScores: ex.positives.map(get), negativeScores: ex.negatives.map(get) };
  });
}
