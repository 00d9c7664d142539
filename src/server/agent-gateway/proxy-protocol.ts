// PROXY protocol version 2 (https://www.haproxy.org/download/2.6/doc/proxy-protocol.txt) in front of the
// gateway's TLS: a load balancer that passes TLS through (so the agent's client certificate reaches the
// core) opens its own TCP connection to a replica, and without this the core would see the balancer's
// address as every agent's. Rate limits, auto-approval, logs and recorded results go by the client's
// address, so a balancer listed in AGENT_PROXY_PROTOCOL_FROM prefixes each connection with a binary
// header naming it (HAProxy: `send-proxy-v2`), read here before the TLS handshake begins.
import { BlockList, isIP, type Server, type Socket } from 'node:net';
import { parseCidr, plainAddress } from '../../domain/addresses.js';
import type { Logger } from '../../logger.js';

/** The 12 bytes every version 2 header begins with; no TLS record (nor any HTTP request) begins so. */
export const PROXY_V2_SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
const FIXED_BYTES = 16;
/**
 * The longest header taken, address block and TLVs included. HAProxy's `send-proxy-v2` sends 28 bytes
 * for IPv4 and 52 for IPv6; its optional TLVs (ALPN, authority, unique id, ...) stay well below this.
 */
export const MAX_PROXY_HEADER_BYTES = 1024;

export interface ProxyEndpoint {
  address: string;
  port: number;
}

/**
 * ProxyHeader is what a header says. LOCAL: the balancer's own connection (a health check), which keeps
 * the connection's address. PROXY: a relayed client, from source to destination.
 */
export type ProxyHeader = { command: 'LOCAL' } | { command: 'PROXY'; family: 'IPv4' | 'IPv6'; source: ProxyEndpoint; destination: ProxyEndpoint };

export type ProxyParse =
  | { state: 'incomplete' }
  | { state: 'invalid'; reason: string }
  /** length is the header's size in bytes: what follows it is the client's stream (its TLS ClientHello). */
  | { state: 'complete'; header: ProxyHeader; length: number };

/**
 * parseProxyV2 reads a version 2 header from the first bytes of a connection, which may have arrived
 * in part: 'incomplete' asks for more, and is never the answer once `maxBytes` bytes are there.
 * Anything but a well-formed header is 'invalid' as soon as the bytes seen show it (a wrong signature
 * at the first wrong byte, a declared length over maxBytes before the rest arrives). A PROXY command
 * must carry a TCP over IPv4 or IPv6 address block: the specification lets a receiver fall back to the
 * connection's own address for UNSPEC or UNIX, but here that address is the balancer's, and a client
 * whose address is unknown could be neither rate-limited nor fairly auto-approved, so it is refused.
 * TLVs after the addresses are skipped.
 */
export function parseProxyV2(buf: Buffer, maxBytes = MAX_PROXY_HEADER_BYTES): ProxyParse {
  const signatureSeen = Math.min(buf.length, PROXY_V2_SIGNATURE.length);
  if (!buf.subarray(0, signatureSeen).equals(PROXY_V2_SIGNATURE.subarray(0, signatureSeen))) {
    return { state: 'invalid', reason: 'the connection does not begin with a PROXY protocol v2 header' };
  }
  if (buf.length < FIXED_BYTES) return { state: 'incomplete' };
  const version = buf[12]! >> 4;
  const command = buf[12]! & 0x0f;
  if (version !== 2) return { state: 'invalid', reason: `PROXY protocol version ${version}, not 2` };
  if (command > 1) return { state: 'invalid', reason: `unknown PROXY protocol command ${command}` };
  const length = FIXED_BYTES + buf.readUInt16BE(14);
  if (length > maxBytes) return { state: 'invalid', reason: `a PROXY protocol header of ${length} bytes (at most ${maxBytes} taken)` };
  if (buf.length < length) return { state: 'incomplete' };
  if (command === 0) return { state: 'complete', header: { command: 'LOCAL' }, length };

  const family = buf[13]! >> 4;
  const transport = buf[13]! & 0x0f;
  if ((family !== 1 && family !== 2) || transport !== 1) {
    return { state: 'invalid', reason: `a PROXY protocol header without a TCP over IPv4 or IPv6 source (family and protocol byte 0x${buf[13]!.toString(16).padStart(2, '0')})` };
  }
  const addressBytes = family === 1 ? 4 : 16;
  if (length - FIXED_BYTES < 2 * addressBytes + 4) {
    return { state: 'invalid', reason: `a PROXY protocol address block of ${length - FIXED_BYTES} bytes, too short for ${family === 1 ? 'IPv4' : 'IPv6'}` };
  }
  const at = FIXED_BYTES;
  const format = family === 1 ? formatIPv4 : formatIPv6;
  const ports = at + 2 * addressBytes;
  return {
    state: 'complete',
    length,
    header: {
      command: 'PROXY',
      family: family === 1 ? 'IPv4' : 'IPv6',
      source: { address: format(buf.subarray(at, at + addressBytes)), port: buf.readUInt16BE(ports) },
      destination: { address: format(buf.subarray(at + addressBytes, ports)), port: buf.readUInt16BE(ports + 2) },
    },
  };
}

