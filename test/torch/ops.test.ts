// Every op the addon exposes, against values computed by hand (or by plain JS arithmetic on the inputs).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor, tidy, linear, embedding, dropout, crossEntropy, klDiv, mseLoss, manualSeed, getRngState, setRngState } from '../../src/torch/index.ts';
import { assertClose, values } from './helpers.ts';

const m = (data: number[], shape: number[]): Tensor => Tensor.from(data, shape);

test('typed-array round trips for every dtype keep values and shapes', () => {
  tidy(() => {
    const f32 = Tensor.from(new Float32Array([1.5, -2.25, 3]), [3]);
    assert.deepEqual(Array.from(f32.toArray() as Float32Array), [1.5, -2.25, 3]);
    assert.equal(f32.dtype, 'f32');
    const f64 = Tensor.from(new Float64Array([1e-300, 2]), [1, 2], 'f64');
    assert.deepEqual(f64.shape, [1, 2]);
    assert.equal((f64.toArray() as Float64Array)[0], 1e-300);
    const i64 = Tensor.from(new BigInt64Array([-(2n ** 40n), 7n]), [2], 'i64');
    assert.deepEqual(Array.from(i64.toArray() as BigInt64Array), [-(2n ** 40n), 7n]);
    const i32 = Tensor.from(new Int32Array([-5, 9]), [2], 'i32');
    assert.deepEqual(values(i32), [-5, 9]);
    const u8 = Tensor.from(new Uint8Array([0, 255]), [2], 'u8');
    assert.deepEqual(values(u8), [0, 255]);
    const b = Tensor.from(new Uint8Array([1, 0, 1]), [3], 'bool');
    assert.equal(b.dtype, 'bool');
    assert.deepEqual(values(b), [1, 0, 1]);
    // 1.0 is 0x3c00 in f16 and 0x3f80 in bf16; -2.0 is 0xc000 / 0xc000.
    const h = Tensor.from(new Uint16Array([0x3c00, 0xc000]), [2], 'f16');
    assert.deepEqual(Array.from(h.toFloat32Array()), [1, -2]);
    const bf = Tensor.from(new Uint16Array([0x3f80, 0xc000]), [2], 'bf16');
    assert.deepEqual(Array.from(bf.toFloat32Array()), [1, -2]);
    assert.deepEqual(Array.from(Tensor.from([1, -2], [2]).to('bf16').toArray() as Uint16Array), [0x3f80, 0xc000]);
    assert.deepEqual(Array.from(Tensor.from([1, -2], [2]).to('f16').toArray() as Uint16Array), [0x3c00, 0xc000]);
    // dtype conversion truncates toward zero for integers, as PyTorch does
    assert.deepEqual(values(Tensor.from([1.7, -1.7], [2]).to('i64')), [1, -1]);
    assert.equal(Tensor.scalar(3).item(), 3);
    assert.deepEqual(Tensor.scalar(3).shape, []);
    assert.equal(Tensor.zeros([2]).device, 'cpu');
    assert.throws(() => Tensor.from([1, 2, 3], [2, 2]), /do not fill shape/);
  });
});

test('creation ops', () => {
  tidy(() => {
    assert.deepEqual(values(Tensor.zeros([2, 2])), [0, 0, 0, 0]);
    assert.deepEqual(values(Tensor.ones([3], 'i32')), [1, 1, 1]);
    assert.deepEqual(values(Tensor.full([2], 2.5)), [2.5, 2.5]);
    assert.deepEqual(values(Tensor.arange(0, 5)), [0, 1, 2, 3, 4]);
    assert.deepEqual(values(Tensor.arange(1, 2, 0.25, 'f32')), [1, 1.25, 1.5, 1.75]);
    manualSeed(7);
    const r = Tensor.rand([1000]).toList();
    assert.ok(r.every((v) => v >= 0 && v < 1));
    assert.ok(Math.abs(r.reduce((a, b) => a + b) / 1000 - 0.5) < 0.05);
    const n = Tensor.randn([2000]).toList();
    const mean = n.reduce((a, b) => a + b) / n.length;
    const sd = Math.sqrt(n.reduce((a, b) => a + (b - mean) ** 2, 0) / n.length);
    assert.ok(Math.abs(mean) < 0.1 && Math.abs(sd - 1) < 0.1, `randn mean ${mean} sd ${sd}`);
    const ri = Tensor.randint(3, 6, [500]).toList();
    assert.ok(ri.every((v) => v >= 3 && v < 6 && Number.isInteger(v)));
    assert.deepEqual(new Set(ri), new Set([3, 4, 5]));
  });
});

