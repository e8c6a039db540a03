/**
 * `lion make-model`: a seeded random Llama in HF layout with a chosen tokenizer.json.
 * @module
 */
import { Command } from 'commander';
import { HfTokenizer } from '../../text/hf-tokenizer.ts';
import { makeModel, resolveTokenizer } from '../../model/make-model.ts';
import { nonEmbeddingParams } from '../../model/arch.ts';
import { nonNegativeInt, positiveInt } from '../flags.ts';
import { withAtomicDir } from '../../formats/file-io.ts';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

interface Flags {
  output: string;
  tokenizer: string;
  hidden: string;
  layers: string;
  heads: string;
  kvHeads?: string;
  intermediate: string;
  untied?: boolean;
  seed: string;
  overwrite?: boolean;
}

export function register(program: Command): void {
  program
    .command('make-model')
    .description('write a seeded random Llama model (config.json, model.safetensors, tokenizer.json) for tests and small backbones')
    .requiredOption('--output <dir>', 'folder to create (written atomically)')
    .option('--overwrite', 'replace an existing model folder (one with config.json) at --output')
    .option('--tokenizer <file>', "tokenizer.json, or 'llama3' for the Llama-3 tokenizer", 'llama3')
    .option('--hidden <n>', 'hidden size d', '512')
    .option('--layers <n>', 'decoder layers', '4')
    .option('--heads <n>', 'attention heads', '8')
    .option('--kv-heads <n>', 'key/value heads (GQA; default = heads)')
    .option('--intermediate <n>', 'SwiGLU width', '1408')
    .option('--untied', 'give the model its own LM head instead of tying it to the embeddings')
    .option('--seed <n>', 'random seed', '0')
    .action(async (f: Flags) => {
      const tokenizer = HfTokenizer.fromFile(resolveTokenizer(f.tokenizer));
      const isModel = (d: string): boolean => existsSync(join(d, 'config.json'));
      const write = async (dir: string) => makeModel(
        dir,
        {
          hidden: positiveInt('make-model', '--hidden', f.hidden),
          layers: positiveInt('make-model', '--layers', f.layers),
          heads: positiveInt('make-model', '--heads', f.heads),
          kvHeads: f.kvHeads === undefined ? undefined : positiveInt('make-model', '--kv-heads', f.kvHeads),
          intermediate: positiveInt('make-model', '--intermediate', f.intermediate),
          tie: !f.untied,
        },
        tokenizer,
        nonNegativeInt('make-model', '--seed', f.seed),
      );
      const config = await withAtomicDir(f.output, write, { overwrite: f.overwrite, isOurs: isModel, what: 'model folder', cmd: 'make-model', inputs: [f.tokenizer] });
      console.log(`wrote ${f.output}: ${config.num_hidden_layers} layers, d ${config.hidden_size}, vocab ${config.vocab_size}, ${(nonEmbeddingParams(config) / 1e6).toFixed(2)}M non-embedding parameters`);
    });
}
