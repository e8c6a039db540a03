// Every command has a docs/cli page whose Usage block is the command's current --help
// (regenerate with: node --import tsx scripts/cli-docs.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

process.env.LION_NO_MAIN = '1';
const { buildProgram } = await import('../../src/cli/main.ts');
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

for (const cmd of buildProgram().commands) {
  test(`docs/cli/${cmd.name()}.md shows the current 'lion ${cmd.name()} --help'`, () => {
    const file = path.join(root, 'docs/cli', `${cmd.name()}.md`);
    assert.ok(existsSync(file), `${file} is missing; hint: node --import tsx scripts/cli-docs.ts`);
    cmd.configureOutput({ getOutHelpWidth: () => 80 });
    assert.ok(readFileSync(file, 'utf8').includes('```text\n' + cmd.helpInformation() + '```'), `regenerate docs/cli/${cmd.name()}.md: node --import tsx scripts/cli-docs.ts`);
  });
}
