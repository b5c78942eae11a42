/**
 * The one place an etcd3 client is built from EtcdSettings (endpoints,
 * username/password, TLS, gRPC limits): the CLI and the etcd config provider
 * use the same construction, so settings that work for one work for both.
 *
 * Defaults suit the long-running provider: no etcd3 retries or circuit
 * breakers (the provider's own backoff with jitter is the only retry logic),
 * a deadline on every unary call, keepalive to notice dead peers. One-shot
 * callers (the CLI) pass their own deadline and fault handling.
 */
import { readFileSync } from 'node:fs';
import { rootCertificates } from 'node:tls';
import { ConstantBackoff, noop } from 'cockatiel';
import { Etcd3, type IOptions } from 'etcd3';
import type { EtcdSettings } from '../settings.js';

export class EtcdClientConfigError extends Error {}

/** A prefix read of 25 000 configs is ~6 MB and one watch response may carry a large transaction: far above gRPC's 4 MiB. */
const MAX_RECEIVE_BYTES = 64 * 1024 * 1024;
/** A dead peer is noticed within time + timeout (~10 s); etcd answers pings more often than every 5 s with GOAWAY (--grpc-keepalive-min-time), so stay above that. */
const KEEPALIVE_TIME_MS = 7_000;
const KEEPALIVE_TIMEOUT_MS = 3_000;
/** Default bound on each unary call, so a blackholed member cannot stall a reload. */
export const CALL_TIMEOUT_MS = 10_000;

export interface EtcdClientExtras {
  /** Deadline for each unary call (never for watch streams). */
  readonly callTimeoutMs?: number;
  /** Replaces the default (no retries, no breakers). */
  readonly faultHandling?: IOptions['faultHandling'];
}

function readPem(variable: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new EtcdClientConfigError(`${variable}=${path}: cannot read: ${(err as Error).message}`);
  }
}

function tlsCredentials({ caFile, certFile, keyFile }: EtcdSettings): IOptions['credentials'] {
  if (caFile === undefined && certFile === undefined && keyFile === undefined) return undefined;
  if ((certFile === undefined) !== (keyFile === undefined)) {
    throw new EtcdClientConfigError('ETCD_CERT_FILE and ETCD_KEY_FILE must be set together (client certificate and its key)');
  }
  return {
    // Without a CA file, the server certificate is checked against the system's trusted roots.
    rootCertificate: caFile !== undefined ? readPem('ETCD_CA_FILE', caFile) : Buffer.from(rootCertificates.join('\n')),
    ...(certFile !== undefined && keyFile !== undefined ? { certChain: readPem('ETCD_CERT_FILE', certFile), privateKey: readPem('ETCD_KEY_FILE', keyFile) } : {}),
  };
}

/** etcd3 options for these settings; throws EtcdClientConfigError for unreadable TLS files or half-set TLS pairs. */
export function etcdClientOptions(settings: EtcdSettings, extras: EtcdClientExtras = {}): IOptions {
  const timeout = extras.callTimeoutMs ?? CALL_TIMEOUT_MS;
  const options: IOptions = {
    hosts: settings.endpoints,
    grpcOptions: {
      'grpc.max_receive_message_length': MAX_RECEIVE_BYTES,
      'grpc.keepalive_time_ms': KEEPALIVE_TIME_MS,
      'grpc.keepalive_timeout_ms': KEEPALIVE_TIMEOUT_MS,
    },
    // A factory, so each call gets its own deadline; watch streams must live on.
    defaultCallOptions: (context) => (context.isStream ? {} : { deadline: Date.now() + timeout }),
    faultHandling: extras.faultHandling ?? {
      host: () => noop,
      global: noop,
      watchBackoff: new ConstantBackoff(settings.backoffInitialMs).next(),
    },
  };
  const credentials = tlsCredentials(settings);
  if (credentials) options.credentials = credentials;
  if (settings.username !== undefined) options.auth = { username: settings.username, password: settings.password ?? '' };
  return options;
}

export function createEtcdClient(settings: EtcdSettings, extras: EtcdClientExtras = {}): Etcd3 {
  return new Etcd3(etcdClientOptions(settings, extras));
}
