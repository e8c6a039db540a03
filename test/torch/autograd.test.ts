// Gradients by finite differences, AdamW by hand, grad mode, clipping.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AdamW, Tensor, autocast, clipGradNorm, crossEntropy, klDiv, linear, noGrad, isGradEnabled, enableGrad, tidy, liveTensors } from '../../src/torch/index.ts';
import { assertClose, checkGradient, lcg } from './helpers.ts';

const f64 = (data: number[], shape: number[]): Tensor => Tensor.from(Float64Array.from(data), shape, 'f64');

test('gradient of matmul (both operands) matches finite differences', () => {
  const w = lcg(12, 3);
  checkGradient((x) => x.matmul(f64(w, [4, 3])).square().sum(), lcg(8, 1), [2, 4]);
  checkGradient((x) => f64(lcg(8, 5), [2, 4]).matmul(x).sin().sum(), w, [4, 3]);
});

test('gradient of softmax and log_softmax matches finite differences', () => {
  const weights = f64(lcg(12, 9), [3, 4]);
  checkGradient((x) => x.softmax(1).mul(weights).sum(), lcg(12, 2), [3, 4]);
  checkGradient((x) => x.logSoftmax(-1).mul(weights).sum(), lcg(12, 4), [3, 4]);
});

test('gradient of an RMSNorm composition matches finite differences', () => {
  const g = f64(lcg(5, 11), [5]);
  const rms = (x: Tensor): Tensor => x.mul(x.square().mean(-1, true).add(1e-6).rsqrt()).mul(g);
  checkGradient((x) => rms(x).mul(f64(lcg(10, 12), [2, 5])).sum(), lcg(10, 6), [2, 5]);
});

test('gradient of max-with-indices flows to the argmax only, matching finite differences', () => {
  const x0 = [0.3, -0.2, 0.9, 0.1, 0.5, -0.7];
  checkGradient((x) => x.max(1)[0].mul(f64([2, -3], [2])).sum(), x0, [2, 3]);
  const grad = tidy(() => {
    const x = f64(x0, [2, 3]).requiresGrad_();
    x.max(1)[0].sum().backward();
    return x.grad!.toList();
  });
  assert.deepEqual(grad, [0, 0, 1, 0, 1, 0]);
  checkGradient((x) => x.amax(0).square().sum(), x0, [2, 3]);
});

test('gradient of log1p(relu(x)) matches finite differences away from the kink', () => {
  const x0 = [-1.5, -0.3, 0.2, 0.7, 2.5, 4];
  checkGradient((x) => x.relu().log1p().mul(f64([1, 2, 3, 4, 5, 6], [6])).sum(), x0, [6]);
  const grad = tidy(() => {
    const x = f64(x0, [6]).requiresGrad_();
    x.relu().log1p().sum().backward();
    return x.grad!.toList();
  });
  assertClose(grad, x0.map((v) => (v > 0 ? 1 / (1 + v) : 0)), 1e-12, 1e-12);
});

test('gradient of cross_entropy (with an ignored target) matches finite differences', () => {
  const target = Tensor.from(new BigInt64Array([1n, -100n, 3n]), [3], 'i64');
  checkGradient((x) => crossEntropy(x, target), lcg(12, 21), [3, 4]);
  const target2 = Tensor.from(new BigInt64Array([1n, 0n, 3n]), [3], 'i64');
  checkGradient((x) => crossEntropy(x, target2, { ignoreIndex: 3, reduction: 'sum' }), lcg(12, 22), [3, 4]);
  target.dispose();
  target2.dispose();
});

test('gradient of kl_div with respect to the student matches finite differences', () => {
  const teacher = f64(lcg(8, 31), [2, 4]);
  checkGradient((x) => klDiv(x.logSoftmax(1), teacher.logSoftmax(1), { logTarget: true }), lcg(8, 32), [2, 4]);
  checkGradient((x) => klDiv(x.logSoftmax(1), teacher.softmax(1), { reduction: 'sum' }), lcg(8, 33), [2, 4]);
  teacher.dispose();
});

test('backward with an explicit gradient, accumulation and zeroGrad', () => {
  tidy(() => {
    const x = f64([1, 2, 3], [3]).requiresGrad_();
    x.mul(x).backward(f64([1, 0.5, 2], [3]));
    assert.deepEqual(x.grad!.toList(), [2, 2, 12]);
    x.mul(3).sum().backward();
    assert.deepEqual(x.grad!.toList(), [5, 5, 15], 'gradients accumulate');
    x.zeroGrad();
    assert.equal(x.grad, null);
  });
});

test('noGrad stops recording and restores the previous mode, even on throw', () => {
  tidy(() => {
    const x = f64([1, 2], [2]).requiresGrad_();
    const y = noGrad(() => x.mul(2));
    assert.equal(y.requiresGrad, false);
    assert.equal(isGradEnabled(), true);
    assert.throws(() => noGrad(() => { throw new Error('boom'); }), /boom/);
    assert.equal(isGradEnabled(), true);
    noGrad(() => assert.equal(enableGrad(() => x.mul(2)).requiresGrad, true));
    assert.equal(x.detach().requiresGrad, false);
  });
});

