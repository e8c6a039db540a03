// A training loop's memory is flat: 1,000 steps of forward, backward and AdamW on a 2-layer MLP.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { liveTensors } from '../../src/torch/index.ts';
import { trainMlp } from '../../src/demo/mlp.ts';

test('RSS at step 1000 stays within 5% of step 100, and no tensor handle leaks', () => {
  const before = liveTensors();
  const rss: number[] = [];
  const live: number[] = [];
  // hidden 512 × batch 256: a step allocates ~4 MB of activations and gradients, so a leak of even one
  // step's tensors per 10 steps would exceed the 5% bound well before step 1000.
  trainMlp({
    steps: 1000,
    hidden: 512,
    batch: 256,
    onStep: (s) => {
      if (s === 100 || s === 1000) {
        rss.push(process.memoryUsage().rss);
        live.push(liveTensors());
      }
    },
  });
  const [at100, at1000] = rss as [number, number];
  const growth = at1000 / at100 - 1;
  console.log(`RSS step 100 ${(at100 / 2 ** 20).toFixed(1)} MiB, step 1000 ${(at1000 / 2 ** 20).toFixed(1)} MiB (${(growth * 100).toFixed(2)}%)`);
  assert.ok(Math.abs(growth) <= 0.05, `RSS grew ${(growth * 100).toFixed(2)}% between step 100 and step 1000`);
  assert.equal(live[0], live[1], 'live tensor handles are constant during training');
  assert.equal(liveTensors(), before, 'every handle is freed after training');
});
