/**
 * Starting and stopping a search service: engine (indexes, model thread, search pool) + HTTP app,
 * listening on one address; `close()` drains in-flight requests before releasing the threads.
 * @module
 */
import type { FastifyInstance } from 'fastify';
import { corpusTextsFrom } from '../model/texts.ts';
import { Engine, type EngineOptions } from './engine.ts';
import { buildApp, type AppOptions } from './app.ts';
import { ServeMetrics } from './metrics.ts';

export interface ServeOptions extends Omit<EngineOptions, 'metrics' | 'texts'>, AppOptions {
  /** A dataset id or a JSONL corpus file whose texts hits carry. */
  corpus?: string;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 8080; 0 picks a free port. */
  port?: number;
}

export interface Server {
  /** `http://host:port` as bound. */
  url: string;
  app: FastifyInstance;
  engine: Engine;
  /** Stops accepting, answers in-flight requests, then stops the threads. */
  close(): Promise<void>;
}

export async function startServer(o: ServeOptions): Promise<Server> {
  const metrics = new ServeMetrics();
  const texts = o.corpus ? await corpusTextsFrom(o.corpus) : undefined;
  const engine = await Engine.start({ ...o, texts, metrics });
  const app = buildApp(engine, metrics, o);
  try {
    await app.listen({ host: o.host ?? '127.0.0.1', port: o.port ?? 8080 });
  } catch (e) {
    await engine.close();
    throw new Error(`lion serve: cannot listen on ${o.host ?? '127.0.0.1'}:${o.port ?? 8080} (${(e as Error).message}); hint: pick another --port`, { cause: e });
  }
  const addr = app.server.address();
  const url = typeof addr === 'object' && addr ? `http://${addr.family === 'IPv6' ? `[${addr.address}]` : addr.address}:${addr.port}` : String(addr);
  let closing: Promise<void> | null = null;
  return {
    url,
    app,
    engine,
    close: () =>
      (closing ??= (async () => {
        await app.close();
        await engine.close();
      })()),
  };
}