test('a seed makes random ops repeatable, and the generator state can be saved and restored', () => {
  tidy(() => {
    manualSeed(123);
    const a = Tensor.randn([5]).toList();
    manualSeed(123);
    assert.deepEqual(Tensor.randn([5]).toList(), a);
    const state = getRngState();
    const b = Tensor.rand([4]).toList();
    Tensor.rand([10]); // advance
    setRngState(state);
    assert.deepEqual(Tensor.rand([4]).toList(), b);
  });
});

test('unary elementwise ops', () => {
  tidy(() => {
    const x = [-2, -0.5, 0, 0.5, 2];
    const t = m(x, [5]);
    const close = (got: Tensor, f: (v: number) => number): void => assertClose(values(got), x.map(f), 1e-6, 1e-6);
    close(t.neg(), (v) => -v);
    close(t.exp(), Math.exp);
    close(t.relu(), (v) => Math.max(0, v));
    close(t.silu(), (v) => v / (1 + Math.exp(-v)));
    close(t.sigmoid(), (v) => 1 / (1 + Math.exp(-v)));
    close(t.tanh(), Math.tanh);
    close(t.abs(), Math.abs);
    close(t.sin(), Math.sin);
    close(t.cos(), Math.cos);
    close(t.square(), (v) => v * v);
    const p = m([0.25, 1, 4], [3]);
    assertClose(values(p.log()), [Math.log(0.25), 0, Math.log(4)]);
    assertClose(values(p.log1p()), [Math.log1p(0.25), Math.log(2), Math.log(5)]);
    assertClose(values(p.sqrt()), [0.5, 1, 2]);
    assertClose(values(p.rsqrt()), [2, 1, 0.5]);
    assertClose(values(p.pow(2)), [0.0625, 1, 16]);
    assertClose(values(p.pow(m([1, 2, 0.5], [3]))), [0.25, 1, 2]);
    assertClose(values(t.clamp(-1, 1)), [-1, -0.5, 0, 0.5, 1]);
    assertClose(values(t.clamp(0)), [0, 0, 0, 0.5, 2]);
  });
});

test('binary ops broadcast, with tensors and scalars', () => {
  tidy(() => {
    const a = m([1, 2, 3, 4, 5, 6], [2, 3]);
    const row = m([10, 20, 30], [3]);
    const col = m([2, 4], [2, 1]);
    assert.deepEqual(values(a.add(row)), [11, 22, 33, 14, 25, 36]);
    assert.deepEqual(values(a.sub(col)), [-1, 0, 1, 0, 1, 2]);
    assert.deepEqual(values(a.mul(col)), [2, 4, 6, 16, 20, 24]);
    assertClose(values(a.div(col)), [0.5, 1, 1.5, 1, 1.25, 1.5]);
    assert.deepEqual(values(a.add(1)), [2, 3, 4, 5, 6, 7]);
    assert.deepEqual(values(a.sub(1)), [0, 1, 2, 3, 4, 5]);
    assert.deepEqual(values(a.rsub(1)), [0, -1, -2, -3, -4, -5]);
    assert.deepEqual(values(a.mul(0.5)), [0.5, 1, 1.5, 2, 2.5, 3]);
    assert.deepEqual(values(a.div(2)), [0.5, 1, 1.5, 2, 2.5, 3]);
    assert.deepEqual(values(a.maximum(m([3], [1]))), [3, 3, 3, 4, 5, 6]);
    assert.deepEqual(values(a.minimum(m([3], [1]))), [1, 2, 3, 3, 3, 3]);
    // integer tensors stay integer with integral scalars, as with Python ints
    assert.equal(Tensor.arange(0, 3).add(1).dtype, 'i64');
    assert.equal(Tensor.arange(0, 3).mul(0.5).dtype, 'f32');
  });
});

