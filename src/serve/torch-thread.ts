/**
 * The main thread's handle on the libtorch-owning worker (see torch-worker.ts): start it, send it
 * tasks, get promises back.
 * @module
 */
import type { Worker } from 'node:worker_threads';
import { siblingModule, spawnWorker } from '../util/worker.ts';
import type { Paradigm } from '../model/encoder.ts';
import type { EncoderInfo, TorchReady, TorchReply, TorchResult, TorchTask, TorchWorkerInit } from './torch-worker.ts';

type Op = TorchTask['op'];
type ResultOf<O extends Op> = Extract<TorchResult, { op: O }>;
/** A task without its id, distributed over the union so each op keeps its own fields. */
type TaskBody<T = TorchTask> = T extends TorchTask ? Omit<T, 'id'> : never;

export class TorchThread {
  readonly encoders: Partial<Record<Paradigm, EncoderInfo>>;
  readonly #worker: Worker;
  readonly #pending = new Map<number, { resolve: (r: TorchResult) => void; reject: (e: Error) => void }>();
  #next = 0;
  #dead: Error | null = null;

  private constructor(worker: Worker, encoders: Partial<Record<Paradigm, EncoderInfo>>) {
    this.#worker = worker;
    this.encoders = encoders;
    worker.on('message', (m: TorchReply) => {
      const p = this.#pending.get(m.id);
      if (!p) return;
      this.#pending.delete(m.id);
      if ('error' in m) p.reject(new Error(m.error));
      else p.resolve(m.result);
    });
    const fail = (e: Error): void => {
      this.#dead = e;
      for (const p of this.#pending.values()) p.reject(e);
      this.#pending.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`lion serve: the model thread exited (code ${code})`)));
  }

  /** Starts the worker and waits until its model and index are loaded (load errors reject). */
  static start(init: TorchWorkerInit): Promise<TorchThread> {
    const worker = spawnWorker(siblingModule(import.meta.url, './torch-worker'), init);
    return new Promise((resolve, reject) => {
      const onExit = (code: number): void => reject(new Error(`lion serve: the model thread exited while loading (code ${code})`));
      worker.once('error', reject);
      worker.once('exit', onExit);
      worker.once('message', (m: TorchReady) => {
        worker.off('error', reject);
        worker.off('exit', onExit);
        if (m.type === 'fatal') {
          void worker.terminate();
          reject(new Error(m.error.startsWith('lion') ? m.error.replace(/^lion\b[^:]*:/, 'lion serve:') : `lion serve: ${m.error}`));
        } else resolve(new TorchThread(worker, m.encoders));
      });
    });
  }

  call<O extends Op>(task: TaskBody & { op: O }): Promise<ResultOf<O>> {
    if (this.#dead) return Promise.reject(this.#dead);
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (r: TorchResult) => void, reject });
      this.#worker.postMessage({ ...task, id });
    });
  }

  async close(): Promise<void> {
    this.#dead ??= new Error('lion serve: the model thread was closed');
    await this.#worker.terminate();
  }
}
