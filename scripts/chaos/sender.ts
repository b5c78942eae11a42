/**
 * A webhook sender that behaves like GitHub: every delivery carries its own id
 * (X-GitHub-Delivery), and a delivery answered 503 or lost to a connection
 * error is sent again with the same id, a bounded number of times with
 * growing pauses. Everything it sends and every answer is recorded, so a run
 * can count what was acknowledged and what was retried.
 */
import { Agent, request } from 'node:http';

/** Where one attempt goes: a cwm instance and a webhook path on it. */
export interface Target {
  readonly instance: string;
  readonly port: number;
  readonly path: string;
}

export interface Attempt {
  readonly instance: string;
  /** HTTP status, or 0 when there was no answer (refused, reset). */
  readonly status: number;
  /** Node's error code when there was no answer (ECONNREFUSED, ECONNRESET, ...). */
  readonly error?: string;
  readonly ms: number;
  readonly at: number;
}

export interface DeliveryRecord {
  readonly id: string;
  /** The webhook path, the same for every attempt of a delivery. */
  readonly path: string;
  readonly attempts: Attempt[];
}

export interface SenderOptions {
  readonly prefix: string;
  /** New deliveries per second, whatever happens to earlier ones (events keep occurring while a receiver struggles). */
  readonly ratePerSecond: number;
  /** Attempts per delivery, the first one included. */
  readonly maxAttempts: number;
  /** Keep-alive connections per instance. */
  readonly sockets: number;
  /** Stop starting new deliveries after this many (unbounded when absent). */
  readonly total?: number;
  /** The path of the next new delivery. */
  nextPath(): string;
  /** The instance for an attempt; `previous` is the instance of the failed attempt before it, if any. */
  pickInstance(previous: string | undefined): { instance: string; port: number };
}

export interface Sender {
  readonly deliveries: readonly DeliveryRecord[];
  /** Stops starting new deliveries and waits until the ones begun are finished (retries included). */
  stop(): Promise<void>;
}

/**
 * The load every scenario drives: 300 new deliveries a second, each tried up
 * to 10 times (pauses add up to 11 s, longer than any outage here but the
 * 30 s etcd one, which the log webhooks do not depend on). At most
 * rate × 11 s deliveries are in flight: bounded by construction.
 */
export const STEADY = { ratePerSecond: 300, maxAttempts: 10, sockets: 32 } as const;

/** Retry pauses: 100 ms doubling to 2 s, as a sender backs off from a struggling receiver. */
export function retryPauseMs(attempt: number): number {
  return Math.min(2000, 100 * 2 ** (attempt - 1));
}

export function retryable(a: Attempt): boolean {
  return a.status === 503 || a.status === 0;
}

export const acknowledged = (d: DeliveryRecord): boolean => d.attempts.some((a) => a.status >= 200 && a.status < 300);

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function post(agent: Agent, target: Target, id: string): Promise<Attempt> {
  // Timed from the moment the request has a connection: waiting for one of the sender's own sockets is not the receiver's time.
  let started = performance.now();
  const body = JSON.stringify({ delivery: id, action: 'chaos', at: Date.now() });
  return new Promise((resolve) => {
    const done = (status: number, error?: string): void => resolve({ instance: target.instance, status, error, ms: performance.now() - started, at: Date.now() });
    const req = request({ host: '127.0.0.1', port: target.port, path: target.path, method: 'POST', agent, timeout: 15_000, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'x-github-delivery': id, 'x-github-event': 'push' } }, (res) => {
      res.resume();
      res.on('end', () => done(res.statusCode ?? 0));
      res.on('error', (err: NodeJS.ErrnoException) => done(0, err.code ?? err.message));
    });
    req.once('socket', () => (started = performance.now()));
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })));
    req.on('error', (err: NodeJS.ErrnoException) => done(0, err.code ?? err.message));
    req.end(body);
  });
}

export function startSender(opts: SenderOptions): Sender {
  const agent = new Agent({ keepAlive: true, maxSockets: opts.sockets });
  const deliveries: DeliveryRecord[] = [];
  const inFlight = new Set<Promise<void>>();

  const deliver = async (record: DeliveryRecord): Promise<void> => {
    let previous: string | undefined;
    for (let n = 1; n <= opts.maxAttempts; n++) {
      const where = opts.pickInstance(previous);
      const attempt = await post(agent, { ...where, path: record.path }, record.id);
      record.attempts.push(attempt);
      if (!retryable(attempt)) return;
      previous = attempt.instance;
      if (n < opts.maxAttempts) await sleep(retryPauseMs(n));
    }
  };

  // Open loop: deliveries start on a schedule, not when earlier ones finish; a stalled tick catches up.
  const startedAt = performance.now();
  const tick = (): void => {
    const due = Math.min(opts.total ?? Infinity, Math.floor(((performance.now() - startedAt) * opts.ratePerSecond) / 1000));
    while (deliveries.length < due) {
      const record: DeliveryRecord = { id: `${opts.prefix}-${deliveries.length + 1}`, path: opts.nextPath(), attempts: [] };
      deliveries.push(record);
      const p = deliver(record).finally(() => inFlight.delete(p));
      inFlight.add(p);
    }
  };
  const timer = setInterval(tick, 10);
  return {
    deliveries,
    async stop() {
      clearInterval(timer);
      while (inFlight.size > 0) await Promise.all(inFlight);
      agent.destroy();
    },
  };
}

/** One cwm instance for every attempt. */
export function single(instance: string, port: number): SenderOptions['pickInstance'] {
  return () => ({ instance, port });
}

/** Round-robin over instances; a retry goes to another instance than the one that just failed. */
export function roundRobin(instances: readonly { instance: string; port: number }[]): SenderOptions['pickInstance'] {
  let next = 0;
  return (previous) => {
    for (let i = 0; i < instances.length; i++) {
      const candidate = instances[next++ % instances.length] as { instance: string; port: number };
      if (candidate.instance !== previous) return candidate;
    }
    return instances[0] as { instance: string; port: number };
  };
}

/** Cycles through a list that may grow while the sender runs (new webhooks). */
export function cycle(paths: readonly string[]): () => string {
  let next = 0;
  return () => paths[next++ % paths.length] as string;
}
