/**
 * Server assembly: wires settings, provider, manager, connections and HTTP
 * together, and owns startup and graceful shutdown.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { CidrError, compileCidrs } from './auth/cidr.js';
import { clientIpResolver } from './auth/client-ip.js';
import { ConfigManager } from './config/manager.js';
import { createVaultSecrets } from './vault/read-secrets.js';
import type { ConfigProvider } from './config/provider.js';
import { createProvider } from './config/providers/index.js';
import { LiveConnections } from './connections/live.js';
import { findConnectionType } from './connections/registry.js';
import { createAdminApp } from './http/admin-app.js';
import { createDeliveriesApi } from './http/deliveries-api.js';
import { createHttpServer } from './http/server.js';
import { rootRoutes } from './http/root-routes.js';
import { docsRoutes } from './http/docs-routes.js';
import { RequestStats } from './observability/request-stats.js';
import { createWebhookHandler } from './http/webhook-handler.js';
import { Metrics } from './observability/metrics.js';
import { openFileLimit, SettingsError, type Settings } from './settings.js';
import { Spool } from './delivery/spool.js';

export interface Cwm {
  readonly manager: ConfigManager;
  readonly metrics: Metrics;
  /** Listens at once (so probes answer while the config source is still unreachable) and loads config in the background. */
  start(): Promise<AddressInfo>;
  /** Resolves when the initial configuration has been applied. */
  readonly loaded: Promise<void>;
  /**
   * Graceful shutdown: /ready turns 503, no new connections are accepted,
   * in-flight requests finish (at most SHUTDOWN_TIMEOUT_MS), then the config
   * source, compiled webhooks and connections (producers, Redis clients) close.
   */
  stop(): Promise<void>;
}

function trustedProxies(cidrs: readonly string[], variable: string): ReturnType<typeof compileCidrs> | null {
  if (cidrs.length === 0) return null;
  try {
    return compileCidrs(cidrs);
  } catch (err) {
    if (err instanceof CidrError) throw new SettingsError(`${variable}: ${err.message}`);
    throw err;
  }
}

