/**
 * `lion serve`: an HTTP search service (JSON API and a web page) over one or two indexes, with an
 * optional model for text queries. SIGTERM / SIGINT drain in-flight requests and exit 0.
 * @module
 */
import { Command, Option } from 'commander';
import { availableParallelism } from 'node:os';
import { nonNegativeInt, positiveInt } from '../flags.ts';
import { SPARSE_ALGORITHMS, type SparseAlgorithm } from '../../index/sparse/index.ts';
import type { DType, Device } from '../../torch/index.ts';

export interface ServeFlags {
  index: string[];
  model?: string;
  adapter?: string;
  device: string;
  dtype: 'f32' | 'bf16' | 'f16';
  corpus?: string;
  tokenizer?: string;
  host: string;
  port: string;
  maxK: string;
  maxTexts: string;
  maxBody: string;
  maxLength?: string;
  batchSize: string;
  maxWaitMs: string;
  threads?: string;
  algorithm?: SparseAlgorithm;
  alpha?: string;
  backend: 'torch' | 'js';
  fusion: 'rrf' | 'linear';
}

export async function runServe(f: ServeFlags): Promise<import('../../serve/server.ts').Server> {
  if (!/^(cpu|cuda(:\d+)?)$/.test(f.device))
    throw new Error(`lion serve: --device must be cpu, cuda or cuda:N, got '${f.device}'; hint: lion doctor lists the devices`);
  if ((f.adapter || f.maxLength) && !f.model)
    throw new Error(`lion serve: ${f.adapter ? '--adapter' : '--max-length'} needs --model DIR; hint: or drop it to serve query vectors only`);
  const port = nonNegativeInt('serve', '--port', f.port);
  if (port > 65535) throw new Error(`lion serve: --port must be at most 65535, got '${f.port}'`);
  const alpha = f.alpha === undefined ? undefined : Number(f.alpha);
  if (alpha !== undefined && !(alpha > 0 && alpha <= 1))
    throw new Error(`lion serve: --alpha must be in (0, 1], got '${f.alpha}'; hint: 1 is exact`);
  const { startServer } = await import('../../serve/server.ts');
  return startServer({
    indexes: f.index,
    model: f.model
      ? {
          dir: f.model,
          adapter: f.adapter,
          device: f.device as Device,
          dtype: f.dtype as DType,
          queryMaxLength: f.maxLength === undefined ? undefined : positiveInt('serve', '--max-length', f.maxLength),
        }
      : undefined,
    corpus: f.corpus,
    tokenizer: f.tokenizer,
    host: f.host,
    port,
    bodyLimit: positiveInt('serve', '--max-body', f.maxBody),
    limits: { maxK: positiveInt('serve', '--max-k', f.maxK), maxTexts: positiveInt('serve', '--max-texts', f.maxTexts) },
    batchSize: positiveInt('serve', '--batch-size', f.batchSize),
    maxWaitMs: nonNegativeInt('serve', '--max-wait-ms', f.maxWaitMs),
    threads: f.threads === undefined ? availableParallelism() : positiveInt('serve', '--threads', f.threads),
    algorithm: f.algorithm,
    alpha,
    backend: f.backend,
    fusion: f.fusion,
  });
}

export function register(program: Command): void {
  program
    .command('serve')
    .description('serve indexes over HTTP: JSON search / explain / encode API, metrics, and a search page')
    .requiredOption(
      '--index <dir>',
      'index folder; give a sparse and a dense one for hybrid search',
      (v: string, acc: string[] = []) => [...acc, v],
    )
    .option('--model <dir>', 'model that encodes text queries (and /v1/encode)')
    .option('--adapter <dir>', 'PEFT LoRA adapter for --model')
    .option('--device <d>', 'with --model: cpu, cuda or cuda:N', 'cpu')
    .addOption(new Option('--dtype <t>', 'with --model: weight dtype').choices(['f32', 'bf16', 'f16']).default('f32'))
    .option('--max-length <n>', 'with --model: maximum query tokens including BOS (longer queries are cut, and the answer says so)')
    .option('--corpus <id|file>', 'dataset id or JSONL corpus: hits carry their text')
    .option('--tokenizer <file>', 'tokenizer.json for token strings without --model (default: the index manifest\'s)')
    .option('--host <addr>', 'address to listen on', '127.0.0.1')
    .option('--port <n>', 'port to listen on (0: any free port)', '8080')
    .option('--max-k <n>', 'largest k a request may ask for', '1000')
    .option('--max-texts <n>', 'most texts per /v1/encode request', '256')
    .option('--max-body <bytes>', 'largest request body; larger ones get 413', String(1 << 20))
    .option('--batch-size <n>', 'most texts per forward pass and queries per search batch', '32')
    .option('--max-wait-ms <n>', 'how long a batch waits for more requests while the model is idle', '2')
    .option('--threads <n>', 'sparse search worker threads (default: cores)')
    .addOption(new Option('--algorithm <name>', 'sparse: query algorithm (default bmp)').choices([...SPARSE_ALGORITHMS]))
    .option('--alpha <x>', 'sparse, bmp: approximation in (0, 1]; 1 is exact (default)')
    .addOption(new Option('--backend <b>', 'dense: matmul backend').choices(['torch', 'js']).default('torch'))
    .addOption(new Option('--fusion <f>', 'hybrid: fusion of the two runs').choices(['rrf', 'linear']).default('rrf'))
    .action(async (f: ServeFlags) => {
      const s = await runServe(f);
      const h = s.engine.health() as { indexes: Record<string, { docs: number }>; model: string | null };
      console.error(
        `lion serve: listening on ${s.url} (${Object.entries(h.indexes).map(([p, x]) => `${p} ${x.docs} docs`).join(', ')}${h.model ? `, model ${h.model}` : ''})`,
      );
      await new Promise<void>((resolve) => {
        const stop = (sig: string): void => {
          console.error(`lion serve: ${sig}: finishing in-flight requests`);
          s.close().then(resolve, (e: unknown) => {
            console.error(`lion serve: while stopping: ${(e as Error).message}`);
            process.exitCode = 1;
            resolve();
          });
        };
        process.once('SIGTERM', () => stop('SIGTERM'));
        process.once('SIGINT', () => stop('SIGINT'));
      });
      console.error('lion serve: stopped');
    });
}
