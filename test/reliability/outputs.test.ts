// The reliability matrix, part 1: --output never destroys what Lion did not write, the index manifest
// is checksummed, temporary outputs do not outlive a kill, and Lion runs from any folder.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expectCase, lion, lionAsync, scratch, snapshot, sparseLines, write, assertUnchanged } from './helpers.ts';

const base = scratch();
write(base, 'docs.jsonl', sparseLines('d', 300, 30, 1));
write(base, 'q.jsonl', sparseLines('q', 1000, 10, 2));
const built = lion(['index', '--vectors', 'docs.jsonl', '--paradigm', 'sparse', '--output', 'idx'], base);
assert.equal(built.code, 0, built.stderr);

/** A scratch folder holding the shared inputs and a built index (copies, so cases cannot interfere). */
function withIndex(): string {
  const d = scratch();
  for (const f of ['docs.jsonl', 'q.jsonl']) writeFileSync(join(d, f), readFileSync(join(base, f)));
  mkdirSync(join(d, 'idx'));
  for (const f of readdirSync(join(base, 'idx'))) writeFileSync(join(d, 'idx', f), readFileSync(join(base, 'idx', f)));
  return d;
}

const index = (out: string, ...more: string[]): string[] => ['index', '--vectors', 'docs.jsonl', '--paradigm', 'sparse', '--output', out, ...more];

test('index --output: an existing folder that is not an index is refused, its files and subfolders intact', () => {
  const d = withIndex();
  mkdirSync(join(d, 'mine/sub'), { recursive: true });
  write(d, 'mine/notes.txt', 'keep me');
  write(d, 'mine/sub/data.bin', 'and me');
  expectCase(d, index('mine'), { code: 1, message: /lion index: --output 'mine' is a folder that is not empty and does not hold a Lion index; hint:/ });
  // --overwrite does not change that: it replaces only a Lion index
  expectCase(d, index('mine', '--overwrite'), { code: 1, message: /does not hold a Lion index/ });
});

test('index --output . and a folder above an input are refused; the inputs are untouched', () => {
  const d = withIndex();
  expectCase(d, index('.'), { code: 1, message: /lion index: --output '\.' is the current folder or a folder above it; hint:/ });
  expectCase(d, index('.', '--overwrite'), { code: 1, message: /current folder/ });
  mkdirSync(join(d, 'in'));
  write(d, 'in/docs.jsonl', readFileSync(join(d, 'docs.jsonl'), 'utf8'));
  expectCase(d, ['index', '--vectors', 'in/docs.jsonl', '--paradigm', 'sparse', '--output', 'in'], { code: 1, message: /would replace the input 'in\/docs\.jsonl'/ });
});

test('index --output naming an existing file is refused (not replaced by a folder)', () => {
  const d = withIndex();
  write(d, 'out.txt', 'a file');
  expectCase(d, index('out.txt'), { code: 1, message: /'out\.txt' is an existing file, not a folder; hint:/ });
});

test('index over an existing index needs --overwrite, which replaces only that index', () => {
  const d = withIndex();
  expectCase(d, index('idx'), { code: 1, message: /already holds a Lion index; hint: pass --overwrite/ });
  expectCase(d, index('idx', '--overwrite', '--bits', '16'), { code: 0, allowed: ['idx'] });
  assert.equal(JSON.parse(readFileSync(join(d, 'idx/manifest.json'), 'utf8')).sparse.bits, 16);
  // an empty folder is fine (nothing to lose)
  mkdirSync(join(d, 'empty'));
  expectCase(d, index('empty'), { code: 0, allowed: ['empty'] });
});

/** Edits idx/manifest.json in `d` with `edit` (on its text). */
function editManifest(d: string, edit: (s: string) => string): void {
  const p = join(d, 'idx/manifest.json');
  const before = readFileSync(p, 'utf8');
  const after = edit(before);
  assert.notEqual(after, before, 'the edit changed the manifest');
  writeFileSync(p, after);
}

const search = (...more: string[]): string[] => ['search', '--index', 'idx', '--query-vectors', 'q.jsonl', '--k', '10', '--output', 'run.trec', ...more];

