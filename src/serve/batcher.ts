/**
 * Dynamic batching: items submitted by concurrent requests are gathered into one batch for a single
 * consumer (the model thread, the search pool). A batch leaves when it is full, or `maxWaitMs` after
 * its first item arrived, and only when the previous batch is done: while the consumer is busy the
 * queue grows, so batches grow with load and stay small (low latency) when the server is quiet.
 * @module
 */

export interface BatcherOptions {
  /** Items per batch at most. */
  maxBatch: number;
  /** How long the first item of a batch may wait for company while the consumer is idle. */
  maxWaitMs: number;
  /** Queued items at most; beyond it `submit` refuses (the server answers 503). */
  maxQueue: number;
  /** Called with each batch's size as it leaves (metrics). */
  onBatch?: (size: number) => void;
  /** Called whenever the queue length changes (metrics). */
  onQueue?: (depth: number) => void;
}

/** Thrown by `submit` when the queue is full. */
export class QueueFullError extends Error {
  constructor(readonly depth: number) {
    super(`the server is busy (${depth} items queued); hint: retry shortly`);
    this.name = 'QueueFullError';
  }
}

interface Pending<I, O> {
  item: I;
  resolve: (o: O) => void;
  reject: (e: Error) => void;
}

export class Batcher<I, O> {
  readonly #run: (items: I[]) => Promise<O[]>;
  readonly #o: BatcherOptions;
  #queue: Pending<I, O>[] = [];
  #busy = false;
  #timer: NodeJS.Timeout | null = null;

  /** `run` answers one batch, in order (one output per item). */
  constructor(run: (items: I[]) => Promise<O[]>, o: BatcherOptions) {
    if (!(o.maxBatch >= 1 && o.maxWaitMs >= 0 && o.maxQueue >= o.maxBatch))
      throw new RangeError(`lion serve: bad batcher options ${JSON.stringify(o)}`);
    this.#run = run;
    this.#o = o;
  }

  get depth(): number {
    return this.#queue.length;
  }

  /** Queues items (all or none) and resolves with their outputs in order. */
  submit(items: readonly I[]): Promise<O[]> {
    if (this.#queue.length + items.length > this.#o.maxQueue) return Promise.reject(new QueueFullError(this.#queue.length));
    const out = Promise.all(
      items.map((item) => new Promise<O>((resolve, reject) => this.#queue.push({ item, resolve, reject }))),
    );
    this.#o.onQueue?.(this.#queue.length);
    this.#schedule();
    return out;
  }

  #schedule(): void {
    if (this.#busy || this.#queue.length === 0) return;
    if (this.#queue.length >= this.#o.maxBatch || this.#o.maxWaitMs === 0) {
      this.#flush();
      return;
    }
    this.#timer ??= setTimeout(() => this.#flush(), this.#o.maxWaitMs);
  }

  #flush(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    if (this.#busy || this.#queue.length === 0) return;
    const batch = this.#queue.splice(0, this.#o.maxBatch);
    this.#busy = true;
    this.#o.onQueue?.(this.#queue.length);
    this.#o.onBatch?.(batch.length);
    void this.#run(batch.map((p) => p.item))
      .then(
        (outs) => {
          if (outs.length !== batch.length) throw new Error(`lion serve: a batch of ${batch.length} got ${outs.length} answers`);
          batch.forEach((p, i) => p.resolve(outs[i]!));
        },
        (e: unknown) => {
          for (const p of batch) p.reject(e instanceof Error ? e : new Error(String(e)));
        },
      )
      .catch((e: Error) => {
        for (const p of batch) p.reject(e);
      })
      .finally(() => {
        this.#busy = false;
        // items that queued while this batch ran have waited already: send them at once
        if (this.#queue.length) this.#flush();
      });
  }
}
