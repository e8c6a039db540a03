#!/usr/bin/env node
// The `lion` command. In an installed package it runs the compiled JavaScript in dist/; in a dev
// checkout (src/ beside bin/) it runs the TypeScript sources through tsx, so no build step can go
// stale there. `--version` is answered before any command module loads, so version checks stay instant.
/* global process, console, URL */
import { existsSync, readFileSync } from 'node:fs';

const root = new URL('../', import.meta.url);
const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
  console.log(JSON.parse(readFileSync(new URL('package.json', root), 'utf8')).version);
} else if (existsSync(new URL('src/cli/main.ts', root))) {
  const { register } = await import('tsx/esm/api');
  register();
  await import(new URL('src/cli/main.ts', root).href);
} else {
  await import(new URL('dist/cli/main.js', root).href);
}
