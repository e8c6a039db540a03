/**
 * The HTTP face of an Engine: Fastify routes, one JSON error shape (`{"error": "field: problem"}`)
 * for every failure, and per-request metrics.
 *
 * Fastify rather than Hono: it runs on Node's own http server (no adapter), and brings what a service
 * needs here without hand-written code: body-size limits answered with 413, JSON parsing with a 400
 * on malformed bodies, `inject()` for tests, and a `close()` that stops accepting connections, answers
 * late arrivals with 503 and waits for in-flight requests (the SIGTERM drain).
 * @module
 */
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import type { Engine } from './engine.ts';
import { HttpError, parseEncode, parseExplain, parseSearch } from './schemas.ts';
import { QueueFullError } from './batcher.ts';
import type { ServeMetrics } from './metrics.ts';
import { pageHtml } from './page.ts';

export interface AppOptions {
  /** Largest request body in bytes (default 1 MiB); larger ones get 413. */
  bodyLimit?: number;
  /** Log requests (pino, JSON lines on stdout); default off. */
  logger?: boolean;
}

/** Status and message for any error a handler or Fastify itself raised. */
function errorReply(e: FastifyError | Error): { status: number; error: string } {
  if (e instanceof HttpError) return { status: e.status, error: e.message };
  if (e instanceof QueueFullError) return { status: 503, error: e.message };
  const f = e as FastifyError;
  if (f.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return { status: 413, error: `body: larger than this server's limit; hint: send fewer texts or a shorter query` };
  if (f.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return { status: 415, error: `body: send JSON with 'content-type: application/json'` };
  if (f.code === 'FST_ERR_CTP_EMPTY_JSON_BODY') return { status: 400, error: 'body: empty; expected a JSON object' };
  if (f.statusCode === 400 && (f instanceof SyntaxError || /JSON/.test(f.message))) return { status: 400, error: `body: malformed JSON (${f.message})` };
  if (f.statusCode !== undefined && f.statusCode >= 400 && f.statusCode < 500) return { status: f.statusCode, error: f.message };
  return { status: 500, error: `internal error: ${e.message}` };
}

export function buildApp(engine: Engine, metrics: ServeMetrics, o: AppOptions = {}): FastifyInstance {
  const app = Fastify({
    bodyLimit: o.bodyLimit ?? 1 << 20,
    logger: o.logger ?? false,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
  });

  app.addHook('onRequest', async () => {
    metrics.inFlight.inc();
  });
  app.addHook('onResponse', async (req, reply) => {
    metrics.inFlight.dec();
    metrics.observe(req.routeOptions.url ?? 'unmatched', req.method, reply.statusCode, reply.elapsedTime / 1000);
  });
  app.setErrorHandler((e: FastifyError, req, reply) => {
    const r = errorReply(e);
    if (r.status >= 500 && r.status !== 503) req.log.error(e);
    void reply.code(r.status).send({ error: r.error });
  });
  app.setNotFoundHandler((req, reply) => {
    void reply.code(404).send({ error: `no route ${req.method} ${req.url}; hint: POST /v1/search, /v1/explain, /v1/encode; GET /healthz, /metrics, /` });
  });

  app.get('/', async (_req, reply) => reply.type('text/html; charset=utf-8').send(pageHtml(engine.health())));
  app.get('/healthz', async () => engine.health());
  app.get('/metrics', async (_req, reply) => reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()));
  app.post('/v1/search', async (req) => engine.search(parseSearch(req.body, engine.limits)));
  app.post('/v1/explain', async (req) => engine.explain(parseExplain(req.body)));
  app.post('/v1/encode', async (req) => engine.encode(parseEncode(req.body, engine.limits)));
  return app;
}
