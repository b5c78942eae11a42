/**
 * CWM modules cwm refuses on purpose. They are registered so that a config
 * naming them is rejected with the reason (in `cwm validate` and in the log
 * when served), not as an "unknown module". Nothing here can deliver: an
 * output cwm cannot test against a real server of that protocol does not
 * ship (every output's 2xx must mean the destination acknowledged).
 */
import { Type } from '@sinclair/typebox';
import { ConfigError } from '../errors.js';
import { defineOutput, type OutputModule } from './types.js';

function unsupported(name: string, reason: string): OutputModule {
  return defineOutput({
    name,
    // Any module-config: the refusal below is the one answer, whatever it holds.
    schema: Type.Object({}, { additionalProperties: true }),
    bind() {
      throw new ConfigError('/module', `${name} is not supported by cwm: ${reason}`);
    },
  });
}

export const awsSqsOutput = unsupported('aws_sqs', 'no SQS server can run on the machines that test cwm (no Debian package, no protocol-faithful npm server), and an untested output would acknowledge what it cannot prove was delivered; use kafka, redis_queue or s3');
export const gcpPubsubOutput = unsupported('gcp_pubsub', 'no Pub/Sub server can run on the machines that test cwm (the Google emulator is not packaged for Debian and needs the Cloud SDK), and an untested output would acknowledge what it cannot prove was delivered; use kafka or redis_queue');
