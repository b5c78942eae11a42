/**
 * The one outbound guard: network targets a team configures (http_webhook and
 * websocket urls; later every connection host) may not reach loopback,
 * private or link-local addresses unless the operator allows it. Literal IPs
 * are judged at config time; names are resolved, every address is judged,
 * and the socket connects to the judged address (a `lookup` handed to
 * net.connect), so a name that rebinds between check and connect cannot slip
 * past. Redirects are never followed by the outputs that use it.
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP } from 'node:net';
import { ConfigError } from '../errors.js';

export interface OutboundPolicy {
  /** ALLOW_LOCALHOST_FOR_TESTS: loopback and unspecified addresses. */
  readonly allowLocalhost: boolean;
  /** ALLOW_PRIVATE_IP_CONNECTIONS: RFC 1918, unique-local, CGNAT, documentation/benchmark ranges. */
  readonly allowPrivate: boolean;
}

export type AddressClass = 'public' | 'loopback' | 'private' | 'link-local' | 'metadata' | 'multicast' | 'reserved';

function blockList(v4: readonly string[], v6: readonly string[]): BlockList {
  const list = new BlockList();
  for (const c of v4) {
    const [net, bits] = c.split('/');
    list.addSubnet(net as string, Number(bits), 'ipv4');
  }
  for (const c of v6) {
    const [net, bits] = c.split('/');
    list.addSubnet(net as string, Number(bits), 'ipv6');
  }
  return list;
}

// Cloud metadata services: never reachable, whatever the operator allows (the classic SSRF prize).
const METADATA = blockList(['169.254.169.254/32', '100.100.100.200/32', '192.0.0.192/32'], ['fd00:ec2::254/128']);
const LOOPBACK = blockList(['127.0.0.0/8', '0.0.0.0/8'], ['::1/128', '::/128']);
const LINK_LOCAL = blockList(['169.254.0.0/16'], ['fe80::/10']);
const MULTICAST = blockList(['224.0.0.0/4'], ['ff00::/8']);
// ::/96 holds the deprecated IPv4-compatible form (::127.0.0.1): refused rather than judged by its tail.
const RESERVED = blockList(['240.0.0.0/4'], ['::/96']);
const PRIVATE = blockList(
  ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '100.64.0.0/10', '192.0.0.0/24', '192.0.2.0/24', '198.18.0.0/15', '198.51.100.0/24', '203.0.113.0/24'],
  ['fc00::/7', '2001:db8::/32', '64:ff9b:1::/48'],
);

/** What kind of address `ip` (a literal IPv4 or IPv6 address) is; IPv4-mapped IPv6 is judged as its IPv4 address. */
export function classifyAddress(ip: string): AddressClass {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  const addr = mapped ? (mapped[1] as string) : ip;
  const family = isIP(addr) === 4 ? 'ipv4' : 'ipv6';
  if (METADATA.check(addr, family)) return 'metadata';
  if (LOOPBACK.check(addr, family)) return 'loopback';
  if (LINK_LOCAL.check(addr, family)) return 'link-local';
  if (MULTICAST.check(addr, family)) return 'multicast';
  if (RESERVED.check(addr, family) || addr === '255.255.255.255') return 'reserved';
  if (PRIVATE.check(addr, family)) return 'private';
  return 'public';
}

/** Why `ip` may not be connected to under `policy` ("a loopback address, ..."), or undefined when it may. */
export function refusal(ip: string, policy: OutboundPolicy): string | undefined {
  const kind = classifyAddress(ip);
  if (kind === 'public') return undefined;
  if (kind === 'loopback' && policy.allowLocalhost) return undefined;
  if (kind === 'private' && policy.allowPrivate) return undefined;
  const hint = kind === 'loopback' ? ' unless ALLOW_LOCALHOST_FOR_TESTS' : kind === 'private' ? ' unless ALLOW_PRIVATE_IP_CONNECTIONS' : '';
  return `a ${kind} address, refused for outbound targets${hint}`;
}

/** A URL's host without IPv6 brackets, lower-case; WHATWG URL parsing already turned 0177.1 / 2130706433 into 127.0.0.1. */
export function hostOf(url: URL): string {
  const h = url.hostname.toLowerCase();
  return h.startsWith('[') && h.endsWith(']') ? h.slice(1, -1) : h;
}

/**
 * The config-time half: `host` must be in `allowedHosts` when that list is
 * non-empty (a restriction, never an exemption), and a literal IP must pass
 * the policy. Names are judged at connect time by `guardedLookup`.
 * Throws ConfigError at `pointer`.
 */
export function checkTargetHost(host: string, policy: OutboundPolicy, allowedHosts: readonly string[] | undefined, pointer: string): void {
  if (allowedHosts && allowedHosts.length > 0) {
    const listed = allowedHosts.some((h) => h.trim().toLowerCase() === host);
    if (!listed) throw new ConfigError(pointer, 'names a host that is not in module-config.allowed_hosts');
  }
  if (isIP(host) !== 0) {
    const why = refusal(host, policy);
    if (why) throw new ConfigError(pointer, `host ${host} is ${why}`);
  }
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;
interface LookupOptions {
  readonly family?: number | string;
  readonly all?: boolean;
  readonly hints?: number;
}
/** The resolver the guard asks; dns.lookup (getaddrinfo, /etc/hosts included) unless a test hands in another. */
export type Resolve = (host: string, family: number, cb: (err: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void) => void;

const systemResolve: Resolve = (host, family, cb) => dnsLookup(host, { all: true, family, verbatim: true }, cb);

function familyOf(f: number | string | undefined): number {
  if (f === 4 || f === 'IPv4') return 4;
  if (f === 6 || f === 'IPv6') return 6;
  return 0;
}

export class OutboundRefusedError extends Error {
  readonly code = 'CWM_OUTBOUND_REFUSED';
}

/**
 * A `lookup` for net.connect / tls.connect (undici `connect.lookup`, ws
 * `lookup`): resolves the name once, refuses it when any address is refused
 * (a name with one private answer is not a public name), and hands net the
 * checked addresses, which it connects to without resolving again.
 */
export function guardedLookup(policy: OutboundPolicy, resolve: Resolve = systemResolve): (host: string, options: LookupOptions, cb: LookupCallback) => void {
  return (host, options, cb) => {
    resolve(host, familyOf(options.family), (err, addresses) => {
      if (err) return cb(err, []);
      if (addresses.length === 0) return cb(Object.assign(new Error(`${host} has no address`), { code: 'ENOTFOUND' }), []);
      for (const a of addresses) {
        const why = refusal(a.address, policy);
        if (why) return cb(new OutboundRefusedError(`${host} resolves to ${a.address}, ${why}`), []);
      }
      if (options.all) return cb(null, addresses);
      const first = addresses[0] as LookupAddress;
      cb(null, first.address, first.family);
    });
  };
}
