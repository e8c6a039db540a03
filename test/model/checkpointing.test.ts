// Activation checkpointing: the same gradients as a plain backward (f32, relative 1e-5), with dropout
// replayed exactly, for full fine-tuning (embeddings train) and LoRA, dense and sparse heads.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor, liveTensors, manualSeed, noGrad, tidy } from '../../src/torch/index.ts';
import { LlamaForCausalLM } from '../../src/model/llama.ts';
import { denseHead, sparseHead } from '../../src/model/heads.ts';
import { applyLora, PAPER_LORA } from '../../src/model/lora.ts';
import { backward, pendingChains } from '../../src/model/checkpointing.ts';
import type { LlamaArch } from '../../src/model/arch.ts';
import { assertClose } from '../torch/helpers.ts';

const ARCH: LlamaArch = { vocab_size: 64, hidden_size: 32, intermediate_size: 64, num_hidden_layers: 3, num_attention_heads: 4, num_key_value_heads: 2, rms_norm_eps: 1e-5, rope_theta: 10000, tie_word_embeddings: true };

function model(tuning: 'full' | 'lora'): LlamaForCausalLM {
  manualSeed(11);
  const m = new LlamaForCausalLM(ARCH);
  if (tuning === 'lora') {
    applyLora(m, { ...PAPER_LORA, r: 4, dropout: 0.2 }); // dropout: the recomputation must replay its masks
    // B starts at zero; give it values so that A's gradients are not all zero either.
    noGrad(() => {
      for (const [n, p] of m.namedParameters()) if (n.endsWith('lora_B.weight')) tidy(() => void p.copy_(Tensor.randn(p.shape).mul(0.1)));
    });
  } else {
    for (const p of m.parameters()) p.requiresGrad_(true);
  }
  return m.train(true);
}

/** Gradients of every trainable parameter after one forward + backward of a retrieval-like loss. */
function gradients(tuning: 'full' | 'lora', paradigm: 'dense' | 'sparse', checkpointing: boolean): Map<string, number[]> {
  const m = model(tuning);
  m.model.gradientCheckpointing = checkpointing;
  manualSeed(5); // the same dropout draws in both runs
  tidy(() => {
    const ids = Tensor.from(BigInt64Array.from([0, 1, 5, 9, 2, 1, 7, 3, 8, 4, 0, 0, 1, 6, 6, 2].map(BigInt)), [2, 8], 'i64');
    const mask = Tensor.from(Int32Array.from([0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]), [2, 8], 'i32');
    // Two forwards through the model, as a query and a document batch in one micro-batch.
    const h1 = m.model.forward(ids, mask, 'bidirectional');
    const h2 = m.model.forward(ids.slice(1, 0, 8).slice(0, 1, 2), mask.slice(1, 0, 8).slice(0, 1, 2), 'bidirectional');
    const rep = (h: Tensor, k: Tensor): Tensor => (paradigm === 'dense' ? denseHead(h, k) : sparseHead(h, k, m.lmHeadWeight));
    const q = rep(h1, mask);
    const d = rep(h2, mask.slice(0, 1, 2));
    const loss = q.matmul(d.T).square().sum().add(q.square().mean());
    assert.equal(pendingChains(), checkpointing ? 2 : 0);
    backward(loss);
    assert.equal(pendingChains(), 0);
  });
  const out = new Map<string, number[]>();
  for (const [n, p] of m.namedParameters()) {
    if (!p.requiresGrad) continue;
    const g = p.grad;
    assert.ok(g, `${n} got a gradient`);
    out.set(n, g.toList());
    g.dispose();
  }
  m.dispose();
  return out;
}

for (const tuning of ['full', 'lora'] as const) {
  for (const paradigm of ['dense', 'sparse'] as const) {
    test(`${tuning}, ${paradigm}: checkpointed gradients equal the plain ones (relative 1e-5)`, () => {
      const before = liveTensors();
      const plain = gradients(tuning, paradigm, false);
      const ckpt = gradients(tuning, paradigm, true);
      assert.deepEqual([...ckpt.keys()], [...plain.keys()]);
      let nonzero = 0;
      for (const [n, g] of plain) {
        const scale = Math.max(...g.map(Math.abs));
        if (scale > 0) nonzero++;
        assertClose(ckpt.get(n)!, g, 1e-5 * scale, 1e-5, n);
      }
      assert.ok(nonzero > plain.size / 2, `${nonzero} of ${plain.size} gradients are nonzero`);
      assert.equal(liveTensors(), before, 'no tensor outlives the step');
    });
  }
}

test('checkpointing is off under no-grad (inference is unchanged and records nothing)', () => {
  const m = model('full');
  m.model.gradientCheckpointing = true;
  m.eval();
  const [a, b] = [true, false].map((on) => {
    m.model.gradientCheckpointing = on;
    return noGrad(() => tidy(() => m.model.forward(Tensor.from(BigInt64Array.from([1n, 2n, 3n]), [1, 3], 'i64'), Tensor.ones([1, 3], 'i64'), 'bidirectional').toList()));
  });
  assert.deepEqual(a, b);
  assert.equal(pendingChains(), 0);
  m.dispose();
});
