/**
 * `s3`: one S3Client per connection config (CWM's fields: aws_access_key_id,
 * aws_secret_access_key, region; endpoint_url as CWM's docs and compose files
 * write it, for MinIO and other S3-compatible stores). One attempt per
 * request within OUTPUT_TIMEOUT_MS (the sender retries on 503); once the
 * store is known unreachable, puts fail at once until the next trial.
 */
import { Type, type Static } from '@sinclair/typebox';
import type * as S3Sdk from '@aws-sdk/client-s3';
import type { PutObjectCommandInput, S3Client } from '@aws-sdk/client-s3';
import type { Logger } from 'pino';
import { UnavailableError } from '../errors.js';
import { ServerHealth } from './health.js';
import { lazyModule } from './lazy-module.js';
import { defineConnectionType } from './types.js';

const sdk = lazyModule<typeof S3Sdk>('@aws-sdk/client-s3');

export const s3ConnectionSchema = Type.Object(
  {
    aws_access_key_id: Type.Optional(Type.String({ minLength: 1, description: 'with aws_secret_access_key; both unset: the default AWS credential chain' })),
    aws_secret_access_key: Type.Optional(Type.String({ minLength: 1 })),
    region: Type.String({ pattern: '^[a-z0-9-]+$', default: 'us-east-1' }),
    endpoint_url: Type.Optional(Type.Union([Type.String({ pattern: '^https?://' }), Type.Null()], { description: 'null (CWM) means the AWS endpoint' })),
    force_path_style: Type.Optional(Type.Boolean({ description: 'default: true when endpoint_url is set (MinIO, s3rver), else false' })),
  },
  // CWM: both keys or neither (then the default credential chain).
  { additionalProperties: false, dependencies: { aws_access_key_id: ['aws_secret_access_key'], aws_secret_access_key: ['aws_access_key_id'] } },
);

export type S3ConnectionConfig = Static<typeof s3ConnectionSchema>;

/** What outputs see: one put that resolves once S3 answered 2xx to PutObject. */
export interface S3Store {
  put(input: PutObjectCommandInput, signal: AbortSignal): Promise<void>;
  usable(): boolean;
  close(): void;
}

interface SdkError {
  readonly name?: string;
  readonly message?: string;
  readonly $metadata?: { readonly httpStatusCode?: number };
}

/** No HTTP answer at all (refused, reset, timed out) or a 5xx: the store, not the request, is the problem. */
function storeIsDown(err: SdkError): boolean {
  const status = err.$metadata?.httpStatusCode;
  return status === undefined || status >= 500;
}

class SdkS3Store implements S3Store {
  private readonly client: S3Client;
  private readonly health: ServerHealth;

  constructor(config: S3ConnectionConfig, timeoutMs: number, logger: Logger) {
    const { S3Client: Client } = sdk();
    const endpoint = config.endpoint_url ?? undefined;
    this.client = new Client({
      region: config.region,
      endpoint,
      forcePathStyle: config.force_path_style ?? endpoint !== undefined,
      credentials: config.aws_access_key_id && config.aws_secret_access_key ? { accessKeyId: config.aws_access_key_id, secretAccessKey: config.aws_secret_access_key } : undefined,
      maxAttempts: 1,
      // Streams with the SDK's default checksums go out aws-chunked, which some S3-compatible stores save verbatim.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      requestHandler: { connectionTimeout: timeoutMs, requestTimeout: timeoutMs },
    });
    this.health = new ServerHealth(logger, 's3');
  }

  usable(): boolean {
    return this.health.usable();
  }

  async put(input: PutObjectCommandInput, signal: AbortSignal): Promise<void> {
    try {
      await this.client.send(new (sdk().PutObjectCommand)(input), { abortSignal: signal });
      this.health.up();
    } catch (err) {
      const e = err as SdkError;
      const reason = `${e.name ?? 'Error'}: ${e.message ?? ''}`;
      if (storeIsDown(e)) {
        this.health.down(reason);
        throw new UnavailableError(`s3 unreachable (${reason})`, { cause: err });
      }
      // A 4xx (NoSuchBucket, AccessDenied): the store is up, this put was refused.
      throw new UnavailableError(`s3 refused PutObject (${reason})`, { cause: err });
    }
  }

  close(): void {
    this.client.destroy();
  }
}

export const s3Connection = defineConnectionType({
  type: 's3',
  schema: s3ConnectionSchema,
  create(config, ctx) {
    const store = new SdkS3Store(config, ctx.timeoutMs, ctx.logger);
    return { client: store as S3Store, ready: () => Promise.resolve(store.usable()), close: async () => store.close() };
  },
});
