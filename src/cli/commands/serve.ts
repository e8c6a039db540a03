/**
 * `lion serve`: an HTTP search service (JSON API and a web page) over one or two indexes, with an
 * optional model for text queries. SIGTERM / SIGINT drain in-flight requests and exit 0.
 * @module
 */
import { Command, Option } from 'commander';
import { availableParallelism } from 'node:os';
import { BF16_INFERENCE_HELP, nonNegativeInt, placement, positiveInt, usageError, withPlacement } from '../flags.ts';
import { SPARSE_ALGORITHMS, type SparseAlgorithm } from '../../index/sparse/index.ts';
import { resolveModelFlags } from '../hub.ts';

export interface ServeFlags {
  index: string[];
  model?: string;
  adapter?: string;
  device: string;
  dtype: string;
  bf16?: boolean;
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
  if ((f.adapter || f.maxLength || f.bf16) && !f.model)
    throw usageError('serve', `${f.adapter ? '--adapter' : f.maxLength ? '--max-length' : '--bf16'} needs --model DIR`, 'or drop it to serve query vectors only');
  const port = nonNegativeInt('serve', '--port', f.port);
  if (port > 65535) throw usageError('serve', `--port must be at most 65535, got '${f.port}'`);
  const alpha = f.alpha === undefined ? undefined : Number(f.alpha);
  if (alpha !== undefined && !(alpha > 0 && alpha <= 1))
    throw usageError('serve', `--alpha must be in (0, 1], got '${f.alpha}'`, '1 is exact');
  // hub names are fetched before the server starts, so a request never waits on a download
  const named = f.model ? await resolveModelFlags({ model: f.model, adapter: f.adapter }) : undefined;
  const { startServer } = await import('../../serve/server.ts');
  return startServer({
    indexes: f.index,
    model: named
      ? {
          dir: named.model,
          adapter: named.adapter,
          // checked here, before the model thread starts (for cuda this asks libtorch which GPUs it sees)
          ...placement('serve', f),
          autocast: f.bf16 ? 'bf16' : undefined,
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
  const cmd = program
    .command('serve')
    .description('serve indexes over HTTP: JSON search / explain / encode API, metrics, and a search page')
    .requiredOption(
      '--index <dir>',
      'index folder; give a sparse and a dense one for hybrid search',
      (v: string, acc: string[] = []) => [...acc, v],
    )
    .option('--model <dir>', 'model that encodes text queries (and /v1/encode): a folder, or a Hugging Face Hub name org/name[@revision]')
    .option('--adapter <dir>', 'PEFT LoRA adapter for --model (a folder or hub name)');
  withPlacement(cmd, { what: '--model' })
    .option('--bf16', BF16_INFERENCE_HELP)
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
