/**
 * The client address a request is judged by: the peer, or — only when the
 * peer is a trusted proxy (TRUSTED_PROXIES) — the right-most X-Forwarded-For
 * entry that is not itself a trusted proxy. Entries left of it could be
 * written by anyone and are never believed. A trusted proxy that sends no
 * X-Forwarded-For but X-Real-IP (nginx's `proxy_set_header X-Real-IP`, as
 * CWM reads it) names the client with that one address.
 */
import type { IncomingMessage } from 'node:http';
import type { BlockList } from 'node:net';
import { contains, normalizeAddress } from './cidr.js';

export function peerAddress(req: IncomingMessage): string {
  return normalizeAddress(req.socket.remoteAddress ?? '');
}

/** X-Real-IP as one address (garbage stays garbage: it matches no whitelist); undefined when absent or empty. */
function realIp(req: IncomingMessage): string | undefined {
  const header = req.headers['x-real-ip'];
  const value = normalizeAddress((Array.isArray(header) ? (header[0] ?? '') : (header ?? '')).trim());
  return value === '' ? undefined : value;
}

export type ClientIpResolver = (req: IncomingMessage) => string;

/** `trusted` null or empty: X-Forwarded-For is ignored and the peer is the client. */
export function clientIpResolver(trusted: BlockList | null): ClientIpResolver {
  if (!trusted) return peerAddress;
  return (req) => {
    const peer = peerAddress(req);
    if (!contains(trusted, peer)) return peer;
    const header = req.headers['x-forwarded-for'];
    if (header === undefined) return realIp(req) ?? peer;
    const hops = (Array.isArray(header) ? header.join(',') : header).split(',');
    let client = peer;
    for (let i = hops.length - 1; i >= 0; i--) {
      const hop = normalizeAddress((hops[i] as string).trim());
      if (hop === '') continue;
      client = hop;
      // Garbage stops the walk and becomes the client: it matches no whitelist.
      if (!contains(trusted, hop)) break;
    }
    return client;
  };
}