export function createCwm(settings: Settings, logger: Logger, provider?: ConfigProvider): Cwm {
  for (const type of settings.defaultConnections.keys()) if (!findConnectionType(type)) throw new SettingsError(`DEFAULT_CONNECTIONS: ${JSON.stringify(type)} is not a connection type`);
  const clientIp = clientIpResolver(trustedProxies(settings.trustedProxies, settings.trustedProxiesVar));
  const metrics = new Metrics({ perWebhook: settings.metricsPerWebhook });
  const connections = new LiveConnections(logger.child({ component: 'connections' }), { timeoutMs: settings.outputTimeoutMs });
  const manager = new ConfigManager({
    logger,
    metrics,
    connections,
    maxBodyBytes: settings.maxBodyBytes,
    outputSettings: settings,
    envAllowlist: settings.configEnvAllowlist,
    vault: settings.vault ? createVaultSecrets(settings.vault) : undefined,
  });
  const source = provider ?? createProvider(settings, logger, metrics);
  let ready = false;
  let stopping: Promise<void> | undefined;
  // cwm_ready says what /ready says: not ready once shutdown began.
  metrics.trackSource(() => source.state() === 'healthy', () => ready && !stopping);
  const lookup = {
    lookup: (ns: string, id: string) => manager.lookup(ns, id),
    get ready() {
      return ready;
    },
  };
  const spool = new Spool({
    logger: logger.child({ component: 'spool' }),
    metrics,
    connections,
    lookup: (ns, id) => manager.lookup(ns, id),
    webhooks: () => manager.all(),
    defaultConnection: settings.spoolConnection,
    concurrency: settings.spoolConcurrency,
    webhookConcurrency: settings.spoolWebhookConcurrency,
    lockMs: settings.spoolLockMs,
    outputTimeoutMs: settings.outputTimeoutMs,
    maxJsonDepth: settings.maxJsonDepth,
  });
  const stats = settings.statsAuthToken !== undefined ? new RequestStats(settings.defaultNamespace) : undefined;
  const handler = createWebhookHandler({
    config: lookup,
    defaultNamespace: settings.defaultNamespace,
    outputTimeoutMs: settings.outputTimeoutMs,
    maxJsonDepth: settings.maxJsonDepth,
    clientIp,
    logger,
    metrics,
    accessLog: settings.accessLog,
    logSummaryIntervalMs: settings.logSummaryIntervalMs,
    spool,
    defaultWebhookFallback: settings.defaultWebhookFallback,
    stats,
  });
  const deliveriesApi = settings.deliveriesAdminToken ? createDeliveriesApi(settings.deliveriesAdminToken, (c) => spool.adminQueue(c)) : undefined;
  const admin = createAdminApp({ get ready() { return ready && !stopping; }, sourceName: source.name, sourceState: () => source.state() }, metrics, logger, {
    deliveries: deliveriesApi,
    root: rootRoutes(stats && settings.statsAuthToken !== undefined ? { token: settings.statsAuthToken, stats } : undefined),
    docs: settings.disableOpenApiDocs ? undefined : docsRoutes(manager, settings.defaultNamespace),
  });
  const http = createHttpServer(handler, admin, {
    draining: () => stopping !== undefined,
    maxConnections: settings.maxConnections,
    maxPipelinedRequests: settings.maxPipelinedRequests,
    maxQueuedResponseBytes: settings.maxQueuedResponseBytes,
    connectionsCheckIntervalMs: settings.connectionsCheckIntervalMs,
    headersTimeoutMs: settings.headersTimeoutMs,
    logSummaryIntervalMs: settings.logSummaryIntervalMs,
    logger,
    metrics,
  });
  const server: Server = http.server;
  // Probes only: the admin app on its own listener (PROBE_PORT), same routes and answers.
  const probeServer: Server | undefined = settings.probePort > 0 ? createServer({ requireHostHeader: false }, admin) : undefined;

  let resolveLoaded: () => void = () => undefined;
  const loaded = new Promise<void>((resolve) => (resolveLoaded = resolve));

  async function shutdown(): Promise<void> {
    // Requests in flight now are answered with `Connection: close`, like every one after them.
    http.beginDrain();
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    probeServer?.close();
    probeServer?.closeAllConnections();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), settings.shutdownTimeoutMs)));
    const outcome = await Promise.race([closed, deadline]);
    clearTimeout(timer);
    if (outcome === 'timeout') {
      logger.warn({ timeout_ms: settings.shutdownTimeoutMs }, 'in-flight requests still open at the shutdown deadline; closing their connections');
      server.closeAllConnections();
    }
    // Attempts in progress finish (worker.close()) while outputs and connections are still open.
    await spool.close();
    await source.stop();
    // Bound outputs first (they use the connections), then the clients themselves: flushes producers.
    await manager.closeAll();
    await connections.closeAll();
    // Pending summaries of repeated warnings go out before the process ends.
    http.close();
    handler.close();
  }

  return {
    manager,
    metrics,
    loaded,
    async start(): Promise<AddressInfo> {
      await listen(server, settings.port, settings.host, 'PORT, HOST');
      if (probeServer) await listen(probeServer, settings.probePort, settings.host, 'PROBE_PORT, HOST');
      const address = server.address() as AddressInfo;
      logger.info({ port: address.port, probe_port: settings.probePort || null, host: settings.host, backend: source.name, max_connections: settings.maxConnections, open_file_limit: openFileLimit() ?? null, vault: settings.vault ? { address: settings.vault.address, auth: settings.vault.token !== undefined ? 'token' : 'approle' } : null }, 'cwm listening');
      // Ready once entries that reference Vault have had their first read too, so they are served from the start.
      source.start(manager).then(() => manager.settled()).then(
        () => {
          ready = true;
          spool.start();
          resolveLoaded();
          logger.info({ webhooks: manager.size }, 'initial configuration loaded; ready');
        },
        (err: unknown) => {
          logger.fatal({ reason: (err as Error).message }, 'configuration source failed to start');
          process.exitCode = 1;
          void this.stop();
        },
      );
      return address;
    },
    stop(): Promise<void> {
      stopping ??= shutdown();
      return stopping;
    },
  };
}

/** Listens; a busy or forbidden port is a settings problem, so the error names the settings, not "unexpected failure". */
function listen(server: Server, port: number, host: string, names: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE' || err.code === 'EACCES' || err.code === 'EADDRNOTAVAIL') {
        reject(new SettingsError(`cannot listen on ${host}:${port} (${names}): ${err.code === 'EADDRINUSE' ? 'the address is already in use' : err.code === 'EACCES' ? 'permission denied' : 'address not available'}`));
      } else reject(err);
    });
    server.listen(port, host, () => resolve());
  });
}
