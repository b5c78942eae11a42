import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/**
 * Ports are drawn below the kernel's ephemeral range. A port the kernel hands
 * out for `listen(0)` lies inside that range, so between our check and the
 * service's own bind any outgoing connection on the machine (the suite makes
 * thousands) can take it as its local port; a CI run lost a Redis that way
 * ("redis-server exited with 1" on port 37163). Below the range only another
 * test's listener can collide, and every draw is checked by binding it.
 */
function ephemeralLow(): number {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(low) && low > 0 ? low : 32768;
  } catch {
    return 32768;
  }
}

const RANGE_LOW = 10_000;
const RANGE_HIGH = Math.max(RANGE_LOW + 1000, ephemeralLow());
const SPAN = RANGE_HIGH - RANGE_LOW;
/**
 * Each test process walks the range from its own starting point (spread by
 * its pid), so two test files running at once draw from different stretches:
 * random draws from one shared range would meet now and then.
 */
let next = (process.pid * 7919) % SPAN;

function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/** A TCP port free on 127.0.0.1 right now, below the ephemeral range, never handed out twice by one process. */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < SPAN; attempt++) {
    const port = RANGE_LOW + next;
    next = (next + 1) % SPAN;
    if (await bindable(port)) return port;
  }
  throw new Error(`no free port found in ${RANGE_LOW}-${RANGE_HIGH - 1}`);
}

export async function waitFor<T>(probe: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 10_000, what = 'condition', intervalMs = 10): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastErr: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      lastErr = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastErr ? `: ${(lastErr as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
