/**
 * `zeromq`: the socket binds `endpoint` (as in CWM) and sends one frame per
 * delivery: the JSON payload serialized (blob webhooks: the bytes as
 * received). What a 2xx means depends on the socket type, because ZeroMQ
 * has no delivery acknowledgement from the peer except REQ's reply:
 * - PUSH, DEALER: the socket queued the message for a connected peer; with
 *   no peer connected (or its queue full) the send fails at once → 503.
 *   A message queued for a peer that then disconnects is lost.
 * - PUB: the socket accepted it; with no subscriber it is dropped.
 * - REQ: the peer's reply arrived (one request at a time).
 * The socket is bound on the first delivery, not at config time, so
 * `cwm validate` binds nothing; one socket per bound webhook, closed with it.
 */
import { Type } from '@sinclair/typebox';
import type * as Zmq from 'zeromq';
import type { Socket } from 'zeromq';
import { lazyModule } from '../connections/lazy-module.js';
import type { Delivery } from '../delivery/types.js';
import { UnavailableError } from '../errors.js';
import { stringEnum } from '../schema-kit.js';
import { defineOutput } from './types.js';

const zmq = lazyModule<typeof Zmq>('zeromq');

type SocketType = 'PUB' | 'PUSH' | 'REQ' | 'DEALER';

/** A REQ whose reply never comes is abandoned after this; later requests wait for it (relaxed REQ could not reuse the socket otherwise). */
const REPLY_TIMEOUT_MS = 30_000;

function makeSocket(type: SocketType): Socket & { send(msg: Buffer): Promise<void> } {
  const z = zmq();
  // sendTimeout 0: no peer (or a full queue) fails now instead of holding the request.
  const common = { sendTimeout: 0, linger: 0 };
  switch (type) {
    case 'PUB':
      return new z.Publisher(common);
    case 'PUSH':
      return new z.Push(common);
    case 'DEALER':
      return new z.Dealer(common);
    case 'REQ':
      return new z.Request({ ...common, receiveTimeout: REPLY_TIMEOUT_MS, relaxed: true, correlate: true });
  }
}

function abortable<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(new UnavailableError('zeromq peer did not reply within OUTPUT_TIMEOUT_MS'));
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

export const zeromqOutput = defineOutput({
  name: 'zeromq',
  schema: Type.Object(
    {
      endpoint: Type.String({ pattern: '^(tcp://[^\\s/]+:[0-9]{1,5}|ipc://\\S+)$', description: 'tcp://host:port or ipc://path; the socket binds it' }),
      socket_type: stringEnum(['PUB', 'PUSH', 'REQ', 'DEALER'] as const, { default: 'PUB' }),
    },
    { additionalProperties: false },
  ),
  bind(cfg, _spec, ctx) {
    const log = ctx.logger.child({ output: 'zeromq', endpoint: cfg.endpoint, socket_type: cfg.socket_type });
    let socket: ReturnType<typeof makeSocket> | undefined;
    let bound: Promise<void> | undefined;
    let closed = false;
    /** REQ: one request at a time. */
    let tail: Promise<unknown> = Promise.resolve();

    const ensureBound = (): Promise<void> => {
      if (!bound) {
        const s = (socket ??= makeSocket(cfg.socket_type));
        bound = s.bind(cfg.endpoint).then(
          () => log.info('zeromq socket bound'),
          (err: unknown) => {
            // Retried on the next delivery (e.g. the previous config's socket still held the port).
            bound = undefined;
            log.warn({ reason: (err as Error).message }, 'zeromq bind failed');
            throw new UnavailableError(`zeromq could not bind ${cfg.endpoint}: ${(err as Error).message}`);
          },
        );
      }
      return bound;
    };

    const sendOnce = async (s: ReturnType<typeof makeSocket>, body: Buffer): Promise<void> => {
      try {
        await s.send(body);
      } catch (err) {
        throw new UnavailableError(`zeromq socket did not take the message (no peer connected or its queue is full): ${(err as Error).message}`);
      }
    };

    return {
      async send(delivery: Delivery, signal: AbortSignal): Promise<void> {
        if (closed) throw new UnavailableError('zeromq output is closed');
        await ensureBound();
        const s = socket;
        if (!s) throw new UnavailableError('zeromq socket is gone');
        const body = Buffer.isBuffer(delivery.payload) ? delivery.payload : Buffer.from(JSON.stringify(delivery.payload));
        if (cfg.socket_type !== 'REQ') return sendOnce(s, body);
        const request = s as Zmq.Request;
        const job = tail.then(async () => {
          if (signal.aborted) throw new UnavailableError('zeromq request timed out while waiting its turn');
          await sendOnce(s, body);
          await request.receive();
        });
        tail = job.catch(() => undefined);
        await abortable(job, signal);
      },
      async close(): Promise<void> {
        closed = true;
        socket?.close();
      },
    };
  },
});