test('comparison and logical ops, where and maskedFill', () => {
  tidy(() => {
    const a = m([1, 2, 3], [3]);
    const b = m([3, 2, 1], [3]);
    assert.deepEqual(values(a.eq(b)), [0, 1, 0]);
    assert.deepEqual(values(a.ne(b)), [1, 0, 1]);
    assert.deepEqual(values(a.lt(b)), [1, 0, 0]);
    assert.deepEqual(values(a.le(b)), [1, 1, 0]);
    assert.deepEqual(values(a.gt(b)), [0, 0, 1]);
    assert.deepEqual(values(a.ge(b)), [0, 1, 1]);
    assert.deepEqual(values(a.gt(1.5)), [0, 1, 1]);
    assert.deepEqual(values(a.eq(2)), [0, 1, 0]);
    assert.deepEqual(values(a.ne(2)), [1, 0, 1]);
    assert.deepEqual(values(a.lt(2)), [1, 0, 0]);
    assert.deepEqual(values(a.le(2)), [1, 1, 0]);
    assert.deepEqual(values(a.ge(2)), [0, 1, 1]);
    assert.equal(a.gt(b).dtype, 'bool');
    assert.deepEqual(values(a.gt(1).logicalAnd(a.lt(3))), [0, 1, 0]);
    assert.deepEqual(values(a.lt(2).logicalOr(a.gt(2))), [1, 0, 1]);
    assert.deepEqual(values(a.gt(1).logicalNot()), [1, 0, 0]);
    assert.deepEqual(values(Tensor.where(a.gt(1), a, b)), [3, 2, 3]);
    assert.deepEqual(values(a.maskedFill(a.eq(2), -1e6)), [1, -1e6, 3]);
  });
});

test('reductions: sum, mean, amax, amin, logsumexp, norm, cumsum', () => {
  tidy(() => {
    const a = m([1, 2, 3, 4, 5, 6], [2, 3]);
    assert.equal(a.sum().item(), 21);
    assert.deepEqual(values(a.sum(0)), [5, 7, 9]);
    assert.deepEqual(values(a.sum(1)), [6, 15]);
    assert.deepEqual(a.sum(1, true).shape, [2, 1]);
    assert.deepEqual(values(a.sum([0, 1])), [21]);
    assert.equal(a.mean().item(), 3.5);
    assert.deepEqual(values(a.mean(1)), [2, 5]);
    assert.deepEqual(values(a.amax(1)), [3, 6]);
    assert.deepEqual(values(a.amin(0)), [1, 2, 3]);
    assert.equal(a.amax().item(), 6);
    assertClose(values(a.logsumexp(1)), [Math.log(Math.exp(1) + Math.exp(2) + Math.exp(3)), Math.log(Math.exp(4) + Math.exp(5) + Math.exp(6))], 1e-5, 1e-6);
    assertClose([a.logsumexp().item()], [Math.log([1, 2, 3, 4, 5, 6].reduce((s, v) => s + Math.exp(v), 0))], 1e-5, 1e-6);
    assertClose(values(m([3, 4, 6, 8], [2, 2]).norm(2, 1)), [5, 10]);
    assertClose([m([3, 4], [2]).norm().item()], [5]);
    assertClose(values(m([1, -2, 3], [3]).norm(1, 0)), [6]);
    assert.deepEqual(values(a.cumsum(1)), [1, 3, 6, 4, 9, 15]);
    assert.deepEqual(values(a.cumsum(0)), [1, 2, 3, 5, 7, 9]);
  });
});

