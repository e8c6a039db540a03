import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { accumulateBlock, bitWidth, maxBitWidth, pack, packedWords, unpack, unpackDocIds } from '../../src/index/codec/bitpack.ts';

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

test('full blocks (generated per width) decode and accumulate exactly as the generic loop, every width', () => {
  for (let b = 0; b <= 32; b++) {
    const max = b === 32 ? 0xffffffff : 2 ** b - 1;
    // gaps at the width's extremes and in between, so every shift and spill of the layout is read
    const gaps = Uint32Array.from({ length: 128 }, (_, i) => (i % 5 === 0 ? max : Math.floor((i * 2654435761) % (max + 1))));
    const words = new Uint32Array(packedWords(128, b) + 1);
    words[words.length - 1] = 0xffffffff; // a following word that must not leak into the last value
    pack(gaps, 0, 128, b, words, 0);
    const prev = 7;
    const want: number[] = [];
    let d = prev;
    for (const g of gaps) want.push((d += g + 1));
    const got = new Uint32Array(128);
    unpackDocIds(words, 0, 128, b, prev, got);
    // Uint32Array wraps above 2^32 (b = 32 gaps); compare modulo 2^32
    assert.deepEqual([...got], want.map((x) => x % 2 ** 32), `unpack b=${b}`);
    if (b > 14) continue; // doc ids beyond a test-sized accumulator (the shifts are those checked above)
    const acc = new Float64Array(want.at(-1)! + 1);
    const weights = Float32Array.from({ length: 130 }, (_, i) => 0.5 + i);
    const last = accumulateBlock(words, 0, 128, b, prev, acc, weights, 2, 3, new Uint32Array(128));
    assert.equal(last, want.at(-1));
    const ref = new Map<number, number>();
    want.forEach((doc, i) => ref.set(doc, (ref.get(doc) ?? 0) + 3 * weights[2 + i]!));
    const nonzero = acc.reduce((n, v) => n + (v !== 0 ? 1 : 0), 0);
    assert.equal(nonzero, ref.size, `accumulate b=${b}: documents touched`);
    for (const [doc, v] of ref) assert.equal(acc[doc], v, `accumulate b=${b}: doc ${doc}`);
  }
});

test('accumulateBlock on a partial block reads only its n values', () => {
  const gaps = Uint32Array.from([0, 3, 1, 9]);
  const words = new Uint32Array(packedWords(4, 4) + 1).fill(0);
  pack(gaps, 0, 4, 4, words, 0);
  const acc = new Float64Array(20);
  const last = accumulateBlock(words, 0, 4, 4, -1, acc, Uint16Array.from([1, 2, 3, 4]), 0, 2, new Uint32Array(128));
  assert.equal(last, 16);
  assert.deepEqual([...acc].flatMap((v, i) => (v ? [[i, v]] : [])), [[0, 2], [4, 4], [6, 6], [16, 8]]);
});
