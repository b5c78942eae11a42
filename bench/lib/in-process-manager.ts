/** A ConfigManager as the receiver builds it, logging to /dev/null, for the in-process scenarios. */
import { pino } from 'pino';
import { ConfigManager } from '../../src/config/manager.js';
import { LiveConnections } from '../../src/connections/live.js';
import { Metrics } from '../../src/observability/metrics.js';

export function inProcessManager(): ConfigManager {
  const logger = pino({ level: 'info' }, pino.destination({ dest: '/dev/null', sync: true }));
  return new ConfigManager({ logger, metrics: new Metrics({ defaultMetrics: false }), connections: new LiveConnections(logger), maxBodyBytes: 1024 * 1024, envAllowlist: /^CWM_/ });
}
