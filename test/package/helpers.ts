/**
 * The README's library example, for the tests that run it (against the sources, and from the packed
 * and installed package).
 * @module
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '../..');

/** The ```js block of the README's "Use as a library" section. */
export function readmeExample(): string {
  const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Use as a library'));
  const m = /```js\n([\s\S]*?)```/.exec(section);
  assert.ok(m, 'the README has a js example under "Use as a library"');
  return m[1]!;
}

/** Checks what the example prints: both passages ranked, a metric, and BM25 ranking the relevant passage first. */
export function checkExampleOutput(stdout: string): void {
  const lion = stdout.slice(stdout.indexOf('lion ['), stdout.indexOf('lion {'));
  assert.match(lion, /docId: 'd1'/, `Lion's run ranks both passages:\n${stdout}`);
  assert.match(lion, /docId: 'd2'/, `Lion's run ranks both passages:\n${stdout}`);
  assert.match(stdout, /lion \{[^}]*'nDCG@10': \d/);
  const bm25 = stdout.slice(stdout.indexOf('bm25 ['));
  assert.match(bm25, /^bm25 \[\s*\{ docId: 'd1', score: \d/, 'BM25 puts the passage about Paris first');
}
