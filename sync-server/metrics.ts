import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/** Bounds (s) of tape_market_publish_delay_seconds: sub-millisecond up, as a trade's latency budget is. */
export const PUBLISH_DELAY_BUCKETS = [0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];

/** One Prometheus registry per server instance, so tests can run several servers in one process. */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'tape_' });
  const httpRequests = new Counter({
    name: 'tape_http_requests_total',
    help: 'HTTP requests by route and status',
    labelNames: ['route', 'status'] as const,
    registers: [registry],
  });
  const wsConnections = new Gauge({
    name: 'tape_ws_connections',
    help: 'Open WebSocket connections',
    registers: [registry],
  });
  const marketEvents = new Counter({
    name: 'tape_market_events_total',
    help: 'Market events by outcome (accepted, dead_lettered)',
    labelNames: ['kind', 'outcome'] as const,
    registers: [registry],
  });
  const connectorState = new Gauge({
    name: 'tape_connector_state',
    help: 'Last ProfitDLL state result per connection type (login, routing, market_data, activation)',
    labelNames: ['type'] as const,
    registers: [registry],
  });
  const authFailures = new Counter({
    name: 'tape_auth_failures_total',
    help: 'Rejected authentications by reason',
    labelNames: ['reason'] as const,
    registers: [registry],
  });
  const migrationSeconds = new Histogram({
    name: 'tape_migration_seconds',
    help: 'Time spent applying migrations at start',
    registers: [registry],
  });
  const wsBackpressure = new Gauge({
    name: 'tape_ws_market_sockets',
    help: 'Market sockets by backpressure state (live, conflated)',
    labelNames: ['state'] as const,
    registers: [registry],
  });
  const slowConsumerClosed = new Counter({
    name: 'tape_ws_slow_consumer_closed_total',
    help: 'Market sockets closed for exceeding the hard backpressure watermark',
    registers: [registry],
  });
  const deadLetters = new Counter({
    name: 'tape_dead_letters_total',
    help: 'Events sent to the dead-letter queue by source and reason',
    labelNames: ['source', 'reason'] as const,
    registers: [registry],
  });
  const publishDelay = new Histogram({
    name: 'tape_market_publish_delay_seconds',
    help: "From the capture shim's stamp on the DLL's thread to the trades' publish, per ticker per drain (its oldest trade)",
    buckets: PUBLISH_DELAY_BUCKETS,
    registers: [registry],
  });
  const tickWrites = new Counter({
    name: 'tape_ticks_written_total',
    help: 'Trades written to the database',
    registers: [registry],
  });
  const alertFirings = new Counter({
    name: 'tape_alert_firings_total',
    help: "Users' alerts fired, by how they were told (sent, quiet, rate)",
    labelNames: ['notified'] as const,
    registers: [registry],
  });
  const pushes = new Counter({
    name: 'tape_push_total',
    help: 'Web Push requests by outcome (sent, gone: the subscription dropped, failed)',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  return {
    registry,
    alertFirings,
    pushes,
    wsBackpressure,
    slowConsumerClosed,
    deadLetters,
    tickWrites,
    publishDelay,
    httpRequests,
    wsConnections,
    marketEvents,
    connectorState,
    authFailures,
    migrationSeconds,
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
