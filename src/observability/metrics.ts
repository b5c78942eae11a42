/**
 * Prometheus metrics on a registry of our own (no global state, so tests can
 * run several instances in one process). Labels are bounded: namespace and
 * status by default (unmatched routes share one "_unmatched" namespace), the
 * webhook id only when METRICS_PER_WEBHOOK is set.
 *
 * Request counts are plain numbers on a RequestSeries per label set, handed
 * to prom-client when /metrics is scraped: prom-client builds and looks up a
 * label-string key on every inc/observe, which with thousands of namespaces
 * showed up in profiles above pino's serialisation of the delivery line.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface MetricsOptions {
  /** Node process metrics (heap, event loop lag, ...); off in unit tests. */
  readonly defaultMetrics?: boolean;
  /** Adds a `webhook` label to the request metrics: one series per webhook, so only for small fleets. */
  readonly perWebhook?: boolean;
}

/** One label set's request counts by status, not yet handed to prom-client. */
export class RequestSeries {
  private readonly pending = new Map<number, number>();

  constructor(readonly namespace: string, readonly webhook: string | undefined) {}

  count(status: number): void {
    this.pending.set(status, (this.pending.get(status) ?? 0) + 1);
  }

  /** Adds the counts since the last drain to `counter`. */
  drainInto(counter: Counter<'namespace' | 'status' | 'webhook'>): void {
    for (const [status, n] of this.pending) {
      if (n === 0) continue;
      counter.inc(this.webhook === undefined ? { namespace: this.namespace, status } : { namespace: this.namespace, status, webhook: this.webhook }, n);
      this.pending.set(status, 0);
    }
  }
}

export class Metrics {
  readonly registry = new Registry();
  readonly perWebhook: boolean;
  readonly requests: Counter<'namespace' | 'status' | 'webhook'>;
  /** Without labels by default: 14 buckets per namespace would be most of the series a large fleet has. */
  readonly requestDuration: Histogram<'namespace' | 'webhook'>;
  /** namespace → webhook id (or "" without METRICS_PER_WEBHOOK) → series. */
  private readonly series = new Map<string, Map<string, RequestSeries>>();
  readonly inFlight = new Gauge({ name: 'cwm_requests_in_flight', help: 'Webhook requests being handled right now', registers: [this.registry] });
  readonly outputErrors = new Counter({ name: 'cwm_output_errors_total', help: 'Failed or timed-out output sends by module', labelNames: ['module'], registers: [this.registry] });
  readonly configRevision = new Gauge({ name: 'cwm_config_revision', help: 'Last applied config store revision (etcd mod_revision; file reload counter)', registers: [this.registry] });
  readonly entriesLoaded = new Gauge({ name: 'cwm_config_entries', help: 'Active config entries by kind', labelNames: ['kind'], registers: [this.registry] });
  readonly invalidEntries = new Counter({ name: 'cwm_config_invalid_total', help: 'Config values rejected (bad JSON, schema, compile)', labelNames: ['kind'], registers: [this.registry] });
  readonly servedFromHistory = new Gauge({ name: 'cwm_config_served_from_history', help: 'Entries whose current value is invalid, served from their newest valid earlier version in the store history', registers: [this.registry] });
  readonly compileFailures = new Counter({ name: 'cwm_config_internal_errors_total', help: 'Config entries that failed to compile because of an internal error (a bug, not a bad config)', labelNames: ['kind'], registers: [this.registry] });
  readonly configChanges = new Counter({ name: 'cwm_config_changes_total', help: 'Config entries applied by operation', labelNames: ['op'], registers: [this.registry] });
  private connectedProbe: () => boolean = () => false;
  private readyProbe: () => boolean = () => false;
  // Sampled at scrape time from the source itself, so these gauges cannot go stale.
  readonly sourceConnected: Gauge = new Gauge({ name: 'cwm_config_source_connected', help: '1 while the config source (etcd) is connected', registers: [this.registry], collect: (): void => this.sourceConnected.set(this.connectedProbe() ? 1 : 0) });
  readonly watchReconnects = new Counter({ name: 'cwm_etcd_watch_reconnects_total', help: 'etcd watch re-establishments', registers: [this.registry] });
  readonly connectionsOpen = new Gauge({ name: 'cwm_http_connections_open', help: 'HTTP connections open right now', registers: [this.registry] });
  readonly connectionsRefused = new Counter({ name: 'cwm_http_connections_refused_total', help: 'Connections closed at MAX_CONNECTIONS: evicted_idle (oldest connection without a request in progress, to make room) or at_capacity (every slot busy)', labelNames: ['reason'], registers: [this.registry] });
  readonly backpressure = new Counter({ name: 'cwm_http_backpressure_total', help: 'Backpressure on one socket: paused (reading stopped at MAX_PIPELINED_REQUESTS), refused (pipelined request answered 503 unprocessed), throttled (more than MAX_PIPELINED_REQUESTS in one turn of the event loop: reading waits for a later turn), destroyed (client left MAX_QUEUED_RESPONSE_BYTES unread)', labelNames: ['action'], registers: [this.registry] });
  readonly discardedBodyBytes = new Counter({ name: 'cwm_http_discarded_body_bytes_total', help: 'Body bytes read and dropped after an early rejection, before the socket closed', registers: [this.registry] });
  readonly ignoredKeys = new Counter({ name: 'cwm_config_ignored_keys', help: 'Keys under the config prefix that do not fit the layout and were ignored', registers: [this.registry] });
  readonly suppressedLogLines = new Counter({ name: 'cwm_log_lines_suppressed_total', help: 'Repeated warning lines folded into a periodic summary, by event', labelNames: ['event'], registers: [this.registry] });
  readonly ready: Gauge = new Gauge({ name: 'cwm_ready', help: '1 once the initial configuration is loaded', registers: [this.registry], collect: (): void => this.ready.set(this.readyProbe() ? 1 : 0) });

