/**
 * Streaming benchmark: peak RSS while reading a 1 GB synthetic BEIR corpus (and a 1 GB MS MARCO
 * collection TSV) with Lion's readers. Each read runs in a fresh child process so its maxRSS is the
 * reader's own; the target is < 200 MB.
 *
 *   node --import tsx bench/data-streaming.ts [GB=1]
 *
 * The synthetic files are written once under $TMPDIR/lion-bench/ (kept for reruns).
 * @module
 */
import { execFileSync } from 'node:child_process';
import { createWriteStream, existsSync, statSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { rng } from '../src/util/random.ts';

const WORDS =
  'the of protein cell gene expression patients study results mice increased receptor activity analysis response human levels effect cancer treatment role function signaling tumor disease clinical model data'.split(
    ' ',
  );

/** Writes `bytes` of synthetic corpus in `format`, with backpressure so the writer stays small too. */
async function synthesize(path: string, bytes: number, format: 'beir' | 'tsv'): Promise<void> {
  const out = createWriteStream(path);
  let written = 0;
  let id = 0;
  const rand = rng(1);
  while (written < bytes) {
    const n = 100 + Math.floor(rand() * 200);
    const words: string[] = [];
    for (let i = 0; i < n; i++) words.push(WORDS[Math.floor(rand() * WORDS.length)]!);
    const text = words.join(' ');
    const line =
      format === 'beir' ? `${JSON.stringify({ _id: `doc${id}`, title: `title ${id}`, text })}\n` : `${id}\t${text}\n`;
    id++;
    written += Buffer.byteLength(line);
    if (!out.write(line)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'close');
}

async function readerChild(path: string, format: 'beir' | 'tsv'): Promise<void> {
  const { readDocs } = await import('../src/data/formats.ts');
  const t0 = performance.now();
  let docs = 0;
  let chars = 0;
  for await (const d of readDocs(path, format === 'beir' ? 'beir' : 'msmarco-tsv')) {
    docs++;
    chars += d.text.length;
  }
  const s = (performance.now() - t0) / 1000;
  const maxRssMb = process.resourceUsage().maxRSS / 1024;
  console.log(JSON.stringify({ docs, chars, seconds: s, maxRssMb }));
}

async function main(): Promise<void> {
  const gb = Number(process.argv[2] ?? 1);
  const dir = join(tmpdir(), 'lion-bench');
  await mkdir(dir, { recursive: true });
  const self = fileURLToPath(import.meta.url);
  for (const format of ['beir', 'tsv'] as const) {
    const path = join(dir, `synthetic-${gb}gb.${format === 'beir' ? 'jsonl' : 'tsv'}`);
    if (!existsSync(path) || statSync(path).size < gb * 1e9) {
      console.error(`writing ${path}`);
      await synthesize(path, gb * 1e9, format);
    }
    const size = statSync(path).size;
    const out = execFileSync(process.execPath, ['--import', 'tsx', self, '--child', path, format], {
      encoding: 'utf8',
    });
    const r = JSON.parse(out) as { docs: number; seconds: number; maxRssMb: number };
    console.log(
      `${format === 'beir' ? 'BEIR corpus.jsonl' : 'MS MARCO collection TSV'}: ${(size / 1e9).toFixed(2)} GB, ${r.docs} docs in ${r.seconds.toFixed(1)} s (${(size / 1e6 / r.seconds).toFixed(0)} MB/s), peak RSS ${r.maxRssMb.toFixed(0)} MB`,
    );
  }
  // Baseline: the same child process doing nothing but start up.
  const idle = execFileSync(
    process.execPath,
    ['--import', 'tsx', '-e', 'console.log(process.resourceUsage().maxRSS / 1024)'],
    { encoding: 'utf8' },
  );
  console.log(`(node + tsx start-up alone: peak RSS ${Number(idle).toFixed(0)} MB)`);
}

if (process.argv[2] === '--child') await readerChild(process.argv[3]!, process.argv[4] as 'beir' | 'tsv');
else await main();
