// npm `install` hook: builds the libtorch addon (native/) when Lion is installed as a package.
// In a dev checkout (src/ beside this folder) it does nothing: scripts/setup.sh builds the addon there,
// only when its sources changed, and `npm ci` must not rebuild the copy other processes are using.
// LION_SKIP_ADDON=1 skips the build (for BM25-only use, or a prebuilt addon named by LION_ADDON).
/* global __dirname */
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const root = path.resolve(__dirname, '..');
const addon = path.join(root, 'native/build/Release/lion_torch.node');
if (fs.existsSync(path.join(root, 'src/cli/main.ts'))) process.exit(0);
if (process.env.LION_SKIP_ADDON === '1' || fs.existsSync(addon)) process.exit(0);

// npm puts its own node-gyp on PATH for install scripts and names it in npm_config_node_gyp.
const gyp = process.env.npm_config_node_gyp;
const [cmd, args] = gyp ? [process.execPath, [gyp]] : ['node-gyp', []];
const jobs = String(Math.max(1, os.availableParallelism()));
console.error('lion: building the libtorch addon (native/, about a minute)');
const r = spawnSync(cmd, [...args, 'rebuild', '--directory', 'native', '-j', jobs], { cwd: root, stdio: 'inherit' });
if (r.status !== 0) {
  console.error(
    'lion install: the libtorch addon did not build; hint: install libtorch (Debian: apt-get install libtorch-dev) ' +
      'or set LIBTORCH to a libtorch folder, plus g++, make and python3; LION_SKIP_ADDON=1 installs without it',
  );
  process.exit(r.status ?? 1);
}
