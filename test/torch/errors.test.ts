// Mistakes throw JS Errors that name the op and the shapes; none aborts the process.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor, tidy, crossEntropy, AdamW } from '../../src/torch/index.ts';

test('a shape mismatch names the op and both shapes', () => {
  tidy(() => {
    const a = Tensor.ones([2, 3]);
    const b = Tensor.ones([4, 5]);
    assert.throws(() => a.matmul(b), (e: Error) => e instanceof Error && /^lion\.matmul\(\[2, 3\] f32, \[4, 5\] f32\): /.test(e.message));
    assert.throws(() => a.add(Tensor.ones([4])), /^Error: lion\.add\(\[2, 3\] f32, \[4\] f32\): .*size of tensor/);
    assert.throws(() => Tensor.cat([a, b], 0), /^Error: lion\.cat\(\[2, 3\] f32, \[4, 5\] f32\)/);
  });
});

test('a dtype mismatch names the op, the shapes and the dtypes', () => {
  tidy(() => {
    const a = Tensor.ones([2, 2]);
    const d = Tensor.ones([2, 2], 'f64');
    assert.throws(() => a.matmul(d), /^Error: lion\.matmul\(\[2, 2\] f32, \[2, 2\] f64\): expected .*Float.*Double/);
    assert.throws(() => crossEntropy(a, Tensor.ones([2], 'f32')), /^Error: lion\.crossEntropy\(\[2, 2\] f32, \[2\] f32\)/);
  });
});

test('use after dispose names the op and the other operands, and is caught by scopes too', () => {
  const a = Tensor.ones([2]);
  const b = Tensor.ones([3, 2]);
  a.dispose();
  assert.throws(() => b.add(a), /^Error: lion\.add\(\[3, 2\] f32\): tensor #\d+ was disposed \(use after dispose\)/);
  assert.throws(() => a.sum(), /^Error: lion\.sum\(\): tensor #\d+ was disposed/);
  const inner = tidy(() => { const t = Tensor.ones([1]); return { t, leaked: t.add(1) }; });
  inner.t.dispose();
  inner.leaked.dispose();
  let freedByScope!: Tensor;
  tidy(() => { freedByScope = Tensor.ones([2]); });
  assert.throws(() => freedByScope.mul(2), /^Error: lion\.mulScalar\(\): tensor #\d+ was disposed/);
  b.dispose();
  a.dispose(); // idempotent
});

test('bad arguments are errors, and the engine keeps working afterwards', () => {
  tidy(() => {
    const a = Tensor.ones([2, 2]);
    assert.throws(() => a.reshape([3]), /^Error: lion\.reshape\(\[2, 2\] f32\)/);
    assert.throws(() => a.narrow(0, 1, 5), /^Error: lion\.narrow/);
    assert.throws(() => a.topk(9), /^Error: lion\.topk/);
    assert.throws(() => Tensor.zeros([-1]), /^Error: lion\.zeros/);
    assert.throws(() => a.to('f32', 'cuda:7' as const), /^Error: lion\.to\(\[2, 2\] f32\)/);
    assert.throws(() => new AdamW([Tensor.ones([1])], { lr: 1 }), /does not require grad/);
    assert.equal(a.add(1).sum().item(), 8);
  });
});
