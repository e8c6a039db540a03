/**
 * Block-max MaxScore, document at a time (Turtle & Flood's MaxScore with Ding & Suel's block maxima,
 * as PISA's `block_max_maxscore`): terms sorted by their largest contribution are split into
 * non-essential ones (whose contributions together cannot lift a document past the k-th score) and
 * essential ones; only documents in essential lists are candidates, and the non-essential lists are
 * probed only while the block maxima still allow the document to enter.
 *
 * Documents come in ascending order, so a document whose score equals the k-th score never enters
 * (ties go to the smaller doc number): pruning at `≤ threshold` is safe.
 * @module
 */
import type { SparseIndexData, Scratch } from '../sparse/data.ts';
import type { QuantQuery } from '../sparse/quantize.ts';
import { PostingCursor } from '../cursor.ts';
import { TopK } from '../topk.ts';

export const name = 'maxscore';

export function maxscore(d: SparseIndexData, q: QuantQuery, k: number, _s: Scratch): TopK {
  const N = d.N;
  const cs: PostingCursor[] = [];
  for (let j = 0; j < q.terms.length; j++) {
    const c = new PostingCursor(d, q.terms[j]!, q.weights[j]!);
    if (c.doc < N) cs.push(c);
  }
  cs.sort((a, b) => a.maxScore - b.maxScore);
  const m = cs.length;
  const prefix = new Float64Array(m);
  let acc = 0;
  for (let i = 0; i < m; i++) prefix[i] = acc += cs[i]!.maxScore;
  const bm = new Float64Array(m);

  const top = new TopK(k);
  // Pruning drops documents whose bound is at or below `cut`. In input order that is the k-th score
  // (an equal score never enters: ties go to the smaller number, seen first). In a reordered index a
  // later document may hold a smaller input number, so only bounds strictly below the k-th score may
  // go; scores are integers, so `cut` = k-th score − ½ says exactly that.
  const od = d.origDoc;
  const tieRoom = od === null ? 0 : 0.5;
  let th = -Infinity;
  let ne = 0;
  let cur = N;
  for (const c of cs) if (c.doc < cur) cur = c.doc;

  while (ne < m && cur < N) {
    let score = 0;
    let next = N;
    for (let i = ne; i < m; i++) {
      const c = cs[i]!;
      if (c.doc === cur) {
        score += c.score();
        c.next();
      }
      if (c.doc < next) next = c.doc;
    }
    if (ne > 0) {
      // block-max bound of the non-essential lists at `cur`
      let bound = score;
      for (let i = 0; i < ne; i++) bound += bm[i] = cs[i]!.blockMaxAt(cur);
      if (bound > th) {
        let rest = bound - score;
        for (let i = ne - 1; i >= 0; i--) {
          rest -= bm[i]!;
          if (bm[i]! > 0) {
            const c = cs[i]!;
            c.nextGeq(cur);
            if (c.doc === cur) score += c.score();
          }
          if (score + rest <= th) break;
        }
      } else {
        score = -1;
      }
    }
    if (score > th && score > 0) {
      top.push(score, od === null ? cur : od[cur]!);
      if (top.size === k) {
        th = top.threshold - tieRoom;
        let changed = false;
        while (ne < m && prefix[ne]! <= th) {
          ne++;
          changed = true;
        }
        if (changed) {
          next = N;
          for (let i = ne; i < m; i++) if (cs[i]!.doc < next) next = cs[i]!.doc;
        }
      }
    }
    cur = next;
  }
  return top;
}
