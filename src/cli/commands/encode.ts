/**
 * `lion encode`: texts -> sparse or dense vectors (JSONL), in input order.
 * @module
 */
import { Command, Option } from 'commander';
import { openTextOutput, STDOUT } from '../../data/lines.ts';
import { DOC_TEXT_RULES, Encoder, type DocTextRule, type Paradigm, type TextKind } from '../../model/encoder.ts';
import { vectorIdentity } from '../../model/backbone.ts';
import { loadPretrained } from '../../model/hub.ts';
import { hubOptions } from '../hub.ts';
import { vectorJsonLine, type VectorMeta } from '../../index/vectors.ts';
import { writeBytesAtomic } from '../../formats/file-io.ts';
import { countLines, readTextGroups } from '../../model/texts.ts';
import { progress } from '../progress.ts';
import { BF16_INFERENCE_HELP, placement, positiveInt, withPlacement } from '../flags.ts';
import { parseShard, shardRange } from '../../parallel/shard.ts';

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
  docText: DocTextRule;
  device?: string;
  dtype?: string;
  bf16?: boolean;
  shard?: string;
}

export async function runEncode(f: EncodeFlags): Promise<{ texts: number; tokens: number; seconds: number }> {
  const batchSize = positiveInt('encode', '--batch-size', f.batchSize);
  const maxLength = f.maxLength === undefined ? undefined : positiveInt('encode', '--max-length', f.maxLength);
  const topK = f.topK === undefined ? undefined : positiveInt('encode', '--top-k', f.topK);
  const { device, dtype } = placement('encode', f);
  const shard = parseShard('encode', f.shard);
  const loaded = await loadPretrained({ model: f.model, adapter: f.adapter, paradigm: f.paradigm, device, dtype }, hubOptions());
  const encoder = new Encoder(loaded.model, loaded.tokenizer, {
    paradigm: f.paradigm,
    autocast: f.bf16 ? 'bf16' : undefined,
    batchSize,
    topK,
    maxLength: maxLength === undefined ? undefined : { [f.kind]: maxLength },
  });
  const groupSize = batchSize * 32;
  const lines = shard || process.stderr.isTTY ? await countLines(f.input) : 0;
  // A shard takes whole groups, so each text meets the batch it would meet in one pass.
  const range = shard ? shardRange(shard, lines, groupSize) : { start: 0, end: lines };
  const total = range.end - range.start;
  const bar = progress(total, 'texts', 'encode');
  // Who made these vectors: `lion index` records it, and `lion search` checks query files against it.
  // A sidecar file beside a vectors file; the first line (`{"_meta": …}`) when writing to stdout.
  const meta: VectorMeta = { ...vectorIdentity(loaded, f.paradigm), ...(f.paradigm === 'sparse' ? { vocabSize: loaded.tokenizer.vocabSize } : {}) };
  const out = await openTextOutput(f.output);
  if (f.output === STDOUT) await out.write(JSON.stringify({ _meta: meta }) + '\n');
  const t0 = performance.now();
  let done = 0;
  let tokens = 0;
  try {
    // Groups of many batches: sorting by length inside a group keeps padding low; order is restored.
    let at = 0;
    for await (const group of readTextGroups(f.input, groupSize, f.docText)) {
      at += group.length;
      if (shard && (at - group.length < range.start || at - group.length >= range.end)) continue;
      const vecs = encoder.encodeAll(group.map((g) => g.text), f.kind, (n, tk) => {
        tokens += tk;
        bar.update(done + n, { 'tok/s': Math.round(tokens / ((performance.now() - t0) / 1000)) });
      });
      let chunk = '';
      group.forEach((g, i) => (chunk += vectorJsonLine(g.id, vecs[i]!)));
      await out.write(chunk);
      done += group.length;
    }
    await out.close();
    if (f.output !== STDOUT) writeBytesAtomic(`${f.output}.meta.json`, JSON.stringify(meta));
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
  const cmd = program
    .command('encode')
    .description('encode texts into sparse (Lion-SP) or dense (Lion-DS) vectors, one JSON line per text in input order')
    .requiredOption('--model <dir>', 'model folder in HF layout (config.json, weights, tokenizer.json), or a Hugging Face Hub name org/name[@revision]')
    .option('--adapter <dir>', 'PEFT LoRA adapter folder (adapter_config.json + adapter_model.safetensors or .bin)')
    .addOption(new Option('--paradigm <p>', 'sparse or dense').choices(['sparse', 'dense']).makeOptionMandatory())
    .addOption(new Option('--kind <k>', 'query or doc (sets the default max length)').choices(['query', 'doc']).makeOptionMandatory())
    .option('--max-length <n>', 'maximum tokens per text including BOS (default: query 64, doc 192)')
    .option('--batch-size <n>', 'texts per forward pass', '32')
    .option('--top-k <n>', 'keep only the k largest sparse weights (default: keep all, as the paper)')
    .requiredOption('--input <file>', 'JSONL with {"id","text"} or BEIR {"_id","title","text"} lines')
    .requiredOption('--output <file>', 'JSONL: {"id","indices","values"} (sparse) or {"id","vector"} (dense); - for stdout (identity as a first _meta line)')
    .addOption(
      new Option('--doc-text <rule>', "a BEIR line's text: authors = title + ' ' + text always (the paper's BEIR encoding), clean = no leading space for empty titles")
        .choices([...DOC_TEXT_RULES])
        .default('authors'),
    )
    .option('--shard <i/N>', 'encode only shard i of N (0-based): run N of these, on as many devices or machines, then lion index --vectors the N files in shard order');
  withPlacement(cmd)
    .option('--bf16', BF16_INFERENCE_HELP)
    .action(async (f: EncodeFlags) => {
      const r = await runEncode(f);
      console.error(`encoded ${r.texts} texts (${r.tokens} tokens) in ${r.seconds.toFixed(1)} s: ${(r.texts / r.seconds).toFixed(1)} texts/s, ${(r.tokens / r.seconds).toFixed(0)} tokens/s -> ${f.output}`);
    });
}
