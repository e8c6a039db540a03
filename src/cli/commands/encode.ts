/**
 * `lion encode`: texts -> sparse or dense vectors (JSONL), in input order.
 * @module
 */
import { Command, Option } from 'commander';
import { AtomicTextWriter } from '../../data/lines.ts';
import { Encoder, type Paradigm, type TextKind } from '../../model/encoder.ts';
import { loadBackbone, vectorIdentity } from '../../model/backbone.ts';
import type { VectorMeta } from '../../index/vectors.ts';
import { writeBytesAtomic } from '../../formats/file-io.ts';
import { countLines, readTextGroups } from '../../model/texts.ts';
import { progress } from '../progress.ts';
import { positiveInt } from '../flags.ts';

export interface EncodeFlags {
  model: string;
  adapter?: string;
  paradigm: Paradigm;
  kind: TextKind;
  maxLength?: string;
  batchSize: string;
  topK?: string;
  input: string;
  output: string;
}

export async function runEncode(f: EncodeFlags): Promise<{ texts: number; tokens: number; seconds: number }> {
  const batchSize = positiveInt('encode', '--batch-size', f.batchSize);
  const maxLength = f.maxLength === undefined ? undefined : positiveInt('encode', '--max-length', f.maxLength);
  const topK = f.topK === undefined ? undefined : positiveInt('encode', '--top-k', f.topK);
  const loaded = loadBackbone({ model: f.model, adapter: f.adapter, paradigm: f.paradigm });
  const encoder = new Encoder(loaded.model, loaded.tokenizer, {
    paradigm: f.paradigm,
    batchSize,
    topK,
    maxLength: maxLength === undefined ? undefined : { [f.kind]: maxLength },
  });
  const total = process.stderr.isTTY ? await countLines(f.input) : 0;
  const bar = progress(total, 'texts', 'encode');
  const out = await AtomicTextWriter.open(f.output);
  const t0 = performance.now();
  let done = 0;
  let tokens = 0;
  try {
    // Groups of many batches: sorting by length inside a group keeps padding low; order is restored.
    for await (const group of readTextGroups(f.input, batchSize * 32)) {
      const vecs = encoder.encodeAll(group.map((g) => g.text), f.kind, (n, tk) => {
        tokens += tk;
        bar.update(done + n, { 'tok/s': Math.round(tokens / ((performance.now() - t0) / 1000)) });
      });
      let chunk = '';
      group.forEach((g, i) => {
        const v = vecs[i]!;
        chunk += v instanceof Float32Array
          ? JSON.stringify({ id: g.id, vector: Array.from(v) }) + '\n'
          : JSON.stringify({ id: g.id, indices: Array.from(v.indices), values: Array.from(v.values) }) + '\n';
      });
      await out.write(chunk);
      done += group.length;
    }
    await out.close();
    // Who made these vectors: `lion index` records it, and `lion search` checks query files against it.
    const meta: VectorMeta = { ...vectorIdentity(loaded, f.paradigm), ...(f.paradigm === 'sparse' ? { vocabSize: loaded.tokenizer.vocabSize } : {}) };
    writeBytesAtomic(`${f.output}.meta.json`, JSON.stringify(meta));
  } catch (e) {
    await out.abort();
    throw e;
  } finally {
    bar.stop();
    loaded.model.dispose();
  }
  return { texts: done, tokens, seconds: (performance.now() - t0) / 1000 };
}

export function register(program: Command): void {
  program
    .command('encode')
    .description('encode texts into sparse (Lion-SP) or dense (Lion-DS) vectors, one JSON line per text in input order')
    .requiredOption('--model <dir>', 'model folder in HF layout (config.json, weights, tokenizer.json)')
    .option('--adapter <dir>', 'PEFT LoRA adapter folder (adapter_config.json + adapter_model.safetensors or .bin)')
    .addOption(new Option('--paradigm <p>', 'sparse or dense').choices(['sparse', 'dense']).makeOptionMandatory())
    .addOption(new Option('--kind <k>', 'query or doc (sets the default max length)').choices(['query', 'doc']).makeOptionMandatory())
    .option('--max-length <n>', 'maximum tokens per text including BOS (default: query 64, doc 192)')
    .option('--batch-size <n>', 'texts per forward pass', '32')
    .option('--top-k <n>', 'keep only the k largest sparse weights (default: keep all, as the paper)')
    .requiredOption('--input <file>', 'JSONL with {"id","text"} or BEIR {"_id","title","text"} lines')
    .requiredOption('--output <file>', 'JSONL: {"id","indices","values"} (sparse) or {"id","vector"} (dense)')
    .action(async (f: EncodeFlags) => {
      const r = await runEncode(f);
      console.error(`encoded ${r.texts} texts (${r.tokens} tokens) in ${r.seconds.toFixed(1)} s: ${(r.texts / r.seconds).toFixed(1)} texts/s, ${(r.tokens / r.seconds).toFixed(0)} tokens/s -> ${f.output}`);
    });
}
