/**
 * Starting a worker thread from a module that may be TypeScript source (run through tsx) or built
 * JavaScript.
 * @module
 */
import { Worker } from 'node:worker_threads';

/**
 * The worker module beside `from` (an `import.meta.url`): `name.ts` when running from sources,
 * `name.js` when built.
 */
export function siblingModule(from: string, name: string): URL {
  return new URL(`${name}.${from.endsWith('.ts') ? 'ts' : 'js'}`, from);
}

/** Starts a worker on `url` with `workerData`. */
export function spawnWorker(url: URL, workerData: unknown): Worker {
  if (url.pathname.endsWith('.ts')) {
    // Running from sources: the worker needs the TypeScript loader registered in its own thread. The
    // loader is resolved from Lion's own package (this module's URL), not from the current folder (an
    // eval'd worker resolves bare names from there), so Lion works from any directory. Built
    // JavaScript loads the .js worker and needs no loader.
    const tsx = import.meta.resolve('tsx/esm/api');
    const code = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(url.href)}); });`;
    return new Worker(code, { eval: true, workerData });
  }
  return new Worker(url, { workerData });
}
