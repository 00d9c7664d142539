import { Agent, request } from 'node:https';
import { connect as netConnect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/logger.js';
import { remoteAddressOf } from '../../../src/server/agent-gateway/http-kit.js';
import { startTlsListener, type RunningAgentGateway } from '../../../src/server/agent-gateway/listener.js';
import { encodeProxyV2, MAX_PROXY_HEADER_BYTES, parseProxyV2, PROXY_V2_SIGNATURE } from '../../../src/server/agent-gateway/proxy-protocol.js';
import { proxiedCall, type ProxiedCall } from '../../support/proxy-client.js';
import { createTlsFixtures, type TlsFixtures } from '../../support/tls-fixtures.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

// Written out from the specification (section 2.2), not by encodeProxyV2: PROXY, TCP over IPv4,
// 12 bytes of addresses, from 192.0.2.10:51000 to 10.0.0.1:443.
const IPV4_HEADER = hex(`
  0d0a0d0a000d0a515549540a 21 11 000c
  c000020a 0a000001 c738 01bb`);

describe('parseProxyV2', () => {
  it('reads a PROXY command over TCP/IPv4 and says where the client stream starts', () => {
    const clientHello = Buffer.from([0x16, 0x03, 0x01, 0x00, 0x05]);
    const parsed = parseProxyV2(Buffer.concat([IPV4_HEADER, clientHello]));
    expect(parsed).toEqual({
      state: 'complete',
      length: 28,
      header: {
        command: 'PROXY',
        family: 'IPv4',
        source: { address: '192.0.2.10', port: 51000 },
        destination: { address: '10.0.0.1', port: 443 },
      },
    });
  });

  it('reads TCP/IPv6 addresses in their short form, an IPv4-mapped one dotted', () => {
    const header = hex(`
      0d0a0d0a000d0a515549540a 21 21 0024
      20010db8000000000000000000000001
      fe800000000000000a0b0c0d0e0f0001
      d431 115c`);
    expect(parseProxyV2(header)).toEqual({
      state: 'complete',
      length: 52,
      header: {
        command: 'PROXY',
        family: 'IPv6',
        source: { address: '2001:db8::1', port: 54321 },
        destination: { address: 'fe80::a0b:c0d:e0f:1', port: 4444 },
      },
    });
    const mapped = encodeProxyV2({
      command: 'PROXY',
      family: 'IPv6',
      source: { address: '::ffff:198.51.100.7', port: 1 },
      destination: { address: '::1', port: 2 },
    });
    expect(parseProxyV2(mapped)).toMatchObject({ state: 'complete', header: { source: { address: '::ffff:198.51.100.7' }, destination: { address: '::1' } } });
  });

  it('encodes what it parses (IPv4 and IPv6), byte for byte the written-out header', () => {
    expect(
      encodeProxyV2({ command: 'PROXY', family: 'IPv4', source: { address: '192.0.2.10', port: 51000 }, destination: { address: '10.0.0.1', port: 443 } }),
    ).toEqual(IPV4_HEADER);
    const header = { command: 'PROXY', family: 'IPv6', source: { address: '2001:db8:0:1::5', port: 9 }, destination: { address: 'fd00::', port: 10 } } as const;
    expect(parseProxyV2(encodeProxyV2(header))).toEqual({ state: 'complete', length: 52, header });
  });

  it('reads LOCAL (a balancer speaking for itself) with whatever address block it carries', () => {
    expect(parseProxyV2(hex('0d0a0d0a000d0a515549540a 20 00 0000'))).toEqual({ state: 'complete', length: 16, header: { command: 'LOCAL' } });
    // LOCAL with an (ignored) IPv4 block, as some balancers send for health checks.
    expect(parseProxyV2(hex('0d0a0d0a000d0a515549540a 20 11 000c 7f000001 7f000001 0001 0002'))).toEqual({
      state: 'complete',
      length: 28,
      header: { command: 'LOCAL' },
    });
  });

  it('skips TLVs after the addresses (their bytes belong to the header)', () => {
    const withTlv = Buffer.from(IPV4_HEADER);
    withTlv.writeUInt16BE(12 + 7, 14);
    // One TLV, PP2_TYPE_AUTHORITY "host": a type byte, a two-byte length, four bytes of value.
    const tlv = Buffer.from([0x02, 0x00, 0x04, ...Buffer.from('host')]);
    const parsed = parseProxyV2(Buffer.concat([withTlv, tlv, Buffer.from('TLS')]));
    expect(parsed).toMatchObject({ state: 'complete', length: 35, header: { source: { address: '192.0.2.10' } } });
  });

  it('asks for more while any prefix of a header has arrived (truncated at every byte)', () => {
    for (let n = 0; n < IPV4_HEADER.length; n++) {
      expect(parseProxyV2(IPV4_HEADER.subarray(0, n)), `after ${n} bytes`).toEqual({ state: 'incomplete' });
    }
    expect(parseProxyV2(IPV4_HEADER).state).toBe('complete');
  });

  it('refuses anything without the signature at its first wrong byte: a TLS ClientHello, HTTP, PROXY v1 text', () => {
    for (const start of [
      Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00]),
      Buffer.from('GET /agent/v1/ca HTTP/1.1\r\n'),
      Buffer.from('PROXY TCP4 192.0.2.10 10.0.0.1 51000 443\r\n'),
      Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0b]),
    ]) {
      expect(parseProxyV2(start)).toEqual({ state: 'invalid', reason: 'the connection does not begin with a PROXY protocol v2 header' });
    }
    // One wrong byte is enough, before the rest arrives.
    expect(parseProxyV2(Buffer.from([0x0d, 0x0a, 0x0e]))).toMatchObject({ state: 'invalid' });
  });

  it('refuses another version, an unknown command, UNSPEC, UNIX and UDP sources, and a short address block', () => {
    const variant = (byte12: number, byte13: number, len = 12) => {
      const b = Buffer.concat([PROXY_V2_SIGNATURE, Buffer.from([byte12, byte13, 0, len]), Buffer.alloc(len)]);
      return parseProxyV2(b);
    };
    expect(variant(0x11, 0x11)).toEqual({ state: 'invalid', reason: 'PROXY protocol version 1, not 2' });
    expect(variant(0x22, 0x11)).toEqual({ state: 'invalid', reason: 'unknown PROXY protocol command 2' });
    expect(variant(0x21, 0x00, 0).state).toBe('invalid');
    expect(variant(0x21, 0x31, 216).state).toBe('invalid');
    expect(variant(0x21, 0x12)).toMatchObject({ state: 'invalid', reason: expect.stringContaining('0x12') });
    expect(variant(0x21, 0x11, 8)).toMatchObject({ state: 'invalid', reason: expect.stringContaining('too short for IPv4') });
    expect(variant(0x21, 0x21, 12)).toMatchObject({ state: 'invalid', reason: expect.stringContaining('too short for IPv6') });
  });

  it('refuses an oversized header from its length field, before its bytes arrive', () => {
    const declared = Buffer.concat([PROXY_V2_SIGNATURE, Buffer.from([0x21, 0x11, 0xff, 0xff])]);
    expect(parseProxyV2(declared)).toEqual({ state: 'invalid', reason: `a PROXY protocol header of ${16 + 0xffff} bytes (at most ${MAX_PROXY_HEADER_BYTES} taken)` });
    const justOver = Buffer.concat([PROXY_V2_SIGNATURE, Buffer.from([0x21, 0x11, 0, 0])]);
    justOver.writeUInt16BE(MAX_PROXY_HEADER_BYTES - 16 + 1, 14);
    expect(parseProxyV2(justOver).state).toBe('invalid');
    justOver.writeUInt16BE(MAX_PROXY_HEADER_BYTES - 16, 14);
    expect(parseProxyV2(justOver)).toEqual({ state: 'incomplete' });
  });
});

