/**
 * Exhaustive term-at-a-time scoring: every posting of every query term adds into a per-document
 * accumulator, then one scan selects the top k. The reference every other algorithm must match.
 * @module
 */
import type { SparseIndexData, Scratch } from '../sparse/data.ts';
import type { QuantQuery } from '../sparse/quantize.ts';
import { unpackDocIds } from '../codec/bitpack.ts';
import { TopK } from '../topk.ts';

export const name = 'exhaustive';

export function exhaustive(d: SparseIndexData, q: QuantQuery, k: number, s: Scratch): TopK {
  const acc = s.acc;
  const buf = s.docBuf;
  const { termStart, termBlockStart, blockLastDoc, blockWidth, blockWordStart, words, impacts } = d;
  for (let j = 0; j < q.terms.length; j++) {
    const t = q.terms[j]!;
    const w = q.weights[j]!;
    const b0 = termBlockStart[t]!;
    const b1 = termBlockStart[t + 1]!;
    const p0 = termStart[t]!;
    const df = termStart[t + 1]! - p0;
    let prev = -1;
    for (let b = b0; b < b1; b++) {
      const off = (b - b0) * 128;
      const n = df - off < 128 ? df - off : 128;
      unpackDocIds(words, blockWordStart[b]!, n, blockWidth[b]!, prev, buf);
      const p = p0 + off;
      for (let i = 0; i < n; i++) {
        const doc = buf[i]!;
        acc[doc] = acc[doc]! + w * impacts[p + i]!;
      }
      prev = blockLastDoc[b]!;
    }
  }
  const top = new TopK(k);
  let th = 0;
  const N = d.N;
  const od = d.origDoc;
  if (od === null) {
    // Ascending doc order: an equal score never displaces a held document, so `>` is the whole test.
    for (let doc = 0; doc < N; doc++) {
      const v = acc[doc]!;
      if (v > th) {
        top.push(v, doc);
        if (top.size === k) th = top.threshold;
      }
    }
  } else {
    // Reordered: input numbers arrive in no order, so an equal score may still enter (the queue decides).
    for (let doc = 0; doc < N; doc++) {
      const v = acc[doc]!;
      if (v >= th && v > 0) {
        top.push(v, od[doc]!);
        if (top.size === k) th = top.threshold;
      }
    }
  }
  acc.fill(0);
  return top;
}