/** encodeProxyV2 writes a header (tests, and clients that speak for others): the inverse of parseProxyV2. */
export function encodeProxyV2(header: ProxyHeader): Buffer {
  if (header.command === 'LOCAL') return Buffer.concat([PROXY_V2_SIGNATURE, Buffer.from([0x20, 0x00, 0x00, 0x00])]);
  const ipv4 = header.family === 'IPv4';
  const addresses = Buffer.concat([addressBytes(header.source.address, ipv4), addressBytes(header.destination.address, ipv4)]);
  const tail = Buffer.alloc(addresses.length + 4);
  addresses.copy(tail);
  tail.writeUInt16BE(header.source.port, addresses.length);
  tail.writeUInt16BE(header.destination.port, addresses.length + 2);
  const fixed = Buffer.from([0x21, ipv4 ? 0x11 : 0x21, 0, 0]);
  fixed.writeUInt16BE(tail.length, 2);
  return Buffer.concat([PROXY_V2_SIGNATURE, fixed, tail]);
}

function formatIPv4(b: Buffer): string {
  return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
}

/** formatIPv6 writes 16 bytes the way RFC 5952 does (lower case, the longest run of zero groups as ::, an IPv4-mapped address dotted). */
function formatIPv6(b: Buffer): string {
  if (b.subarray(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff) return `::ffff:${formatIPv4(b.subarray(12))}`;
  const groups = Array.from({ length: 8 }, (_, i) => b.readUInt16BE(2 * i));
  let best = { start: -1, len: 0 };
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > best.len && j - i >= 2) best = { start: i, len: j - i };
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best.start === -1) return hex.join(':');
  return `${hex.slice(0, best.start).join(':')}::${hex.slice(best.start + best.len).join(':')}`;
}

function addressBytes(address: string, ipv4: boolean): Buffer {
  if (ipv4) {
    if (isIP(address) !== 4) throw new Error(`not an IPv4 address: ${address}`);
    return Buffer.from(address.split('.').map(Number));
  }
  if (isIP(address) !== 6) throw new Error(`not an IPv6 address: ${address}`);
  const [head = '', tail = ''] = address.includes('::') ? address.split('::') : [address, ''];
  const words = (part: string): number[] =>
    part === ''
      ? []
      : part.split(':').flatMap((w) => {
          if (!w.includes('.')) return [parseInt(w, 16)];
          const [a, b2, c, d] = w.split('.').map(Number) as [number, number, number, number];
          return [(a << 8) | b2, (c << 8) | d];
        });
  const h = words(head);
  const t = words(tail);
  const all = address.includes('::') ? [...h, ...Array<number>(8 - h.length - t.length).fill(0), ...t] : h;
  const out = Buffer.alloc(16);
  all.forEach((w, i) => out.writeUInt16BE(w, 2 * i));
  return out;
}

/** trustedBalancers is the set of AGENT_PROXY_PROTOCOL_FROM's networks, given as CIDRs (null when there are none: off). */
export function trustedBalancers(cidrs: string[]): BlockList | null {
  if (cidrs.length === 0) return null;
  const list = new BlockList();
  for (const cidr of cidrs) {
    const n = parseCidr(cidr);
    if (!n) throw new Error(`not a network: ${cidr}`);
    list.addSubnet(n.address, n.prefix, n.family);
  }
  return list;
}

