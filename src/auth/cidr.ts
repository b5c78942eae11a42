/**
 * CIDR lists (IPv4 and IPv6) compiled once into node's BlockList, which
 * answers membership without scanning the list per request.
 */
import { BlockList, isIP } from 'node:net';

export class CidrError extends Error {}

export type Family = 'ipv4' | 'ipv6';

export function familyOf(address: string): Family | undefined {
  const v = isIP(address);
  return v === 4 ? 'ipv4' : v === 6 ? 'ipv6' : undefined;
}

/** "::ffff:10.0.0.1" (an IPv4 peer on a dual-stack socket) is judged as "10.0.0.1". */
export function normalizeAddress(address: string): string {
  return address.length > 7 && address.slice(0, 7).toLowerCase() === '::ffff:' && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}

/** Accepts "10.0.0.0/8", "2001:db8::/32" and single addresses; throws CidrError naming the bad entry. */
export function compileCidrs(entries: readonly string[]): BlockList {
  const list = new BlockList();
  for (const raw of entries) {
    const entry = raw.trim();
    const slash = entry.indexOf('/');
    const address = normalizeAddress(slash === -1 ? entry : entry.slice(0, slash));
    const family = familyOf(address);
    if (!family) throw new CidrError(`${JSON.stringify(raw)} is not an IP address or CIDR`);
    const max = family === 'ipv4' ? 32 : 128;
    const prefixText = slash === -1 ? String(max) : entry.slice(slash + 1);
    if (!/^\d{1,3}$/.test(prefixText) || Number(prefixText) > max) throw new CidrError(`${JSON.stringify(raw)} has an invalid prefix length (0-${max})`);
    list.addSubnet(address, Number(prefixText), family);
  }
  return list;
}

/** False for anything that is not an IP address, so garbage never matches. */
export function contains(list: BlockList, address: string): boolean {
  const normalized = normalizeAddress(address);
  const family = familyOf(normalized);
  return family !== undefined && list.check(normalized, family);
}
