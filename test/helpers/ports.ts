import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

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
 * its pid), so two test files running at once mostly draw from different
 * stretches. Walks still meet (pids 23 apart start 7 ports apart), and a
 * bind check alone cannot see a port whose owner is down for a moment: a
 * fault test kills its broker, another test file draws the free port, and
 * the restarted broker's port now answers for someone else. So every draw is
 * also claimed by a file that names the claiming pid; a claim whose process
 * is gone is taken over, and each process removes its claims when it exits.
 */
let next = (process.pid * 7919) % SPAN;
const CLAIMS = join(tmpdir(), 'cwm-test-ports');
const mine: string[] = [];

function alivePid(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** True when this process now holds the port's claim file. */
function claim(port: number): boolean {
  const file = join(CLAIMS, String(port));
  try {
    writeFileSync(file, String(process.pid), { flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    const owner = Number(readFileSync(file, 'utf8'));
    if (owner > 0 && (owner === process.pid || alivePid(owner))) return false;
    writeFileSync(file, String(process.pid)); // the claimant is gone: a stale claim
  }
  if (mine.length === 0) process.once('exit', () => mine.forEach((f) => rmSync(f, { force: true })));
  mine.push(file);
  return true;
}

function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/**
 * Ports fetch() refuses to connect to (the Fetch standard's "bad ports"; undici
 * fails them at once with "fetch failed"). 10080 lies in our range: a fresh-clone
 * run drew it for a cwm whose /health the test then could not reach for 15 s.
 */
const FETCH_BAD_PORTS = new Set([
  1, 7, 9, 11, 13, 15, 17, 19, 20, 21, 22, 23, 25, 37, 42, 43, 53, 69, 77, 79, 87, 95, 101, 102, 103, 104, 109, 110, 111, 113, 115, 117, 119, 123, 135, 137, 139, 143, 161, 179, 389, 427, 465, 512, 513,
  514, 515, 526, 530, 531, 532, 540, 548, 554, 556, 563, 587, 601, 636, 989, 990, 993, 995, 1719, 1720, 1723, 2049, 3659, 4045, 4190, 5060, 5061, 6000, 6566, 6665, 6666, 6667, 6668, 6669, 6679, 6697, 10080,
]);

/** False for a port fetch() would refuse: such a port is never handed out. */
export function drawable(port: number): boolean {
  return !FETCH_BAD_PORTS.has(port);
}

/**
 * A TCP port free on 127.0.0.1 right now, below the ephemeral range, claimed
 * for the life of this process: no test process on the machine is handed it
 * again while this one runs, even while the service on it is stopped.
 */
export async function freePort(): Promise<number> {
  mkdirSync(CLAIMS, { recursive: true });
  for (let attempt = 0; attempt < SPAN; attempt++) {
    const port = RANGE_LOW + next;
    next = (next + 1) % SPAN;
    if (!drawable(port)) continue;
    if ((await bindable(port)) && claim(port)) return port;
  }
  throw new Error(`no free port found in ${RANGE_LOW}-${RANGE_HIGH - 1}`);
}

/** Thrown by a waitFor probe when waiting longer cannot help (the process it waits for exited): waitFor rethrows it at once. */
export class GaveUp extends Error {}

/** For a waitFor probe: gives up at once when the process it waits for has exited. */
export function stillRunning(proc: { readonly exitCode: number | null }, what: string, detail = ''): void {
  if (proc.exitCode !== null) throw new GaveUp(`${what} exited with ${proc.exitCode}${detail ? `: ${detail}` : ''}`);
}

/** An error's message with its cause's code or message: fetch's own is only "fetch failed". */
function describe(err: unknown): string {
  const cause = (err as Error).cause as NodeJS.ErrnoException | undefined;
  return `${(err as Error).message}${cause ? ` (${cause.code ?? cause.message})` : ''}`;
}

export async function waitFor<T>(probe: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 10_000, what = 'condition', intervalMs = 10): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastErr: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      if (err instanceof GaveUp) throw err;
      lastErr = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastErr ? `: ${describe(lastErr)}` : ''}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