  constructor(options: MetricsOptions = {}) {
    this.perWebhook = options.perWebhook === true;
    const extra = this.perWebhook ? (['webhook'] as const) : [];
    const series = this.series;
    this.requests = new Counter({
      name: 'cwm_requests_total',
      help: 'Webhook requests by namespace and status',
      labelNames: ['namespace', 'status', ...extra],
      registers: [this.registry],
      collect(): void {
        for (const byWebhook of series.values()) for (const s of byWebhook.values()) s.drainInto(this);
      },
    });
    this.requestDuration = new Histogram({
      name: 'cwm_request_duration_seconds',
      help: 'Webhook request latency, first byte in to response written',
      labelNames: this.perWebhook ? ['namespace', 'webhook'] : [],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [this.registry],
    });
    if (options.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry, prefix: 'cwm_' });
  }

  /** The series a request to `namespace`/`webhook` is counted in; the webhook only matters with METRICS_PER_WEBHOOK. */
  seriesFor(namespace: string, webhook: string): RequestSeries {
    const id = this.perWebhook ? webhook : '';
    let byWebhook = this.series.get(namespace);
    if (!byWebhook) this.series.set(namespace, (byWebhook = new Map()));
    let s = byWebhook.get(id);
    if (!s) byWebhook.set(id, (s = new RequestSeries(namespace, this.perWebhook ? webhook : undefined)));
    return s;
  }

  /** One finished webhook request. */
  recordRequest(series: RequestSeries, status: number, seconds: number): void {
    series.count(status);
    if (series.webhook === undefined) this.requestDuration.observe(seconds);
    else this.requestDuration.observe({ namespace: series.namespace, webhook: series.webhook }, seconds);
  }

  trackSource(connected: () => boolean, ready: () => boolean): void {
    this.connectedProbe = connected;
    this.readyProbe = ready;
  }
}
