/** A real etcd and cwm processes on its etcd backend, for the config scenarios. */
import { Etcd3 } from 'etcd3';
import { startEtcd, type EtcdCluster } from '../../test/helpers/etcd.js';
import { startCwmServer, type ServerProcess } from './processes.js';
import type { BenchContext } from './scenario.js';

export interface EtcdBench {
  readonly etcd: EtcdCluster;
  readonly client: Etcd3;
  startCwm(name: string, readyTimeoutMs?: number): Promise<ServerProcess>;
  close(): Promise<void>;
}

export async function withEtcd<T>(ctx: BenchContext, body: (bench: EtcdBench) => Promise<T>): Promise<T> {
  const etcd = await startEtcd(1);
  const client = new Etcd3({ hosts: etcd.endpoints });
  const started: ServerProcess[] = [];
  const bench: EtcdBench = {
    etcd,
    client,
    async startCwm(name, readyTimeoutMs) {
      const cwm = await startCwmServer(ctx, name, { CONFIG_BACKEND: 'etcd', ETCD_ENDPOINTS: etcd.endpoints.join(',') }, readyTimeoutMs);
      started.push(cwm);
      return cwm;
    },
    async close() {
      await Promise.all(started.map((s) => s.stop()));
      client.close();
      await etcd.destroy();
    },
  };
  try {
    return await body(bench);
  } finally {
    await bench.close();
  }
}
