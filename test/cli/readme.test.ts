// The README's "pipeline by hand" runs exactly as written (extracted from README.md, not copied), scaled
// down to a tiny model and a few steps only through the documented LION_<COMMAND>_<FLAG> variables.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { trainByteLevelBpe } from '../../src/text/bpe-train.ts';
import { saveTokenizerFiles } from '../../src/text/bpe-files.ts';
import { openDataset } from '../../src/data/datasets.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const shared = path.resolve(root, '../shared/data');
const work = mkdtempSync(path.join(tmpdir(), 'lion-readme-'));
process.on('exit', () => rmSync(work, { recursive: true, force: true }));

/** The first ```sh block under the heading `title` in README.md. */
export function readmeBlock(title: string): string {
  const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
  const at = readme.indexOf(`\n## ${title}\n`);
  assert.ok(at >= 0, `README.md has a section '## ${title}'`);
  const m = /```sh\n([\s\S]*?)```/.exec(readme.slice(at));
  assert.ok(m, `the section '${title}' has a sh block`);
  return m[1]!;
}

test("the README's pipeline by hand runs as written and measures its run", async () => {
  const block = readmeBlock('The pipeline by hand');
  const commands = block.split('\n').filter((l) => l.trim() && !l.trim().startsWith('#'));
  assert.ok(commands.length >= 6 && commands.every((l) => l.startsWith('lion ')), block);

  // A small byte-level BPE vocabulary keeps the sparse head tiny (the README's default is Llama-3's).
  const texts: string[] = [];
  for await (const d of openDataset('beir/scifact/train', { mirror: shared }).docs()) if (texts.push(`${d.title} ${d.text}`) >= 400) break;
  const tok = path.join(work, 'tokenizer');
  saveTokenizerFiles(tok, await trainByteLevelBpe(texts, { vocabSize: 512 }));

  // Outside the checkout, with its bin/ on PATH as the README's set-up says.
  const cwd = path.join(work, 'pipeline');
  mkdirSync(cwd);
  const env = {
    ...process.env,
    PATH: `${path.join(root, 'bin')}:${process.env.PATH}`,
    LION_DATA_MIRROR: shared,
    LION_HOME: path.join(work, 'home'),
    LION_MAKE_MODEL_TOKENIZER: path.join(tok, 'tokenizer.json'),
    LION_MAKE_MODEL_HIDDEN: '32',
    LION_MAKE_MODEL_LAYERS: '1',
    LION_MAKE_MODEL_HEADS: '2',
    LION_MAKE_MODEL_INTERMEDIATE: '64',
    LION_TRAIN_STEPS: '3',
    LION_TRAIN_BATCH_SIZE: '4',
    LION_TRAIN_NEGATIVES: '3',
    LION_INDEX_MAX_LENGTH: '64',
    LION_SEARCH_MAX_LENGTH: '32',
  };
  const r = spawnSync('bash', ['-euo', 'pipefail', '-c', block], { cwd, env, encoding: 'utf8', maxBuffer: 1 << 26 });
  assert.equal(r.status, 0, `the README block failed:\n${r.stderr.slice(-4000)}`);
  // the finished adapter is where the README says, and the run covers every test query at depth 100
  assert.ok(existsSync(path.join(cwd, 'run', 'final', 'adapter_config.json')));
  const run = readFileSync(path.join(cwd, 'run.trec'), 'utf8').trim().split('\n');
  const qids = new Set(run.map((l) => l.split(' ')[0]));
  assert.equal(qids.size, 300);
  assert.ok(run.length > 300 * 90 && run.length <= 300 * 100, `${run.length} lines`);
  // eval prints both measures as numbers in [0, 1]
  for (const m of ['nDCG@10', 'R@100']) {
    const line = r.stdout.split('\n').find((l) => l.includes(m));
    assert.ok(line, `eval printed ${m}:\n${r.stdout}`);
    const v = Number(line.trim().split(/\s+/).pop());
    assert.ok(v >= 0 && v <= 1, line);
  }
});
