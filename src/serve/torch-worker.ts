/**
 * The one thread of a `lion serve` process that touches libtorch: it owns the model (forward passes)
 * and the dense index (its matrix lives in libtorch once searched). The addon's registry of tensor
 * handles is not thread-safe, so nothing else in the process may call the addon; the main thread
 * sends batches here and keeps serving HTTP while a forward pass runs.
 * @module
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { DType, Device } from '../torch/index.ts';
import type { Paradigm, TextKind } from '../model/encoder.ts';
import type { SparseVector, VectorIdentity } from '../index/types.ts';
import type { DenseBackend } from '../index/dense/index.ts';

export interface TorchWorkerInit {
  model?: {
    dir: string;
    adapter?: string;
    device?: Device;
    dtype?: DType;
    /** Autocast for forward passes (dense queries stay f32, as `lion encode`). */
    autocast?: 'bf16';
    /** Encoders to build (one per index paradigm). */
    paradigms: Paradigm[];
    /** Texts per forward pass. */
    batchSize: number;
    /** Maximum query tokens including BOS (default: the encoder's). */
    queryMaxLength?: number;
  };
  /** A dense index folder, searched here with `backend`. */
  dense?: { dir: string; backend: DenseBackend };
}

export interface EncoderInfo {
  identity: VectorIdentity;
  vocabSize: number;
  dim: number;
  maxLength: { query: number; doc: number };
  /** The tokenizer file, for token strings on the main thread. */
  tokenizerFile: string;
}

export type TorchReady =
  | { type: 'ready'; encoders: Partial<Record<Paradigm, EncoderInfo>> }
  | { type: 'fatal'; error: string };

export type TorchTask =
  | { id: number; op: 'encode'; paradigm: Paradigm; kind: TextKind; texts: string[] }
  | { id: number; op: 'search'; queries: Float32Array[]; k: number }
  | { id: number; op: 'score'; query: Float32Array; docId: string };

export type TorchResult =
  | { op: 'encode'; vectors: (SparseVector | Float32Array)[]; tokens: number[] }
  | { op: 'search'; hits: { docId: string; score: number }[][] }
  | { op: 'score'; score: number | null };

export type TorchReply = { id: number; result: TorchResult } | { id: number; error: string };

async function main(port: NonNullable<typeof parentPort>, init: TorchWorkerInit): Promise<void> {
  const { Encoder } = await import('../model/encoder.ts');
  const { loadBackbone, vectorIdentity } = await import('../model/backbone.ts');
  const { DenseIndex } = await import('../index/dense/index.ts');
  const { searchIndex } = await import('../index/search.ts');
  type EncoderT = InstanceType<typeof Encoder>;

  const encoders = new Map<Paradigm, EncoderT>();
  const info: Partial<Record<Paradigm, EncoderInfo>> = {};
  if (init.model) {
    const m = init.model;
    // one load serves both paradigms: the dense head reads the hidden states the sparse one also uses
    const loaded = loadBackbone({
      model: m.dir,
      adapter: m.adapter,
      paradigm: m.paradigms.includes('sparse') ? 'sparse' : 'dense',
      device: m.device,
      dtype: m.dtype,
    });
    for (const p of m.paradigms) {
      const enc = new Encoder(loaded.model, loaded.tokenizer, {
        paradigm: p,
        batchSize: m.batchSize,
        autocast: m.autocast,
        maxLength: m.queryMaxLength === undefined ? undefined : { query: m.queryMaxLength },
      });
      encoders.set(p, enc);
      info[p] = {
        identity: vectorIdentity(loaded, p),
        vocabSize: loaded.tokenizer.vocabSize,
        dim: enc.dim,
        maxLength: { ...enc.maxLength },
        tokenizerFile: loaded.tokenizer.path,
      };
    }
  }
  const dense = init.dense ? DenseIndex.load(init.dense.dir) : null;
  const rowOf = dense ? new Map(dense.docIds.map((id, i) => [id, i])) : null;
  port.postMessage({ type: 'ready', encoders: info } satisfies TorchReady);

  const answer = async (t: TorchTask): Promise<TorchResult> => {
    if (t.op === 'encode') {
      const enc = encoders.get(t.paradigm);
      if (!enc) throw new Error(`lion serve: no ${t.paradigm} encoder loaded`);
      const vectors = enc.encodeAll(t.texts, t.kind);
      // untruncated lengths (BOS included), so the server can say when a text was cut
      const tokens = t.texts.map((s) => enc.tokenizer.encodeRaw(s).length + 1);
      return { op: 'encode', vectors, tokens };
    }
    if (!dense) throw new Error('lion serve: no dense index loaded');
    if (t.op === 'search') {
      const run = await searchIndex(
        dense,
        t.queries.map((vector, i) => ({ id: String(i), vector })),
        { k: t.k, backend: init.dense!.backend },
      );
      return { op: 'search', hits: t.queries.map((_, i) => run.get(String(i)) ?? []) };
    }
    const row = rowOf!.get(t.docId);
    if (row === undefined) return { op: 'score', score: null };
    // the inner product as the f32 search computes it, accumulated in f64 here
    const r = dense.rows(row, row + 1);
    let s = 0;
    for (let j = 0; j < r.length; j++) s += r[j]! * t.query[j]!;
    return { op: 'score', score: s };
  };

  // tasks are answered one at a time, in arrival order: the model and libtorch see one caller
  let chain = Promise.resolve();
  port.on('message', (t: TorchTask) => {
    chain = chain.then(async () => {
      try {
        port.postMessage({ id: t.id, result: await answer(t) } satisfies TorchReply);
      } catch (e) {
        port.postMessage({ id: t.id, error: (e as Error).message } satisfies TorchReply);
      }
    });
  });
}

if (parentPort) {
  const port = parentPort;
  main(port, workerData as TorchWorkerInit).catch((e: unknown) => {
    port.postMessage({ type: 'fatal', error: (e as Error).message } satisfies TorchReady);
  });
}