test('AdamW matches a hand-computed two-step update', () => {
  // One scalar parameter p0 = 1 with loss p² (grad 2p); lr 0.1, betas (0.9, 0.999), eps 1e-8, wd 0.1.
  // Decoupled decay first: p ← p − lr·wd·p; then m, v with bias correction.
  const lr = 0.1, b1 = 0.9, b2 = 0.999, eps = 1e-8, wd = 0.1;
  let p = 1, mm = 0, vv = 0;
  const expected: number[] = [];
  for (let t = 1; t <= 2; t++) {
    const g = 2 * p;
    p = p * (1 - lr * wd);
    mm = b1 * mm + (1 - b1) * g;
    vv = b2 * vv + (1 - b2) * g * g;
    const mHat = mm / (1 - b1 ** t);
    const vHat = vv / (1 - b2 ** t);
    p = p - (lr * mHat) / (Math.sqrt(vHat) + eps);
    expected.push(p);
  }
  const param = f64([1], [1]).requiresGrad_().keep();
  const opt = new AdamW([param], { lr, betas: [b1, b2], eps, weightDecay: wd });
  const got: number[] = [];
  for (let t = 0; t < 2; t++) {
    tidy(() => {
      opt.zeroGrad();
      param.square().sum().backward();
      opt.step();
    });
    got.push(param.item());
  }
  assertClose(got, expected, 1e-12, 1e-12, 'AdamW parameter');
  const state = opt.stateDict();
  assert.equal(state[0]!.step, 2);
  assertClose(state[0]!.expAvg.toList(), [mm], 1e-12, 1e-12);
  assertClose(state[0]!.expAvgSq.toList(), [vv], 1e-12, 1e-12);
  opt.dispose();
  param.dispose();
  for (const s of state) { s?.expAvg.dispose(); s?.expAvgSq.dispose(); }
});

test('AdamW param groups take their own options, lr can change per step, and state round-trips', () => {
  const a = f64([1], [1]).requiresGrad_().keep();
  const b = f64([1], [1]).requiresGrad_().keep();
  const opt = new AdamW([{ params: [a], lr: 0.1 }, { params: [b], lr: 0.0 }], { lr: 1, weightDecay: 0 });
  const step = (): void => tidy(() => { opt.zeroGrad(); a.add(b).sum().backward(); opt.step(); });
  step();
  // Adam's first step moves by lr (m̂/√v̂ = 1); the lr-0 group does not move.
  assertClose([a.item(), b.item()], [0.9, 1], 1e-7, 0);
  opt.setLr(0.5);
  assert.deepEqual(opt.lrs, [0.5, 0.5]);
  // Save, take a step, restore the moments and the parameters: the same step again gives the same result.
  const saved = opt.stateDict();
  const [a0, b0] = [a.item(), b.item()];
  step();
  const after = [a.item(), b.item()];
  noGrad(() => { a.fill_(a0); b.fill_(b0); });
  opt.loadStateDict(saved);
  step();
  assertClose([a.item(), b.item()], after, 0, 0);
  opt.dispose();
  for (const t of [a, b]) t.dispose();
  for (const s of saved) { s?.expAvg.dispose(); s?.expAvgSq.dispose(); }
});

test('clipGradNorm scales gradients to the max norm and returns the norm before', () => {
  tidy(() => {
    const x = f64([3, 0], [2]).requiresGrad_();
    const y = f64([0], [1]).requiresGrad_();
    x.mul(f64([3, 4], [2])).sum().add(y.mul(0).sum()).backward(); // grads [3, 4], [0]
    const norm = clipGradNorm([x, y], 1);
    assertClose([norm], [5], 1e-12, 0);
    assertClose(x.grad!.toList(), [0.6, 0.8], 1e-6, 0);
  });
});

test('tidy frees what it does not return, including on throw, and nests', () => {
  const before = liveTensors();
  const kept = tidy(() => {
    const a = Tensor.ones([4]);
    const inner = tidy(() => a.add(1).mul(2)); // moves to the outer scope
    return { result: inner.sum(), list: [a] };
  });
  assert.equal(liveTensors(), before + 2, 'only the returned tensors survive');
  assert.equal(kept.result.item(), 16);
  kept.result.dispose();
  kept.list[0]!.dispose();
  assert.equal(liveTensors(), before);
  assert.throws(() => tidy(() => { Tensor.ones([3]); throw new Error('inside'); }), /inside/);
  assert.equal(liveTensors(), before, 'a throwing tidy still frees');
  const escaped = tidy(() => Tensor.ones([2]).keep());
  assert.equal(liveTensors(), before + 1);
  escaped.dispose();
  assert.equal(liveTensors(), before);
});

test('autocast runs linear in bf16 inside the scope only, nests, restores on throw, and keeps grads f32', () => {
  tidy(() => {
    const x = Tensor.randn([4, 8]);
    const w = Tensor.randn([3, 8]).requiresGrad_();
    assert.equal(autocast('bf16', () => linear(x, w)).dtype, 'bf16');
    assert.equal(linear(x, w).dtype, 'f32');
    assert.equal(autocast('bf16', () => { autocast('bf16', () => linear(x, w)); return linear(x, w); }).dtype, 'bf16', 'an inner scope leaves the outer one on');
    assert.throws(() => autocast('bf16', () => { throw new Error('inside'); }), /inside/);
    assert.equal(linear(x, w).dtype, 'f32', 'a throwing scope still turns autocast off');
    // Losses run in f32 under CPU autocast (libtorch's fp32 list); gradients reach the f32 parameter as f32
    const loss = autocast('bf16', () => crossEntropy(linear(x, w), Tensor.zeros([4], 'i64')));
    assert.equal(loss.dtype, 'f32');
    loss.backward();
    assert.equal(w.grad!.dtype, 'f32');
  });
});