describe('the gateway listener behind a trusted balancer (127.0.0.2 on the loopback)', () => {
  let fx: TlsFixtures;
  let listener: RunningAgentGateway;
  const logs: string[] = [];
  const HEADER_TIMEOUT_MS = 300;

  beforeAll(async () => {
    fx = await createTlsFixtures();
    listener = await startTlsListener({
      host: '127.0.0.1',
      port: 0,
      tls: { certificatePem: fx.server.certificatePem, privateKeyPem: fx.server.privateKeyPem, caCertificatePem: fx.caCertificatePem },
      proxyProtocolFrom: ['127.0.0.2/32'],
      timeouts: { proxyHeaderMs: HEADER_TIMEOUT_MS },
      log: createLogger('debug', (line) => logs.push(line)),
      // Every request is answered with the address the gateway takes as the client's.
      answer: async (req) => ({ status: 200, body: JSON.stringify({ client: remoteAddressOf(req) }), contentType: 'application/json' }),
    });
  });
  afterAll(async () => {
    await listener?.close();
  });

  const call = (c: Partial<ProxiedCall>) =>
    proxiedCall({ port: listener.port, localAddress: '127.0.0.2', caCertificatePem: fx.caCertificatePem, method: 'GET', path: '/', ...c });
  const proxyFrom = (address: string) =>
    encodeProxyV2({ command: 'PROXY', family: 'IPv4', source: { address, port: 40000 }, destination: { address: '127.0.0.1', port: listener.port } });

  it("takes the header's source as the client's address", async () => {
    expect(await call({ prefix: proxyFrom('198.51.100.7') })).toEqual({ kind: 'answered', status: 200, body: { client: '198.51.100.7' } });
  });

  it('reads a header that arrives one byte at a time', async () => {
    expect(await call({ prefix: proxyFrom('203.0.113.9'), byteByByte: true })).toEqual({ kind: 'answered', status: 200, body: { client: '203.0.113.9' } });
  });

  it('takes an IPv4-mapped IPv6 source as the IPv4 address it is', async () => {
    const prefix = encodeProxyV2({ command: 'PROXY', family: 'IPv6', source: { address: '::ffff:192.0.2.33', port: 1 }, destination: { address: '::1', port: 2 } });
    expect(await call({ prefix })).toEqual({ kind: 'answered', status: 200, body: { client: '192.0.2.33' } });
  });

  it("keeps the balancer's own address for LOCAL (its own connection, such as a health check)", async () => {
    expect(await call({ prefix: encodeProxyV2({ command: 'LOCAL' }) })).toEqual({ kind: 'answered', status: 200, body: { client: '127.0.0.2' } });
  });

  it('closes a trusted connection that starts TLS without a header, and logs why', async () => {
    logs.length = 0;
    const outcome = await call({});
    expect(outcome.kind).toBe('refused');
    const line = logs.map((l) => JSON.parse(l) as { msg: string; reason?: string; balancer?: string }).find((l) => /PROXY protocol/.test(l.msg));
    expect(line).toMatchObject({
      msg: expect.stringMatching(/without a valid PROXY protocol v2 header/),
      reason: 'the connection does not begin with a PROXY protocol v2 header',
      balancer: '127.0.0.2',
    });
  });

  it('closes a trusted connection whose header is oversized, at once', async () => {
    const started = performance.now();
    const outcome = await call({ prefix: Buffer.concat([PROXY_V2_SIGNATURE, Buffer.from([0x21, 0x11, 0x10, 0x00])]) });
    expect(outcome.kind).toBe('refused');
    expect(performance.now() - started).toBeLessThan(HEADER_TIMEOUT_MS);
  });

  it('closes a trusted connection whose header stops half-way, after the header timeout', async () => {
    logs.length = 0;
    const started = performance.now();
    const closed = await new Promise<boolean>((resolve) => {
      const s = netConnect({ host: '127.0.0.1', port: listener.port, localAddress: '127.0.0.2' }, () => s.write(proxyFrom('192.0.2.1').subarray(0, 20)));
      s.on('error', () => {});
      s.on('close', () => resolve(true));
      setTimeout(() => resolve(false), 5_000).unref();
    });
    expect(closed).toBe(true);
    expect(performance.now() - started).toBeGreaterThanOrEqual(HEADER_TIMEOUT_MS - 20);
    expect(logs.join('\n')).toContain(`no whole header within ${HEADER_TIMEOUT_MS} ms`);
  });

  it('does not honour a header from an address that is not trusted: the TLS handshake fails', async () => {
    const outcome = await call({ localAddress: '127.0.0.1', prefix: proxyFrom('198.51.100.7') });
    expect(outcome.kind).toBe('refused');
  });

  it('serves a connection from an address that is not trusted as its own, as without a balancer', async () => {
    expect(await call({ localAddress: '127.0.0.1' })).toEqual({ kind: 'answered', status: 200, body: { client: '127.0.0.1' } });
  });
});

