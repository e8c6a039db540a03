/**
 * A model-backed text encoder for index building and search: texts in, sparse or dense vectors out,
 * with the identity (model, adapter, tokenizer) that indexes record and check. The model may be a
 * folder or a Hugging Face Hub name (see hub.ts).
 * @module
 */
import { existsSync, statSync } from 'node:fs';
import type { DType, Device } from '../torch/index.ts';
import type { TextItem } from '../index/encode.ts';
import type { Paradigm, SparseVector, VectorIdentity } from '../index/types.ts';
import type { DocTextRule } from './encoder.ts';
import type { HubOptions } from './hub.ts';

export interface TextEncoder {
  encode: (texts: string[]) => Promise<(SparseVector | Float32Array)[]>;
  identity: VectorIdentity;
  vocabSize: number;
  dispose: () => void;
}

/** Reads texts to encode: a JSONL file, or a registered dataset's corpus. */
export async function* corpusTexts(spec: string, rule: DocTextRule = 'authors'): AsyncGenerator<TextItem> {
  if (existsSync(spec) && statSync(spec).isFile()) {
    const { readTextGroups } = await import('./texts.ts');
    for await (const g of readTextGroups(spec, 1024, rule)) yield* g;
    return;
  }
  const { openDataset } = await import('../data/datasets.ts');
  const { beirDocText } = await import('./encoder.ts');
  for await (const d of openDataset(spec).docs()) yield { id: d.id, text: beirDocText(d, rule) };
}

/** A model-backed encoder for `kind` texts, plus its identity (loads libtorch and the weights). */
export async function modelEncoder(
  model: string,
  adapter: string | undefined,
  paradigm: Paradigm,
  kind: 'query' | 'doc',
  batchSize: number,
  maxLength?: number,
  run: { device?: Device; dtype?: DType; autocast?: 'bf16'; hub?: HubOptions } = {},
): Promise<TextEncoder> {
  const { loadPretrained } = await import('./hub.ts');
  const { vectorIdentity } = await import('./backbone.ts');
  const { Encoder } = await import('./encoder.ts');
  const loaded = await loadPretrained({ model, adapter, paradigm, device: run.device, dtype: run.dtype }, run.hub);
  const enc = new Encoder(loaded.model, loaded.tokenizer, {
    paradigm,
    autocast: run.autocast,
    batchSize,
    maxLength: maxLength === undefined ? undefined : { [kind]: maxLength },
  });
  return {
    encode: async (texts) => enc.encodeAll(texts, kind),
    identity: vectorIdentity(loaded, paradigm),
    vocabSize: loaded.tokenizer.vocabSize,
    dispose: () => loaded.model.dispose(),
  };
}
