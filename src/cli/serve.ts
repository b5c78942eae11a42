/** `cwm serve`: run the receiver until SIGTERM/SIGINT, then shut down gracefully and exit 0. */
import { createCwm } from '../app.js';
import { createLogger } from '../observability/logger.js';
import { loadSettings } from '../settings.js';
import { EXIT, parseCommand, type Command } from './common.js';

export const serveCommand: Command = {
  name: 'serve',
  help: `usage: cwm serve

Runs the receiver. Configured by environment variables (PORT, HOST,
CONFIG_BACKEND, CONFIG_DIR or WEBHOOKS_CONFIG_FILE / CONNECTIONS_CONFIG_FILE,
ETCD_*, ...; see the README's table). A named config file that cannot be
read stops it before it listens (exit code 2).
SIGTERM or SIGINT: stop accepting connections, finish in-flight requests
(at most SHUTDOWN_TIMEOUT_MS), close outputs and connections, exit 0.`,
  async run(argv) {
    const parsed = parseCommand(this, argv, {}, { min: 0, max: 0 });
    if (!parsed) return EXIT.ok;
    const settings = loadSettings();
    const logger = createLogger(settings.logLevel);
    const cwm = createCwm(settings, logger);
    let stopping = false;
    const shutdown = (signal: string): void => {
      if (stopping) return;
      stopping = true;
      logger.info({ signal }, 'shutting down: no new connections, finishing in-flight requests');
      cwm.stop().then(
        () => {
          logger.info('stopped');
          logger.flush(() => process.exit(process.exitCode ?? 0));
        },
        (e: unknown) => {
          logger.error({ err: e }, 'shutdown failed');
          logger.flush(() => process.exit(1));
        },
      );
    };
    process.on('SIGTERM', () => shutdown('SIGTERM'));
    process.on('SIGINT', () => shutdown('SIGINT'));
    await cwm.start();
    return -1;
  },
};