function isTrusted(list: BlockList, address: string): boolean {
  const plain = plainAddress(address);
  const family = isIP(plain);
  return family !== 0 && list.check(plain, family === 4 ? 'ipv4' : 'ipv6');
}

// The client's address a balancer's header named, by the raw TCP socket it came on.
const relayedClients = new WeakMap<Socket, string>();

/**
 * clientAddressOf is the address of the client on the other end of a gateway connection (the TLS
 * socket or its raw TCP socket): the one a trusted balancer's header named, else the socket's peer,
 * an IPv4-mapped IPv6 address written as IPv4.
 */
export function clientAddressOf(socket: Socket): string {
  // A TLS socket made over a net.Socket keeps it as _parent (Node since 0.x; test/integration/proxy-protocol.test.ts
  // proves the address reaches the services, so a Node that dropped it would fail there, not silently).
  const raw = (socket as Socket & { _parent?: Socket | null })._parent ?? socket;
  return relayedClients.get(raw) ?? plainAddress(socket.remoteAddress ?? raw.remoteAddress ?? '');
}

export interface ProxyProtocolOptions {
  trusted: BlockList;
  /** How long a trusted balancer may take to send its whole header. */
  timeoutMs: number;
  log: Logger;
}

/**
 * acceptProxyProtocol puts PROXY v2 header reading in front of a TLS server (a tls.Server or an
 * https.Server), before it sees the connection: a connection from a trusted balancer must begin with
 * a whole, valid header within timeoutMs, or it is closed; its header's source becomes the client's
 * address (clientAddressOf), and the bytes after the header (the ClientHello, often in the same
 * packet) are put back for TLS to read. A connection from any other address goes to TLS untouched, so
 * a header it sends is not honoured: TLS reads it as a broken handshake.
 *
 * The server's own 'connection' listeners (TLS's) are taken off and called once the header is read:
 * the server keeps listening itself, so its connection tracking and timeouts work as before. Call it
 * after the server is made and before it listens.
 */
export function acceptProxyProtocol(server: Server, opts: ProxyProtocolOptions): void {
  const downstream = server.listeners('connection') as ((socket: Socket) => void)[];
  server.removeAllListeners('connection');
  const handOver = (socket: Socket) => {
    for (const listener of downstream) listener.call(server, socket);
  };
  server.on('connection', (socket: Socket) => {
    const peer = socket.remoteAddress ?? '';
    if (!isTrusted(opts.trusted, peer)) {
      handOver(socket);
      return;
    }
    let received: Buffer = Buffer.alloc(0);
    const refuse = (reason: string) => {
      cleanUp();
      opts.log.warn('agent gateway: closed a connection from a trusted load balancer without a valid PROXY protocol v2 header', {
        balancer: plainAddress(peer),
        reason,
      });
      socket.destroy();
    };
    const timer = setTimeout(() => refuse(`no whole header within ${opts.timeoutMs} ms`), opts.timeoutMs);
    const onData = (chunk: Buffer) => {
      received = received.length === 0 ? chunk : Buffer.concat([received, chunk]);
      const parsed = parseProxyV2(received);
      if (parsed.state === 'incomplete') return;
      if (parsed.state === 'invalid') {
        refuse(parsed.reason);
        return;
      }
      cleanUp();
      socket.pause();
      if (parsed.header.command === 'PROXY') relayedClients.set(socket, plainAddress(parsed.header.source.address));
      const rest = received.subarray(parsed.length);
      // TLS reads what is left in the socket's buffer before reading the socket itself.
      if (rest.length > 0) socket.unshift(rest);
      handOver(socket);
    };
    // A reset while the header is awaited must not become an uncaught error; TLS handles errors after.
    const onError = () => {
      cleanUp();
      socket.destroy();
    };
    const onClose = () => cleanUp();
    function cleanUp() {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('error', onError);
      socket.off('close', onClose);
    }
    socket.on('data', onData);
    socket.on('error', onError);
    socket.on('close', onClose);
  });
}
