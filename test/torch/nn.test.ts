import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Linear, Module, RMSNorm, Embedding, Tensor, tidy, liveTensors } from '../../src/torch/index.ts';
import { assertClose } from './helpers.ts';

class Block extends Module {
  readonly norm = this.child('input_layernorm', new RMSNorm(4, 1e-5));
  readonly proj = this.child('q_proj', new Linear(4, 2, { bias: false }));
}
class Net extends Module {
  readonly embed = this.child('embed_tokens', new Embedding(10, 4));
  readonly layers = [0, 1].map((i) => this.child(i, new Block()));
}

test('parameter paths are checkpoint keys, in registration order', () => {
  const net = new Net();
  assert.deepEqual(net.namedParameters('model.').map(([n]) => n), [
    'model.embed_tokens.weight',
    'model.0.input_layernorm.weight',
    'model.0.q_proj.weight',
    'model.1.input_layernorm.weight',
    'model.1.q_proj.weight',
  ]);
  assert.equal(net.numParameters(), 40 + 2 * (4 + 8));
  assert.ok(net.parameters().every((p) => p.requiresGrad));
  net.eval();
  assert.equal(net.layers[1]!.proj.training, false);
  net.train();
  assert.equal(net.layers[1]!.proj.training, true);
  net.dispose();
});

test('parameters survive tidy scopes, and loadStateDict replaces by name and refuses wrong shapes', () => {
  const before = liveTensors();
  const lin = tidy(() => new Linear(3, 2));
  assert.equal(liveTensors(), before + 2);
  const w = Tensor.from([1, 0, 0, 0, 1, 0], [2, 3]);
  const b = Tensor.from([0.5, -0.5], [2]);
  const report = lin.loadStateDict(new Map([['weight', w], ['bias', b]]));
  assert.deepEqual(report, { missing: [], unexpected: [] });
  assert.deepEqual(tidy(() => lin.forward(Tensor.from([1, 2, 3], [1, 3])).toList()), [1.5, 1.5]);
  assert.ok(lin.weight === lin.weight && lin.ownParameter('weight')!.requiresGrad);
  assert.throws(() => lin.setParameter('weight', Tensor.zeros([3, 2])), /'weight' has shape \[2, 3\] but the checkpoint gives \[3, 2\]/);
  assert.throws(() => lin.loadStateDict(new Map([['weight', Tensor.zeros([2, 3])]])), /missing \[bias\]/);
  const r = lin.loadStateDict(new Map([['extra', Tensor.zeros([1])]]), { strict: false });
  assert.deepEqual(r, { missing: ['weight', 'bias'], unexpected: ['extra'] });
  lin.dispose();
});

test('RMSNorm computes x / sqrt(mean(x^2) + eps) * weight, in f32 for bf16 input', () => {
  tidy(() => {
    const n = new RMSNorm(2, 0);
    n.setParameter('weight', Tensor.from([1, 2], [2]));
    // x = [3, 4]: rms = sqrt(12.5)
    const r = Math.sqrt(12.5);
    assertClose(n.forward(Tensor.from([3, 4], [1, 2])).toList(), [3 / r, 8 / r], 1e-6, 1e-6);
    // With bf16 weights (a bf16 model) the output stays bf16; the normalisation itself ran in f32.
    n.setParameter('weight', Tensor.from([1, 2], [2]).to('bf16'));
    const y = n.forward(Tensor.from([3, 4], [1, 2]).to('bf16'));
    assert.equal(y.dtype, 'bf16');
    assertClose(y.toFloat32Array(), [3 / r, 8 / r], 1e-2, 1e-2);
    n.dispose();
  });
});
