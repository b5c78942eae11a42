/** TypeScript views of the published JSON Schemas (schema/*.json); values are validated before they are used as these. */

export interface OutputEntry {
  module: string;
  'module-config'?: Record<string, unknown>;
  connection?: string;
  topic?: string;
}

export type SignatureScheme = 'github' | 'stripe' | 'standard-webhooks' | 'shopify' | 'slack';

export interface WebhookConfig extends Partial<OutputEntry> {
  data_type?: 'json' | 'blob';
  chain?: OutputEntry[];
  'chain-config'?: { execution?: 'sequential' | 'parallel' };
  authorization?: string;
  basic_auth?: { username: string; password: string };
  header_auth?: { header_name?: string; api_key: string };
  query_auth?: { parameter_name?: string; api_key: string };
  ip_whitelist?: string[];
  hmac?: { secret: string | string[]; header?: string; algorithm?: 'sha1' | 'sha256' | 'sha512'; encoding?: 'hex' | 'base64'; prefix?: string };
  signature?: { scheme: SignatureScheme; secret: string | string[]; tolerance_seconds?: number };
  json_schema?: Record<string, unknown>;
  rate_limit?: { max_requests: number; window_seconds: number; connection?: string };
  max_body_bytes?: number;
  dedupe?: { header?: string; ttl_seconds?: number; connection: string };
}

export interface KafkaConnectionConfig {
  type: 'kafka';
  bootstrap_servers: string;
  client_id?: string;
  ssl?: boolean | Record<string, unknown>;
  sasl?: { mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512'; username: string; password: string };
}

export interface RedisConnectionConfig {
  type: 'redis' | 'redis-rq';
  url?: string;
  host?: string;
  port?: number;
  db?: number;
  username?: string;
  password?: string;
  tls?: boolean | Record<string, unknown>;
}

export type ConnectionConfig = KafkaConnectionConfig | RedisConnectionConfig;
