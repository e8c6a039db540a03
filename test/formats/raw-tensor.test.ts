import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  bf16BitsToF32, byteSize, f16BitsToF32, f32ToBf16Bits, f32ToF16Bits, rawEqual, rawFromNumbers, rawToFloat32, rawToNumbers,
} from '../../src/formats/raw-tensor.ts';

test('f16 bits: hand-known IEEE half patterns', () => {
  // From the IEEE 754 binary16 table: 1 = 0x3C00, -2 = 0xC000, max 65504 = 0x7BFF, 2^-24 = 0x0001, 0.1 ≈ 0x2E66.
  const cases: [number, number][] = [[1, 0x3c00], [-2, 0xc000], [65504, 0x7bff], [2 ** -24, 0x0001], [0.1, 0x2e66], [0, 0], [Infinity, 0x7c00], [2 ** -14, 0x0400]];
  for (const [x, bits] of cases) assert.equal(f32ToF16Bits(x), bits, `f16(${x})`);
  assert.equal(f32ToF16Bits(-0), 0x8000);
  // 65520 lies halfway between 65504 and 65536 (= Inf): ties to even rounds up to Inf; 70000 overflows.
  assert.equal(f32ToF16Bits(65520), 0x7c00);
  assert.equal(f32ToF16Bits(70000), 0x7c00);
  assert.equal(f32ToF16Bits(2 ** -26), 0, 'below half the smallest subnormal rounds to zero');
  assert.ok(Number.isNaN(f16BitsToF32(f32ToF16Bits(NaN))), 'NaN stays NaN');
  assert.equal(f16BitsToF32(0x3555), 0.333251953125);
});

test('f16 and bf16 bits: every finite pattern survives bits -> f32 -> bits', () => {
  for (let b = 0; b < 0x10000; b++) {
    if ((b & 0x7c00) === 0x7c00 && (b & 0x3ff) !== 0) continue; // NaN payloads
    assert.equal(f32ToF16Bits(f16BitsToF32(b)), b);
  }
  for (let b = 0; b < 0x10000; b++) {
    if ((b & 0x7f80) === 0x7f80 && (b & 0x7f) !== 0) continue;
    assert.equal(f32ToBf16Bits(bf16BitsToF32(b)), b);
  }
});

test('bf16 bits: round to nearest even on the dropped 16 bits', () => {
  assert.equal(f32ToBf16Bits(1), 0x3f80);
  assert.equal(f32ToBf16Bits(-2.25), 0xc010);
  // 0.1f = 0x3DCCCCCD: the low half 0xCCCD is above 0x8000, so round up to 0x3DCD.
  assert.equal(f32ToBf16Bits(0.1), 0x3dcd);
  // 1 + 2^-8 sits exactly between 0x3F80 and 0x3F81: ties go to the even 0x3F80; 1 + 3·2^-8 goes up to even 0x3F82.
  assert.equal(f32ToBf16Bits(1 + 2 ** -8), 0x3f80);
  assert.equal(f32ToBf16Bits(1 + 3 * 2 ** -8), 0x3f82);
});

test('rawFromNumbers / rawToNumbers / rawToFloat32 round trip per dtype', () => {
  const t = rawFromNumbers([1.5, -2.25, 3], [3], 'BF16');
  assert.equal(t.data.byteLength, 6);
  assert.deepEqual(Array.from(rawToNumbers(t)), [1.5, -2.25, 3]);
  assert.deepEqual(Array.from(rawToFloat32(rawFromNumbers([0.5, 8], [2, 1], 'F16'))), [0.5, 8]);
  assert.deepEqual(Array.from(rawToFloat32(rawFromNumbers([0.1], [1], 'F64'))), [Math.fround(0.1)]);
  assert.equal(byteSize('I64', [2, 3]), 48);
  assert.equal(byteSize('F32', []), 4);
  assert.ok(rawEqual(t, rawFromNumbers([1.5, -2.25, 3], [3], 'BF16')));
  assert.ok(!rawEqual(t, rawFromNumbers([1.5, -2.25, 3], [1, 3], 'BF16')));
  assert.throws(() => rawFromNumbers([1, 2], [3], 'F32'), /do not fill/);
});
