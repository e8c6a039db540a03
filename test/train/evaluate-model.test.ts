// Validation's exact retrieval: the index's scan and top-k queue, over float weights, ties by input position.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { HfTokenizer } from '../../src/text/hf-tokenizer.ts';
import { makeModel, resolveTokenizer } from '../../src/model/make-model.ts';
import { loadBackbone } from '../../src/model/backbone.ts';
import { Encoder, type SparseVector } from '../../src/model/encoder.ts';
import { exactRun } from '../../src/train/evaluate-model.ts';

const work = mkdtempSync(path.join(tmpdir(), 'lion-exact-'));
after(() => rmSync(work, { recursive: true, force: true }));
const model = path.join(work, 'model');
makeModel(model, { hidden: 32, layers: 1, heads: 4, intermediate: 64 }, HfTokenizer.fromFile(resolveTokenizer('llama3')), 2);

/**
 * Encodes each distinct text once, so duplicated texts get bitwise-identical vectors (a batch's rows can
 * differ in the last bits by position), hence exactly tied scores at different input positions.
 */
class DedupEncoder extends Encoder {
  override encodeAll(texts: readonly string[], kind: 'query' | 'doc'): SparseVector[] | Float32Array[] {
    const unique = [...new Set(texts)];
    const vecs = super.encodeAll(unique, kind);
    return texts.map((t) => vecs[unique.indexOf(t)]!) as SparseVector[] | Float32Array[];
  }
}

const texts = ['apple pie', 'river bank', 'apple pie', 'stone wall', 'river bank', 'cloud storage', 'apple pie', 'piano keys'];
const docs = new Map(texts.map((t, i) => [`d${i}`, t]));
const queries = new Map([
  ['q1', 'apple'],
  ['q2', 'river music'],
]);

test('sparse: exactRun equals the float brute force over the encoder vectors; ties go to the earlier document', () => {
  const b = loadBackbone({ model, paradigm: 'sparse' });
  try {
    const enc = new DedupEncoder(b.model, b.tokenizer, { paradigm: 'sparse' });
    const dv = enc.encodeAll([...docs.values()], 'doc') as SparseVector[];
    const qv = enc.encodeAll([...queries.values()], 'query') as SparseVector[];
    for (const k of [1, 2, 3, 5, 100]) {
      const run = exactRun(enc, queries, docs, k);
      [...queries.keys()].forEach((q, qi) => {
        // Σ q × d in the query's term order (the scan's order of addition), positive only, then the tie rule
        const scored = dv.map((d, doc) => {
          const w = new Map(Array.from(d.indices, (t, i) => [t, d.values[i]!]));
          let s = 0;
          qv[qi]!.indices.forEach((t, i) => {
            if (w.has(t)) s += qv[qi]!.values[i]! * w.get(t)!;
          });
          return { doc, s };
        });
        const want = scored.filter((x) => x.s > 0).sort((a, b) => b.s - a.s || a.doc - b.doc).slice(0, k);
        assert.deepEqual(run.get(q), want.map((x) => ({ docId: `d${x.doc}`, score: x.s })), `${q} k=${k}`);
      });
    }
    // the three copies of 'apple pie' tie exactly; at k=2 the first two copies are kept
    const all = exactRun(enc, queries, docs, 100).get('q1')!;
    const apple = all.filter((h) => docs.get(h.docId) === 'apple pie');
    assert.equal(new Set(apple.map((h) => h.score)).size, 1, 'copies score the same');
    assert.deepEqual(apple.map((h) => h.docId), ['d0', 'd2', 'd6']);
  } finally {
    b.model.dispose();
  }
});

test('dense: every k is a prefix of the full ranking, which is ordered by score, then input position', () => {
  const b = loadBackbone({ model, paradigm: 'dense' });
  try {
    const enc = new DedupEncoder(b.model, b.tokenizer, { paradigm: 'dense' });
    const full = exactRun(enc, queries, docs, 100);
    for (const [q, hits] of full) {
      assert.equal(hits.length, docs.size, 'dense retrieves every document');
      const pos = (h: { docId: string }): number => Number(h.docId.slice(1));
      for (let i = 1; i < hits.length; i++) {
        const a = hits[i - 1]!;
        const c = hits[i]!;
        assert.ok(a.score > c.score || (a.score === c.score && pos(a) < pos(c)), `${q}: ${a.docId} ${a.score} before ${c.docId} ${c.score}`);
      }
      for (const k of [1, 2, 3, 5]) assert.deepEqual(exactRun(enc, queries, docs, k).get(q), hits.slice(0, k), `${q} k=${k}`);
    }
  } finally {
    b.model.dispose();
  }
});