test('max and min along a dim with indices, argmax, topk, sort', () => {
  tidy(() => {
    const a = m([1, 9, 3, 7, 2, 8], [2, 3]);
    const [mx, ix] = a.max(1);
    assert.deepEqual(values(mx), [9, 8]);
    assert.deepEqual(values(ix), [1, 2]);
    assert.equal(ix.dtype, 'i64');
    const [mn, im] = a.min(0, true);
    assert.deepEqual(mn.shape, [1, 3]);
    assert.deepEqual(values(mn), [1, 2, 3]);
    assert.deepEqual(values(im), [0, 1, 0]);
    assert.deepEqual(values(a.argmax(1)), [1, 2]);
    const [tv, ti] = m([5, 1, 4, 2, 3], [5]).topk(3);
    assert.deepEqual(values(tv), [5, 4, 3]);
    assert.deepEqual(values(ti), [0, 2, 4]);
    const [lv] = m([5, 1, 4, 2, 3], [5]).topk(2, -1, false);
    assert.deepEqual(values(lv), [1, 2]);
    const [sv, si] = m([3, 1, 2], [3]).sort(-1, true);
    assert.deepEqual(values(sv), [3, 2, 1]);
    assert.deepEqual(values(si), [0, 2, 1]);
  });
});

test('rowsAbove: entries strictly above their row threshold, row-major, as flat positions with scores', () => {
  tidy(() => {
    // hand-checked: ties with the threshold stay out, NaN stays out, -Infinity lets every finite in
    const s = m([1, 5, 3, 5, NaN, 2, -1, 0, 7], [3, 3]);
    const [at, v] = s.rowsAbove(m([3, 2, -Infinity], [3]));
    assert.equal(at.dtype, 'i32');
    assert.deepEqual(values(at), [1, 3, 6, 7, 8]);
    assert.deepEqual(values(v), [5, 5, -1, 0, 7]);
    const [none] = s.rowsAbove(m([9, 9, 9], [3]));
    assert.deepEqual(none.shape, [0]);
    // widths off the 16-wide groups, candidates at every place in a group: against a plain loop
    for (const n of [1, 15, 16, 17, 33, 100]) {
      const rows = 7;
      const data = Array.from({ length: rows * n }, (_, i) => ((i * 7919) % 101) / 10);
      const thr = Array.from({ length: rows }, (_, r) => (r * 13) % 11);
      const want: number[] = [];
      data.forEach((x, i) => {
        if (x > thr[Math.floor(i / n)]!) want.push(i);
      });
      const [p, sc] = m(data, [rows, n]).rowsAbove(m(thr, [rows]));
      assert.deepEqual(values(p), want, `n=${n}`);
      assertClose(values(sc), want.map((i) => data[i]!), 0);
    }
    assert.throws(() => s.rowsAbove(m([1, 2], [2])), /lion\.rowsAbove.*one value per row/);
  });
});

test('softmax and log_softmax', () => {
  tidy(() => {
    const x = [1, 2, 3];
    const z = x.reduce((s, v) => s + Math.exp(v), 0);
    const t = m([1, 2, 3, 1, 2, 3], [2, 3]);
    assertClose(values(t.softmax(1)), [...x, ...x].map((v) => Math.exp(v) / z));
    assertClose(values(t.logSoftmax(-1)), [...x, ...x].map((v) => v - Math.log(z)), 1e-6, 1e-6);
    assertClose(values(t.softmax(0)), [0.5, 0.5, 0.5, 0.5, 0.5, 0.5]);
  });
});

