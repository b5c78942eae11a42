/**
 * A loopback TCP relay between cwm and a real etcd, so a test can cut one
 * client off while etcd stays up and other clients keep writing. Nothing is
 * mocked: bytes pass through unchanged. Two ways to fail: `cut` resets every
 * connection (a crashed peer, a refused port), `stall` keeps them open but
 * silent (a partition or a hung peer, noticed only by keepalive).
 */
import { createServer, connect, type Server, type Socket } from 'node:net';

export interface TcpProxy {
  readonly port: number;
  readonly url: string;
  /** Drops every relayed connection and refuses new ones until resume(). */
  cut(): void;
  /** Stops relaying bytes without closing anything; new connections are accepted and then ignored. */
  stall(): void;
  /** Back to relaying; connections broken or stalled meanwhile are dropped so clients reconnect. */
  resume(): void;
  /** Relays new connections to another port from now on (e.g. an etcd restored from a backup). */
  retarget(port: number): void;
  close(): Promise<void>;
}

type Mode = 'relay' | 'cut' | 'stall';

export async function startTcpProxy(initialTarget: number): Promise<TcpProxy> {
  let targetPort = initialTarget;
  const sockets = new Set<Socket>();
  let mode: Mode = 'relay';
  const dropAll = (): void => {
    for (const s of sockets) s.destroy();
    sockets.clear();
  };
  const track = (s: Socket): void => {
    sockets.add(s);
    s.on('error', () => s.destroy()).on('close', () => sockets.delete(s));
  };
  const server: Server = createServer((client) => {
    if (mode === 'cut') {
      client.destroy();
      return;
    }
    track(client);
    if (mode === 'stall') {
      client.pause();
      return;
    }
    const upstream = connect(targetPort, '127.0.0.1');
    track(upstream);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    cut() {
      mode = 'cut';
      dropAll();
    },
    stall() {
      mode = 'stall';
      for (const s of sockets) {
        s.unpipe();
        s.pause();
      }
    },
    resume() {
      if (mode === 'stall') dropAll();
      mode = 'relay';
    },
    retarget(port) {
      targetPort = port;
    },
    close() {
      mode = 'cut';
      dropAll();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
