import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { bitWidth, maxBitWidth, pack, packedWords, unpack, unpackDocIds } from '../../src/index/codec/bitpack.ts';

test('bp128 pack/unpack round-trips at lengths 0, 1, 127, 128 and every width', () => {
  for (const n of [0, 1, 2, 127, 128]) {
    for (let b = 0; b <= 32; b++) {
      const max = b === 32 ? 0xffffffff : 2 ** b - 1;
      const vals = Uint32Array.from({ length: n }, (_, i) =>
        i % 3 === 0 ? max : Math.floor((i * 2654435761) % (max + 1)),
      );
      const words = new Uint32Array(packedWords(n, b) + 1);
      assert.equal(pack(vals, 0, n, b, words, 0), packedWords(n, b));
      const out = new Uint32Array(128);
      unpack(words, 0, n, b, out);
      assert.deepEqual(out.subarray(0, n), vals, `n=${n} b=${b}`);
    }
  }
});

test('bp128 round-trips random blocks (fast-check), doc-id gaps included', () => {
  fc.assert(
    fc.property(
      fc.array(fc.integer({ min: 0, max: 2 ** 20 }), { minLength: 0, maxLength: 128 }),
      fc.integer({ min: -1, max: 1000 }),
      (gapsArr, prev) => {
        const gaps = Uint32Array.from(gapsArr);
        const b = maxBitWidth(gaps, 0, gaps.length);
        assert.ok(gapsArr.every((g) => bitWidth(g) <= b));
        const words = new Uint32Array(packedWords(gaps.length, b) + 1);
        pack(gaps, 0, gaps.length, b, words, 0);
        const docs = new Uint32Array(128);
        unpackDocIds(words, 0, gaps.length, b, prev, docs);
        let d = prev;
        gapsArr.forEach((g, i) => {
          d += g + 1;
          assert.equal(docs[i], d);
        });
      },
    ),
    { numRuns: 300 },
  );
});

test('bitWidth matches the definition', () => {
  assert.equal(bitWidth(0), 0);
  assert.equal(bitWidth(1), 1);
  assert.equal(bitWidth(255), 8);
  assert.equal(bitWidth(256), 9);
  assert.equal(bitWidth(0xffffffff), 32);
});