for (const [name, edit] of [
  ['a one-bit flip in docBlock', (s: string) => s.replace('"docBlock": 32', `"docBlock": ${32 ^ 2}`)],
  ['docBlock 32 -> 64', (s: string) => s.replace('"docBlock": 32', '"docBlock": 64')],
  ['an edited scale', (s: string) => s.replace(/"scale": ([0-9.e-]+)/, (_, x: string) => `"scale": ${Number(x) * 2}`)],
  ['a removed checksum', (s: string) => s.replace(/,\s*"checksum": "[0-9a-f]+"/, '')],
] as const) {
  test(`index manifest with ${name}: search and export refuse it, naming the manifest`, () => {
    const d = withIndex();
    editManifest(d, edit);
    const msg = /lion search: index manifest '.*idx\/manifest\.json' (fails its checksum|has no checksum).*; hint: rebuild the index/;
    expectCase(d, search(), { code: 1, message: msg });
    expectCase(d, ['export', '--index', 'idx', '--format', 'qdrant', '--output', 'bulk.jsonl'], { code: 1, message: /lion export: index manifest .* (fails its checksum|has no checksum)/ });
  });
}

test('a manifest cut short is a clear error naming it', () => {
  const d = withIndex();
  editManifest(d, (s) => s.slice(0, 100));
  expectCase(d, search(), { code: 1, message: /lion search: index manifest '.*manifest\.json' is not valid JSON/ });
});

test('from a folder outside the checkout, search with 2 worker threads over 1,000 queries works and equals one thread', () => {
  const d = withIndex();
  expectCase(d, search('--threads', '2', '--output', 'two.trec'), { code: 0, allowed: ['two.trec'] });
  expectCase(d, search('--threads', '1', '--output', 'one.trec'), { code: 0, allowed: ['one.trec'] });
  const two = readFileSync(join(d, 'two.trec'), 'utf8');
  assert.ok(two.trim().split('\n').length > 9_000);
  assert.equal(two, readFileSync(join(d, 'one.trec'), 'utf8'));
});

test('--output - writes the run to standard output and no file', () => {
  const d = withIndex();
  const r = expectCase(d, search('--output', '-', '--threads', '2'), { code: 0 });
  assert.equal(r.stdout, lion(search('--output', '-', '--threads', '1'), d).stdout);
  assert.match(r.stdout, /^q0 Q0 d\d+ 1 [0-9.]+ lion\n/);
  assert.ok(r.stdout.trim().split('\n').length > 9_000);
});

async function waitFor(cond: () => boolean, ms = 30_000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
}

const temps = (d: string): string[] => readdirSync(d).filter((n) => /\.tmp-|\.old-/.test(n));

for (const signal of ['SIGKILL', 'SIGINT', 'SIGTERM'] as const) {
  test(`index killed with ${signal} mid-build: the old index stays, no temporary folder survives ${signal === 'SIGKILL' ? 'the next run' : 'the signal'}`, async () => {
    const d = withIndex();
    write(d, 'big.jsonl', sparseLines('b', 40_000, 40, 3));
    const before = snapshot(d);
    const child = lionAsync(['index', '--vectors', 'big.jsonl', '--paradigm', 'sparse', '--output', 'idx', '--overwrite', '--buffer-postings', '20000'], d);
    await waitFor(() => temps(d).length > 0);
    child.kill(signal);
    const [code, sig] = await new Promise<[number | null, string | null]>((r) => child.on('exit', (c, s) => r([c, s])));
    assert.equal(sig, signal, `died of ${signal} (exit ${code})`);
    if (signal === 'SIGKILL') {
      assert.equal(temps(d).length, 1, 'kill -9 leaves the temporary folder');
      // the next run sweeps it (its writer is dead), and builds normally
      expectCase(d, index('idx2'), { code: 0, allowed: ['idx2', ...temps(d)] });
    }
    assert.deepEqual(temps(d), []);
    assertUnchanged(d, before, ['idx2']);
    assert.equal(lion(search('--output', '-'), d).code, 0, 'the old index still searches');
  });
}

test('search of a dense index as sparse, and of a folder without an index, name the index', () => {
  const d = withIndex();
  expectCase(d, ['search', '--index', 'docs.jsonl', '--query-vectors', 'q.jsonl', '--output', 'r'], { code: 1, message: /lion search: no index at 'docs\.jsonl' \(missing manifest\.json\); hint:/ });
  assert.ok(!existsSync(join(d, 'r')));
});
