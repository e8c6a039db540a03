// Dynamic batching: items that arrive while the consumer is busy leave together, batches never exceed
// maxBatch, a full queue refuses, and a failed batch fails only its own items.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Batcher, QueueFullError } from '../../src/serve/batcher.ts';

/** A consumer whose batches finish when the test says so. */
function gate() {
  const batches: number[][] = [];
  const release: (() => void)[] = [];
  const run = (items: number[]): Promise<number[]> => {
    batches.push(items);
    return new Promise((resolve) => release.push(() => resolve(items.map((x) => x * 10))));
  };
  return { batches, release, run };
}

const tick = () => new Promise((r) => setTimeout(r, 0));

test('items queued while a batch runs leave together as the next batch, in order, at most maxBatch', async () => {
  const g = gate();
  const sizes: number[] = [];
  const b = new Batcher(g.run, { maxBatch: 4, maxWaitMs: 0, maxQueue: 100, onBatch: (n) => sizes.push(n) });
  const first = b.submit([1]);
  await tick();
  assert.deepEqual(g.batches, [[1]], 'an idle consumer gets the first item at once');
  const later = [b.submit([2, 3]), b.submit([4]), b.submit([5, 6, 7])];
  assert.equal(b.depth, 6);
  g.release.shift()!();
  assert.deepEqual(await first, [10]);
  await tick();
  assert.deepEqual(g.batches[1], [2, 3, 4, 5], 'the waiting items, capped at maxBatch');
  g.release.shift()!();
  await tick();
  assert.deepEqual(g.batches[2], [6, 7]);
  g.release.shift()!();
  assert.deepEqual(await Promise.all(later), [[20, 30], [40], [50, 60, 70]]);
  assert.deepEqual(sizes, [1, 4, 2]);
  assert.equal(b.depth, 0);
});

test('maxWaitMs gathers items that arrive close together while the consumer is idle', async () => {
  const g = gate();
  const b = new Batcher(g.run, { maxBatch: 8, maxWaitMs: 250, maxQueue: 100 });
  const all = [b.submit([1]), b.submit([2])];
  await tick();
  const third = b.submit([3]);
  assert.equal(g.batches.length, 0, 'still waiting for company');
  await new Promise((r) => setTimeout(r, 400));
  assert.deepEqual(g.batches, [[1, 2, 3]]);
  g.release.shift()!();
  assert.deepEqual(await Promise.all([...all, third]), [[10], [20], [30]]);
});

test('a full queue refuses all of a request (QueueFullError), and a failing batch rejects only its items', async () => {
  let fail = true;
  const b = new Batcher(
    async (items: number[]) => {
      if (fail) throw new Error('boom');
      return items;
    },
    { maxBatch: 1, maxWaitMs: 0, maxQueue: 2 },
  );
  const a = b.submit([1, 2]);
  await assert.rejects(b.submit([3, 4]), QueueFullError, 'one left queued + two more exceeds 2');
  await assert.rejects(a, /boom/);
  fail = false;
  assert.deepEqual(await b.submit([5, 6]), [5, 6], 'the batcher recovers');
});
