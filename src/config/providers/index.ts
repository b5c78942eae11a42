/** Chooses the provider named by CONFIG_BACKEND; the core never learns which one it got. */
import type { Logger } from 'pino';
import type { Metrics } from '../../observability/metrics.js';
import type { Settings } from '../../settings.js';
import type { ConfigProvider } from '../provider.js';
import { EtcdConfigProvider } from './etcd.js';
import { assertConfigFilesReadable, FileConfigProvider } from './file.js';

export function createProvider(settings: Settings, logger: Logger, metrics: Metrics): ConfigProvider {
  if (settings.configBackend === 'etcd') return new EtcdConfigProvider({ settings: settings.etcd, logger: logger.child({ provider: 'etcd' }), metrics });
  // Refuses to start (naming the setting) before the port is opened.
  assertConfigFilesReadable(settings.configFiles);
  return new FileConfigProvider({ files: settings.configFiles, namespace: settings.defaultNamespace, logger: logger.child({ provider: 'file' }) });
}
