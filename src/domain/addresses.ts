import { isIP } from 'node:net';

/**
 * plainAddress writes an IPv4-mapped IPv6 address ("::ffff:10.1.2.3", as a dual-stack socket
 * reports an IPv4 client) as the IPv4 address it is, so that logs, rate limits and the
 * auto-approve networks see one client as one address. Only the dotted form is mapped, and only
 * when what follows the prefix is a valid IPv4 address (earlier copies differed on that: one
 * stripped "::ffff:" before anything containing a dot); the prefix may be in any case. Everything
 * else is returned unchanged.
 */
export function plainAddress(address: string): string {
  if (address.length > 7 && address.slice(0, 7).toLowerCase() === '::ffff:') {
    const rest = address.slice(7);
    if (isIP(rest) === 4) return rest;
  }
  return address;
}

/** Network is an address block as node:net's BlockList takes it. */
export interface Network {
  address: string;
  prefix: number;
  family: 'ipv4' | 'ipv6';
}

/** parseCidr reads "10.0.0.0/8" or "fd00::/8"; undefined when it is not a network. */
export function parseCidr(cidr: string): Network | undefined {
  const m = /^([0-9a-fA-F.:]+)\/(\d{1,3})$/.exec(cidr.trim());
  if (!m) return undefined;
  const family = isIP(m[1]!);
  const prefix = Number(m[2]);
  if (family === 4 && prefix <= 32) return { address: m[1]!, prefix, family: 'ipv4' };
  if (family === 6 && prefix <= 128) return { address: m[1]!, prefix, family: 'ipv6' };
  return undefined;
}

/** hostInUrl writes a listening host as a URL's host part: an IPv6 address in brackets, anything else as it is. */
export function hostInUrl(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}
