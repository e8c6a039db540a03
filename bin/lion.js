#!/usr/bin/env node
// The `lion` command runs the TypeScript sources through tsx, so no separate build step can go stale.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
