// Each objective against hand computation and finite differences on tiny inputs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor, tidy } from '../../src/torch/index.ts';
import { contrastiveLoss, flops, flopsWeight, klLoss, learningRate, marginMseLoss } from '../../src/train/objectives.ts';
import { assertClose, checkGradient, lcg } from '../torch/helpers.ts';

const f64 = (d: number[], s: number[]): Tensor => Tensor.from(Float64Array.from(d), s, 'f64');
const lse = (v: number[]): number => Math.log(v.reduce((a, x) => a + Math.exp(x), 0));

test('contrastive loss by hand: each query against all positives and negatives, target its own positive', () => {
  tidy(() => {
    const q = f64([1, 0, 0, 1], [2, 2]); // q1 = e1, q2 = e2
    const c = f64([2, 0, 0, 3, 1, 1], [3, 2]); // pos1, pos2, one hard negative
    // q1 scores [2, 0, 1] target 0; q2 scores [0, 3, 1] target 1; T = 0.5 doubles scores
    const expected = ((lse([4, 0, 2]) - 4) + (lse([0, 6, 2]) - 6)) / 2;
    assertClose([contrastiveLoss(q, c, 0.5).item()], [expected], 1e-12, 1e-12);
    assertClose([contrastiveLoss(q, c, 1).item()], [((lse([2, 0, 1]) - 2) + (lse([0, 3, 1]) - 3)) / 2], 1e-12, 1e-12);
  });
});

test('MarginMSE by hand', () => {
  tidy(() => {
    // student margins (3-1)/T and (0-2)/T with T = 0.5: 4 and -4; teacher margins 1 and -2
    const l = marginMseLoss(f64([3, 0], [2]), f64([1, 2], [2]), f64([5, 1], [2]), f64([4, 3], [2]), 0.5);
    assertClose([l.item()], [((4 - 1) ** 2 + (-4 + 2) ** 2) / 2], 1e-12, 1e-12);
  });
});

test('KL loss by hand: KL(softmax(teacher) || softmax(student / T)), averaged over queries', () => {
  tidy(() => {
    const s = [1, 2, 0.5];
    const t = [3, 1, 0];
    const T = 0.5;
    const p = t.map((x) => Math.exp(x - lse(t)));
    const logq = s.map((x) => x / T - lse(s.map((y) => y / T)));
    const kl = p.reduce((a, pi, i) => a + pi * (Math.log(pi) - logq[i]!), 0);
    // the second query has student = teacher at T = 1 scale: KL of identical distributions is 0 only at T = 1
    const l = klLoss(f64([...s, ...s], [2, 3]), f64([...t, ...t], [2, 3]), T);
    assertClose([l.item()], [kl], 1e-12, 1e-12);
    assertClose([klLoss(f64(t, [1, 3]), f64(t, [1, 3]), 1).item()], [0], 1e-12, 0);
  });
});

test('FLOPS by hand: sum over terms of the squared mean absolute weight', () => {
  tidy(() => {
    const w = f64([1, 0, 2, 3, 0, -2], [2, 3]); // column means of |w|: 2, 0, 2
    assertClose([flops(w).item()], [8], 1e-12, 0);
  });
});

test('gradients of every loss match finite differences', () => {
  const other = lcg(12, 7);
  checkGradient((x) => contrastiveLoss(x, f64(other, [6, 2]), 0.1), lcg(4, 1), [2, 2]);
  checkGradient((x) => contrastiveLoss(f64(lcg(4, 3), [2, 2]), x, 0.1), other, [6, 2]);
  checkGradient((x) => marginMseLoss(x.narrow(0, 0, 2), x.narrow(0, 2, 2), f64([1, 2], [2]), f64([0.5, 3], [2]), 0.5), lcg(4, 9), [4]);
  checkGradient((x) => klLoss(x, f64(lcg(6, 4), [2, 3]), 0.5), lcg(6, 5), [2, 3]);
  checkGradient((x) => flops(x), [0.3, -0.7, 1.1, 0.2, 0.9, -0.4], [2, 3]);
});

test('the FLOPS weight warms up quadratically over a third of training, in optimizer steps', () => {
  assert.equal(flopsWeight(0.05, 0, 300), 0);
  assertClose([flopsWeight(0.05, 50, 300)], [0.05 * 0.25], 1e-15, 0);
  assert.equal(flopsWeight(0.05, 100, 300), 0.05);
  assert.equal(flopsWeight(0.05, 250, 300), 0.05);
  // the authors' counter advances once per micro-batch: with GA 4 their ramp ends at step 25
  assert.equal(flopsWeight(0.04, 25, 300, { countsMicroBatches: 4 }), 0.04);
  assertClose([flopsWeight(0.04, 10, 300, { countsMicroBatches: 4 })], [0.04 * 0.16], 1e-15, 0);
});

test('learning rate: linear warm-up then linear decay to zero', () => {
  const o = { peak: 1e-4, warmup: 10, total: 110 };
  assert.equal(learningRate(0, o), 0);
  assertClose([learningRate(5, o)], [5e-5], 1e-18, 0);
  assert.equal(learningRate(10, o), 1e-4);
  assertClose([learningRate(60, o)], [5e-5], 1e-18, 0);
  assert.equal(learningRate(110, o), 0);
});
