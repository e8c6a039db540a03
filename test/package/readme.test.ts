import { test } from 'node:test';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { tempDir } from '../data/helpers.ts';
import { checkExampleOutput, readmeExample } from './helpers.ts';

const root = path.resolve(import.meta.dirname, '../..');

test("the README's library example runs against the sources (from 'lion' = src/index.ts)", async () => {
  const file = path.join(tempDir(), 'example.mjs');
  const code = readmeExample().replaceAll("from 'lion'", `from '${pathToFileURL(path.join(root, 'src/index.ts')).href}'`);
  writeFileSync(file, code);
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', file], { cwd: root });
  checkExampleOutput(stdout);
});