test('shape ops: reshape, view, transpose, permute, (un)squeeze, expand, narrow, slice, contiguous', () => {
  tidy(() => {
    const a = m([0, 1, 2, 3, 4, 5], [2, 3]);
    assert.deepEqual(a.reshape([3, 2]).shape, [3, 2]);
    assert.deepEqual(a.view([6]).shape, [6]);
    assert.deepEqual(a.reshape([-1]).shape, [6]);
    const tr = a.transpose(0, 1);
    assert.deepEqual(tr.shape, [3, 2]);
    assert.deepEqual(values(tr), [0, 3, 1, 4, 2, 5]);
    assert.equal(tr.isContiguous, false);
    assert.equal(tr.contiguous().isContiguous, true);
    assert.deepEqual(values(a.T), [0, 3, 1, 4, 2, 5]);
    const b = Tensor.arange(0, 24, 1, 'f32').reshape([2, 3, 4]);
    const p = b.permute([2, 0, 1]);
    assert.deepEqual(p.shape, [4, 2, 3]);
    // p[i][j][k] = b[j][k][i] = 12j + 4k + i; p[1][1][2] = 12 + 8 + 1
    assert.equal(values(p)[1 * 6 + 1 * 3 + 2], 21);
    assert.deepEqual(a.unsqueeze(0).shape, [1, 2, 3]);
    assert.deepEqual(a.unsqueeze(0).squeeze(0).shape, [2, 3]);
    assert.deepEqual(values(m([1, 2], [2, 1]).expand([2, 3])), [1, 1, 1, 2, 2, 2]);
    assert.deepEqual(values(a.narrow(1, 1, 2)), [1, 2, 4, 5]);
    assert.deepEqual(values(Tensor.arange(0, 10).slice(0, 1, 8, 3)), [1, 4, 7]);
    assert.equal(a.size(-1), 3);
    assert.equal(a.numel, 6);
    assert.throws(() => a.view([4]), /lion\.view\(\[2, 3\] f32\)/);
  });
});

test('indexing: index_select, gather, scatter_add, cat, stack, tril, triu, nonzero', () => {
  tidy(() => {
    const a = m([0, 1, 2, 3, 4, 5], [3, 2]);
    assert.deepEqual(values(a.indexSelect(0, Tensor.from(new BigInt64Array([2n, 0n]), [2], 'i64'))), [4, 5, 0, 1]);
    const g = m([1, 2, 3, 4], [2, 2]).gather(1, Tensor.from(new BigInt64Array([1n, 1n, 0n, 1n]), [2, 2], 'i64'));
    assert.deepEqual(values(g), [2, 2, 3, 4]);
    const sa = Tensor.zeros([3]).scatterAdd(0, Tensor.from(new BigInt64Array([0n, 2n, 0n]), [3], 'i64'), m([1, 2, 3], [3]));
    assert.deepEqual(values(sa), [4, 0, 2]);
    const c = Tensor.cat([m([1, 2], [1, 2]), m([3, 4, 5, 6], [2, 2])], 0);
    assert.deepEqual(c.shape, [3, 2]);
    assert.deepEqual(values(c), [1, 2, 3, 4, 5, 6]);
    const s = Tensor.stack([m([1, 2], [2]), m([3, 4], [2])], 1);
    assert.deepEqual(s.shape, [2, 2]);
    assert.deepEqual(values(s), [1, 3, 2, 4]);
    const sq = Tensor.ones([3, 3]);
    assert.deepEqual(values(sq.tril()), [1, 0, 0, 1, 1, 0, 1, 1, 1]);
    assert.deepEqual(values(sq.triu(1)), [0, 1, 1, 0, 0, 1, 0, 0, 0]);
    assert.deepEqual(values(m([0, 3, 0, 5], [4]).nonzero()), [1, 3]);
  });
});

test('matmul, bmm and linear', () => {
  tidy(() => {
    const a = m([1, 2, 3, 4, 5, 6], [2, 3]);
    const b = m([7, 8, 9, 10, 11, 12], [3, 2]);
    // [1 2 3; 4 5 6]·[7 8; 9 10; 11 12] = [58 64; 139 154]
    assert.deepEqual(values(a.matmul(b)), [58, 64, 139, 154]);
    const ba = Tensor.stack([a, a.mul(2)]);
    const bb = Tensor.stack([b, b]);
    assert.deepEqual(values(ba.bmm(bb)), [58, 64, 139, 154, 116, 128, 278, 308]);
    // broadcasting matmul [2, 2, 3] · [3, 2]
    assert.deepEqual(values(ba.matmul(b)), [58, 64, 139, 154, 116, 128, 278, 308]);
    const w = m([1, 0, -1, 2, 1, 0], [2, 3]); // out 2, in 3
    const y = linear(a, w, m([0.5, -0.5], [2]));
    // row0: [1-3, 2+2] + b = [-1.5, 3.5]; row1: [4-6, 8+5] + b = [-1.5, 12.5]
    assert.deepEqual(values(y), [-1.5, 3.5, -1.5, 12.5]);
    assert.deepEqual(values(linear(a, w)), [-2, 4, -2, 13]);
  });
});

