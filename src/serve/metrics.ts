/**
 * The server's Prometheus metrics (prom-client, on a registry of its own so two servers in one
 * process, as in tests, do not share counts).
 * @module
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export class ServeMetrics {
  readonly registry = new Registry();
  readonly requests = new Counter({
    name: 'lion_http_requests_total',
    help: 'HTTP requests answered, by route, method and status code',
    labelNames: ['route', 'method', 'status'] as const,
    registers: [this.registry],
  });
  readonly errors = new Counter({
    name: 'lion_http_errors_total',
    help: 'HTTP requests answered with a 4xx or 5xx status, by route and status code',
    labelNames: ['route', 'status'] as const,
    registers: [this.registry],
  });
  readonly latency = new Histogram({
    name: 'lion_http_request_duration_seconds',
    help: 'Time from request to response, by route',
    labelNames: ['route'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly queueDepth = new Gauge({
    name: 'lion_queue_depth',
    help: 'Items waiting for a batch, by queue (encode:<paradigm>:<kind>, search:sparse, search:dense)',
    labelNames: ['queue'] as const,
    registers: [this.registry],
  });
  readonly batchSize = new Histogram({
    name: 'lion_batch_size',
    help: 'Items per batch sent to the model thread or the search pool, by queue',
    labelNames: ['queue'] as const,
    buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256],
    registers: [this.registry],
  });
  readonly inFlight = new Gauge({
    name: 'lion_http_in_flight_requests',
    help: 'Requests received and not yet answered',
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'lion_' });
  }

  /** Hooks for a Batcher feeding queue `name`. */
  queue(name: string): { onBatch: (n: number) => void; onQueue: (d: number) => void } {
    this.queueDepth.set({ queue: name }, 0);
    return {
      onBatch: (n) => this.batchSize.observe({ queue: name }, n),
      onQueue: (d) => this.queueDepth.set({ queue: name }, d),
    };
  }

  observe(route: string, method: string, status: number, seconds: number): void {
    this.requests.inc({ route, method, status: String(status) });
    if (status >= 400) this.errors.inc({ route, status: String(status) });
    this.latency.observe({ route }, seconds);
  }
}
