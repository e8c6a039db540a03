/**
 * Worker thread body for batched sparse search: views the index over the shared buffers it is given
 * and answers query chunks.
 * @module
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { IndexManifest } from '../manifest.ts';
import { runSparse, sparseData, type SparseBuffers, type SparseSearchOptions } from '../sparse/index.ts';
import { makeScratch } from '../sparse/data.ts';
import { quantizeQuery } from '../sparse/quantize.ts';

export interface WorkerInit {
  manifest: IndexManifest;
  buffers: SparseBuffers;
  dir: string;
}

export interface WorkerTask {
  id: number;
  queries: { indices: Uint32Array; values: Float32Array; label: string }[];
  k: number;
  opts: SparseSearchOptions;
}

export type WorkerReply =
  { id: number; results: { docs: Int32Array; scores: Float64Array }[] } | { id: number; error: string };

if (parentPort) {
  const init = workerData as WorkerInit;
  const data = sparseData(init.manifest, init.buffers, init.dir);
  const scratch = makeScratch(data);
  const port = parentPort;
  port.on('message', (task: WorkerTask) => {
    try {
      const results = task.queries.map((q) =>
        runSparse(data, quantizeQuery(q, { size: data.V, declared: data.vocabDeclared }, data.scale, q.label), task.k, scratch, task.opts),
      );
      port.postMessage({ id: task.id, results } satisfies WorkerReply);
    } catch (e) {
      port.postMessage({ id: task.id, error: (e as Error).message } satisfies WorkerReply);
    }
  });
}
