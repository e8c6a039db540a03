// Models by name for the training commands, teacher and serve: each fetches from a local server in the
// Hugging Face Hub's URL layout into HF_HOME, and a PEFT adapter repository brings its base model.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { HfTokenizer } from '../../src/text/hf-tokenizer.ts';
import { makeModel, resolveTokenizer } from '../../src/model/make-model.ts';
import { FINAL_DIR } from '../../src/train/checkpoint.ts';
import { commit, fakeHub, repoOf, type Hub } from '../model/hub-server.ts';
import { serve, post } from '../serve/helpers.ts';

const run = promisify(execFile);
const lion = path.join(import.meta.dirname, '../../bin/lion.js');
const work = mkdtempSync(path.join(tmpdir(), 'lion-hub-cmds-'));
const local = path.join(work, 'model');
makeModel(local, { hidden: 32, layers: 1, heads: 4, intermediate: 64 }, HfTokenizer.fromFile(resolveTokenizer('llama3')), 7);

const words = 'apple river stone cloud tiger piano glass forest candle silver'.split(' ');
const corpus = path.join(work, 'corpus.jsonl');
writeFileSync(corpus, words.map((w, i) => JSON.stringify({ _id: `d${i}`, title: '', text: `${w} ${w} about the ${w} and more words for a block` })).join('\n') + '\n');
const train = path.join(work, 'train.jsonl');
writeFileSync(train, words.map((w, i) => JSON.stringify({ question: w, pos_pid: `d${i}`, neg_pids: [`d${(i + 1) % words.length}`, `d${(i + 2) % words.length}`] })).join('\n') + '\n');
const queries = path.join(work, 'queries.jsonl');
writeFileSync(queries, words.slice(0, 4).map((w, i) => JSON.stringify({ _id: `q${i}`, text: w })).join('\n') + '\n');
const qrels = path.join(work, 'qrels.tsv');
writeFileSync(qrels, 'query-id\tcorpus-id\tscore\n' + words.slice(0, 4).map((_, i) => `q${i}\td${i}\t1`).join('\n') + '\n');

const hfHome = path.join(work, 'hf');
const snapshot = (repo: string, c: string): string => path.join(hfHome, 'hub', `models--${repo.replace('/', '--')}`, 'snapshots', c);
let hub: Hub;
const repos: Parameters<typeof fakeHub>[0] = { 'org/tiny': repoOf(local, commit('1')) };
const env = (): NodeJS.ProcessEnv => ({ ...process.env, HF_ENDPOINT: hub.url, HF_HOME: hfHome, HF_HUB_OFFLINE: '' });
const lionRun = (args: string[]) => run(process.execPath, [lion, ...args], { env: env() });
const small = ['--steps', '1', '--batch-size', '2', '--lr', '1e-3', '--save-every', '1'];

/** A trained adapter as a hub repository whose adapter_config.json names its base by hub name. */
function publishAdapter(dir: string, repo: string, c: string): void {
  const r = repoOf(dir, c);
  const cfg = JSON.parse(r.files['adapter_config.json']!.toString()) as { base_model_name_or_path: string };
  assert.equal(cfg.base_model_name_or_path, snapshot('org/tiny', commit('1')), 'the adapter records the base it trained on');
  r.files['adapter_config.json'] = Buffer.from(JSON.stringify({ ...cfg, base_model_name_or_path: 'org/tiny' }));
  repos[repo] = r;
}

test.before(async () => {
  hub = await fakeHub(repos);
});
after(async () => {
  await hub.close();
  rmSync(work, { recursive: true, force: true });
});

test('pretrain --model org/name fetches the model into the hub cache and trains it', async () => {
  const out = path.join(work, 'pretrain');
  const r = await lionRun(['pretrain', '--model', 'org/tiny', '--corpus', corpus, '--block', '8', '--output', out, ...small]);
  assert.match(r.stderr, /org\/tiny: fetching model\.safetensors/);
  assert.ok(existsSync(path.join(snapshot('org/tiny', commit('1')), 'config.json')));
  assert.ok(existsSync(path.join(out, FINAL_DIR, 'model.safetensors')));
});