test('embedding and dropout', () => {
  tidy(() => {
    const w = m([0, 0, 1, 1, 2, 2], [3, 2]);
    const e = embedding(w, Tensor.from(new BigInt64Array([2n, 0n, 2n, 1n]), [2, 2], 'i64'));
    assert.deepEqual(e.shape, [2, 2, 2]);
    assert.deepEqual(values(e), [2, 2, 0, 0, 2, 2, 1, 1]);
    const x = Tensor.ones([10000]);
    assert.deepEqual(values(dropout(x, 0.5, false)).slice(0, 3), [1, 1, 1]);
    manualSeed(1);
    const d = values(dropout(x, 0.25, true));
    const kept = d.filter((v) => v !== 0);
    assert.ok(kept.every((v) => Math.abs(v - 1 / 0.75) < 1e-6), 'kept values are scaled by 1/(1-p)');
    assert.ok(Math.abs(kept.length / d.length - 0.75) < 0.03, `kept fraction ${kept.length / d.length}`);
  });
});

test('cross_entropy with ignore index, kl_div, mse_loss', () => {
  tidy(() => {
    const logits = m([1, 2, 3, 1, 1, 1, 0, 5, 0], [3, 3]);
    const target = Tensor.from(new BigInt64Array([2n, -100n, 1n]), [3], 'i64');
    const lse = (v: number[]): number => Math.log(v.reduce((s, x) => s + Math.exp(x), 0));
    const l0 = lse([1, 2, 3]) - 3;
    const l2 = lse([0, 5, 0]) - 5;
    assertClose([crossEntropy(logits, target).item()], [(l0 + l2) / 2], 1e-6, 1e-6);
    assertClose([crossEntropy(logits, target, { reduction: 'sum' }).item()], [l0 + l2], 1e-6, 1e-6);
    assertClose(values(crossEntropy(logits, target, { reduction: 'none' })), [l0, 0, l2], 1e-6, 1e-6);
    // every target ignored: the mean over zero targets is 0/0, NaN as in PyTorch
    assert.ok(Number.isNaN(crossEntropy(logits, Tensor.from(new BigInt64Array([0n, 0n, 0n]), [3], 'i64'), { ignoreIndex: 0 }).item()));
    // KL(p || q) with p = [0.5, 0.5], q = [0.25, 0.75] and a second row equal: batchmean averages rows
    const p = m([0.5, 0.5, 0.1, 0.9], [2, 2]);
    const q = m([0.25, 0.75, 0.1, 0.9], [2, 2]);
    const kl0 = 0.5 * Math.log(0.5 / 0.25) + 0.5 * Math.log(0.5 / 0.75);
    assertClose([klDiv(q.log(), p).item()], [kl0 / 2], 1e-6, 1e-6);
    assertClose([klDiv(q.log(), p.log(), { logTarget: true }).item()], [kl0 / 2], 1e-6, 1e-6);
    assertClose([klDiv(q.log(), p, { reduction: 'sum' }).item()], [kl0], 1e-6, 1e-6);
    assertClose([klDiv(q.log(), p, { reduction: 'mean' }).item()], [kl0 / 4], 1e-6, 1e-6);
    assertClose([mseLoss(m([1, 2, 3], [3]), m([1, 0, 0], [3])).item()], [13 / 3]);
    assertClose([mseLoss(m([1, 2, 3], [3]), m([1, 0, 0], [3]), 'sum').item()], [13]);
  });
});

test('detach, clone, in-place copy, add and fill', () => {
  tidy(() => {
    const a = m([1, 2], [2]);
    const c = a.clone();
    c.fill_(7);
    assert.deepEqual(values(a), [1, 2], 'clone owns its storage');
    const d = a.detach();
    d.addInPlace(m([1, 1], [2]), 2);
    assert.deepEqual(values(a), [3, 4], 'detach shares storage');
    a.copy_(m([9], [1]));
    assert.deepEqual(values(a), [9, 9]);
  });
});