describe('the gateway listener draining (a SIGTERM behind a balancer)', () => {
  it('keeps answering, each answer closing its connection, so that the next request comes back through the balancer', async () => {
    const fx = await createTlsFixtures();
    const listener = await startTlsListener({
      host: '127.0.0.1',
      port: 0,
      tls: { certificatePem: fx.server.certificatePem, privateKeyPem: fx.server.privateKeyPem, caCertificatePem: fx.caCertificatePem },
      log: createLogger('silent'),
      answer: async () => ({ status: 200, body: '{}', contentType: 'application/json' }),
    });
    const agent = new Agent({ keepAlive: true, ca: fx.caCertificatePem });
    const get = () =>
      new Promise<{ status: number; connection: string | undefined }>((resolve, reject) => {
        request({ host: '127.0.0.1', port: listener.port, path: '/', agent, servername: 'localhost' }, (res) => {
          res.resume();
          res.on('end', () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection }));
        })
          .on('error', reject)
          .end();
      });
    try {
      expect(await get()).toEqual({ status: 200, connection: 'keep-alive' });
      listener.drain();
      expect(await get()).toEqual({ status: 200, connection: 'close' });
      expect(await get()).toEqual({ status: 200, connection: 'close' });
    } finally {
      agent.destroy();
      await listener.close();
    }
  });
});