test('mntp by name, then train from the MNTP adapter by name (its base resolves through the hub) with validation', async () => {
  const mntpOut = path.join(work, 'mntp');
  await lionRun(['mntp', '--model', 'org/tiny', '--corpus', corpus, '--block', '8', '--lora-r', '4', '--output', mntpOut, ...small]);
  publishAdapter(path.join(mntpOut, FINAL_DIR), 'org/tiny-mntp', commit('2'));
  const out = path.join(work, 'train');
  const r = await lionRun(['train', '--model', 'org/tiny-mntp', '--paradigm', 'sparse', '--objective', 'cl', '--train', train, '--corpus', corpus, '--negatives', '1', '--query-length', '8', '--doc-length', '16', '--dev-queries', queries, '--dev-qrels', qrels, '--validate-every', '1', '--output', out, ...small]);
  assert.match(r.stderr, /org\/tiny-mntp: fetching adapter_model\.safetensors/);
  assert.doesNotMatch(r.stderr, /org\/tiny: fetching/, 'the base is already in the cache');
  assert.match(r.stderr, /nDCG@10 \d\.\d{4}/, 'validation ran');
  // it continued the MNTP adapter (rank 4) over the base; a fresh LoRA would have train's rank 16
  const cfg = JSON.parse(readFileSync(path.join(out, FINAL_DIR, 'adapter_config.json'), 'utf8')) as { r: number; base_model_name_or_path: string };
  assert.equal(cfg.r, 4);
  assert.equal(cfg.base_model_name_or_path, snapshot('org/tiny', commit('1')));
});

test('train-reranker by name, then teacher --from cross-encoder:org/name scores as the local folders do', async () => {
  const out = path.join(work, 'reranker');
  await lionRun(['train-reranker', '--model', 'org/tiny', '--train', train, '--corpus', corpus, '--negatives', '1', '--max-length', '32', '--output', out, ...small]);
  const ce = path.join(out, FINAL_DIR);
  assert.ok(existsSync(path.join(ce, 'score.safetensors')));
  publishAdapter(ce, 'org/tiny-reranker', commit('3'));
  const byName = path.join(work, 'scored-hub.jsonl');
  const r = await lionRun(['teacher', '--train', train, '--corpus', corpus, '--from', 'cross-encoder:org/tiny-reranker', '--output', byName]);
  assert.match(r.stderr, /org\/tiny-reranker: fetching score\.safetensors/);
  const byFolder = path.join(work, 'scored-local.jsonl');
  await lionRun(['teacher', '--train', train, '--corpus', corpus, '--from', `cross-encoder:${ce}`, '--base', local, '--output', byFolder]);
  const rows = (f: string) => readFileSync(f, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { pos_score: number; neg_scores: number[] });
  const a = rows(byName);
  const b = rows(byFolder);
  assert.equal(a.length, words.length);
  a.forEach((row, i) => [row.pos_score, ...row.neg_scores].forEach((s, j) => assert.ok(Math.abs(s - [b[i]!.pos_score, ...b[i]!.neg_scores][j]!) < 1e-5, `row ${i} score ${j}`)));
  await assert.rejects(lionRun(['train-reranker', '--model', 'org/tiny-mntp', '--train', train, '--corpus', corpus, '--output', path.join(work, 'bad'), ...small]), /is a PEFT adapter; a reranker trains from a full model; hint:/);
});

test('lion serve --model org/name encodes text queries with the fetched model', async () => {
  const index = path.join(work, 'index');
  await lionRun(['index', '--model', 'org/tiny', '--paradigm', 'dense', '--corpus', corpus, '--output', index]);
  const saved = { HF_ENDPOINT: process.env.HF_ENDPOINT, HF_HOME: process.env.HF_HOME };
  Object.assign(process.env, { HF_ENDPOINT: hub.url, HF_HOME: hfHome });
  const s = await serve(['--index', index, '--model', 'org/tiny', '--threads', '1']).finally(() => {
    for (const [k, v] of Object.entries(saved)) if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  });
  try {
    const res = await post<{ hits: { docId: string }[] }>(`${s.url}/v1/search`, { query: 'apple', k: 3 });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.hits.length, 3);
  } finally {
    assert.equal(await s.stop(), 0);
  }
});
