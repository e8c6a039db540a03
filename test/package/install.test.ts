/**
 * The package as a user gets it: `npm pack`, then `npm install ./lion-<version>.tgz` into an empty
 * project, which builds the libtorch addon on install. The installed `lion` binary and
 * `import … from 'lion'` must work with plain node (tsx is a dev dependency, so it is not there).
 * Takes a few minutes (TypeScript build, dependency install from npm's cache, addon build).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { tempDir } from '../data/helpers.ts';
import { checkExampleOutput, readmeExample } from './helpers.ts';

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, '../..');
const { version } = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string };

test('npm pack → npm install into an empty project: lion --version, lion doctor and the README example run without tsx', { timeout: 30 * 60_000 }, async () => {
  const packs = tempDir('lion-pack-');
  await run('npm', ['pack', '--pack-destination', packs, '--silent'], { cwd: root, maxBuffer: 1 << 26 });
  const tarball = readdirSync(packs).find((f) => f.endsWith('.tgz'));
  assert.equal(tarball, `lion-${version}.tgz`);

  const app = tempDir('lion-app-');
  writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', private: true, type: 'module', allowScripts: { lion: true } }));
  await run('npm', ['install', path.join(packs, tarball), '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'], { cwd: app, maxBuffer: 1 << 26 });
  const pkg = path.join(app, 'node_modules/lion');
  assert.ok(existsSync(path.join(pkg, 'native/build/Release/lion_torch.node')), 'the addon was built on install');
  assert.ok(existsSync(path.join(pkg, 'LICENSE')));
  assert.ok(!existsSync(path.join(pkg, 'src')) && !existsSync(path.join(pkg, 'test')), 'sources and tests stay out of the package');
  assert.ok(!existsSync(path.join(app, 'node_modules/tsx')), 'no TypeScript loader is installed');

  const lion = path.join(app, 'node_modules/.bin/lion');
  assert.equal((await run(lion, ['--version'], { cwd: app })).stdout.trim(), version);
  assert.match((await run(lion, ['search', '--help'], { cwd: app })).stdout, /Usage: lion search/, 'the compiled command tree loads');
  const doctor = (await run(lion, ['doctor', '--json'], { cwd: app })).stdout;
  assert.equal((JSON.parse(doctor) as { addon: string }).addon, path.join(pkg, 'native/build/Release/lion_torch.node'));

  writeFileSync(path.join(app, 'example.mjs'), readmeExample());
  checkExampleOutput((await run(process.execPath, ['example.mjs'], { cwd: app })).stdout);
  const probe = "import { loadModel, Encoder, Bm25Index } from 'lion'; console.log(typeof loadModel, typeof Encoder, typeof Bm25Index);";
  assert.equal((await run(process.execPath, ['--input-type=module', '-e', probe], { cwd: app })).stdout.trim(), 'function function function');
  const types = readFileSync(path.join(pkg, 'dist/index.d.ts'), 'utf8');
  assert.match(types, /loadModel/);
  assert.match(types, /Encoder/);
});
