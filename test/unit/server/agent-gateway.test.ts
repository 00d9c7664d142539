import { X509Certificate } from 'node:crypto';
import { connect as netConnect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { DrizzleQueryError } from 'drizzle-orm/errors';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/logger.js';
import { encryptForCertificate } from '../../../src/pki/index.js';
import { startAgentGateway, MAX_BODY_BYTES, type AgentGatewayServices } from '../../../src/server/agent-gateway/index.js';
import { AppError, badInput } from '../../../src/services/app-error.js';
import { createAgent, errorOf, type TestAgent } from '../../support/agent.js';
import { createTlsFixtures, type IssuedPair, type TlsFixtures } from '../../support/tls-fixtures.js';
import { logsWith, parseLogs } from '../../support/logs.js';

type Call = { method: keyof AgentGatewayServices; input: unknown };

/** FakeServices records every call; each test swaps in the behaviour it needs. */
function createFakeServices(caPem: string) {
  const calls: Call[] = [];
  const defaults = {
    currentCrlPem: async () => '-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n',
    enroll: async () => ({ requestId: 'req-1', status: 'PENDING' as const }),
    getEnrollment: async (): Promise<Awaited<ReturnType<AgentGatewayServices['getEnrollment']>>> => ({ status: 'PENDING' }),
    authenticate: async (): Promise<Awaited<ReturnType<AgentGatewayServices['authenticate']>>> => ({
      httpStatus: 200,
      status: 'AUTHENTICATION_SUCCEEDED',
      reason: null,
    }),
    fetchSecureData: async (): Promise<Awaited<ReturnType<AgentGatewayServices['fetchSecureData']>>> => ({
      kind: 'jwe',
      body: 'eyJhbGciOiJFQ0RILUVTIn0..iv.ct.tag',
    }),
  };
  const impl = { ...defaults };
  const services: AgentGatewayServices = {
    caCertificatePem: () => caPem,
    currentCrlPem: () => {
      calls.push({ method: 'currentCrlPem', input: null });
      return impl.currentCrlPem();
    },
    enroll: (input) => {
      calls.push({ method: 'enroll', input });
      return impl.enroll();
    },
    getEnrollment: (requestId, presentedCertificate) => {
      calls.push({ method: 'getEnrollment', input: { requestId, presentedCertificate } });
      return impl.getEnrollment();
    },
    authenticate: (input) => {
      calls.push({ method: 'authenticate', input });
      return impl.authenticate();
    },
    fetchSecureData: (input) => {
      calls.push({ method: 'fetchSecureData', input });
      return impl.fetchSecureData();
    },
  };
  return {
    services,
    calls,
    impl,
    reset() {
      calls.length = 0;
      Object.assign(impl, defaults);
    },
    last<T = Record<string, unknown>>(method: keyof AgentGatewayServices): T {
      const found = calls.filter((c) => c.method === method).at(-1);
      if (!found) throw new Error(`no call to ${method}`);
      return found.input as T;
    },
  };
}

let fx: TlsFixtures;
let fake: ReturnType<typeof createFakeServices>;
let gateway: Awaited<ReturnType<typeof startAgentGateway>>;
let agent: TestAgent;
let issued: IssuedPair;
const logs: string[] = [];
const agents: TestAgent[] = [];

function newAgent(opts: Partial<Parameters<typeof createAgent>[0]> = {}): TestAgent {
  const a = createAgent({ gatewayUrl: gateway.url, caCertificatePem: fx.caCertificatePem, agentId: 'agent-1', deviceName: 'PC-1', ...opts });
  agents.push(a);
  return a;
}

const JSON_HEADERS = { 'content-type': 'application/json' };

beforeAll(async () => {
  fx = await createTlsFixtures();
  fake = createFakeServices(fx.caCertificatePem);
  gateway = await startAgentGateway({
    host: '127.0.0.1',
    port: 0,
    tls: { certificatePem: fx.server.certificatePem, privateKeyPem: fx.server.privateKeyPem, caCertificatePem: fx.caCertificatePem },
    services: fake.services,
    log: createLogger('debug', (line) => logs.push(line)),
  });
  agent = newAgent();
  issued = await fx.issueClient('agent-1', agent.keyPair.publicKey);
  agent.useCertificate(issued.certPem);
});

afterAll(async () => {
  for (const a of agents) a.close();
  await gateway?.close();
});

beforeEach(() => fake.reset());

describe('routes', () => {
  it('serves the CA certificate as PEM to anyone, without a client certificate', async () => {
    const res = await agent.raw('GET', '/agent/v1/ca');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/x-pem-file');
    expect(res.body).toBe(fx.caCertificatePem);
  });

  it('answers HEAD on the CA like GET, without a body', async () => {
    const res = await agent.raw('HEAD', '/agent/v1/ca');
    expect(res.status).toBe(200);
    expect(res.body).toBe('');
  });

  it('serves the current CRL as PEM', async () => {
    const res = await agent.raw('GET', '/agent/v1/crl');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/x-pem-file');
    expect(res.body).toContain('BEGIN X509 CRL');
  });

  it('enrolls with 202 and passes every field, the remote address and no certificate', async () => {
    const csrPem = await agent.csrPem();
    const res = await agent.enroll({ csrPem });
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ requestId: 'req-1', status: 'PENDING' });
    expect(fake.last('enroll')).toEqual({
      agentId: 'agent-1',
      deviceName: 'PC-1',
      agentVersion: '2024.1',
      csrPem,
      remoteAddress: '127.0.0.1',
      presentedCertificate: null,
    });
  });

  it('makes a PKCS#10 request with CN = agent id for each key type', async () => {
    for (const keyType of ['RSA-2048', 'EC-P256', 'EC-P384'] as const) {
      const a = newAgent({ agentId: `k-${keyType}`, keyType });
      const csr = await a.csrPem();
      expect(csr).toMatch(/^-----BEGIN CERTIFICATE REQUEST-----/);
      expect(a.keyType).toBe(keyType);
      const self = new X509Certificate(await a.selfSignedCertificate());
      expect(self.subject).toBe(`CN=k-${keyType}`);
      expect(self.publicKey.equals(a.keyPair.publicKey)).toBe(true);
    }
  });

  it('returns the enrollment with only the fields the service gave, the request id URL-decoded, with the certificate presented', async () => {
    fake.impl.getEnrollment = async () => ({ status: 'APPROVED', certificatePem: 'CERT', caCertificatePem: 'CA' });
    const approved = await agent.poll('r 1/é');
    expect(approved.status).toBe(200);
    expect(approved.body).toEqual({ status: 'APPROVED', certificatePem: 'CERT', caCertificatePem: 'CA' });
    const input = fake.last<{ requestId: string; presentedCertificate: Buffer }>('getEnrollment');
    expect(input.requestId).toBe('r 1/é');
    // The service decides whether that certificate's key is the requested one.
    expect(input.presentedCertificate.equals(issued.der)).toBe(true);

    fake.impl.getEnrollment = async () => ({ status: 'PENDING' });
    const pending = await agent.poll('req-1');
    expect(pending.body).toEqual({ status: 'PENDING' });
  });

  it.each([
    ['connect', '/agent/v1/connect', 'SECURE_CONNECTION'],
    ['scan-results', '/agent/v1/scan-results', 'SECURITY_SCANNER'],
  ] as const)('%s answers with the status and body that authenticate decided', async (_name, path, source) => {
    // The fake's answer is the service's own type (AgentGatewayServices is derived from it): a reason is a FailureReason.
    fake.impl.authenticate = async () => ({ httpStatus: 403, status: 'AUTHENTICATION_FAILED', reason: 'CERTIFICATE_REVOKED' });
    const res = await agent.raw('POST', path, JSON.stringify({ agentId: 'agent-1', agentVersion: '9.6' }), JSON_HEADERS);
    expect(res.status).toBe(403);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.body).toEqual({ status: 'AUTHENTICATION_FAILED', reason: 'CERTIFICATE_REVOKED' });
    expect(fake.last('authenticate')).toEqual({ source, agentId: 'agent-1', agentVersion: '9.6', presentedCertificate: null, chainVerifiedByTls: false, remoteAddress: '127.0.0.1' });
  });

  it('serves secure data as application/jose, identity from the query string', async () => {
    const res = await agent.secureData('patch-credentials', { cert: 'issued' });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/jose');
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.body).toBe('eyJhbGciOiJFQ0RILUVTIn0..iv.ct.tag');
    const input = fake.last<{ presentedCertificate: Buffer }>('fetchSecureData');
    expect(input).toMatchObject({ agentId: 'agent-1', agentVersion: '2024.1', name: 'patch-credentials' });
    expect(input.presentedCertificate.equals(issued.der)).toBe(true);
  });

  it.each(['RSA-2048', 'EC-P256', 'EC-P384'] as const)('an %s agent decrypts the JWE the core encrypts to its certificate', async (keyType) => {
    const a = newAgent({ agentId: `jwe-${keyType}`, keyType });
    const pair = await fx.issueClient(a.agentId, a.keyPair.publicKey);
    a.useCertificate(pair.certPem);
    fake.impl.fetchSecureData = async () => ({ kind: 'jwe', body: await encryptForCertificate('s3cret value', pair.certPem) });
    const res = await a.secureData('creds');
    expect(res.status).toBe(200);
    expect(await a.decrypt(res.body as string)).toBe('s3cret value');
  });

  it('serves legacy secure data as JSON {name, value}, identity from x-agent-* headers, no version → null', async () => {
    fake.impl.fetchSecureData = async () => ({ kind: 'legacy', value: 'clear' });
    const res = await agent.secureData('a name/with slash', { via: 'headers', agentVersion: null, cert: 'none' });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ name: 'a name/with slash', value: 'clear' });
    expect(fake.last('fetchSecureData')).toEqual({
      agentId: 'agent-1',
      agentVersion: null,
      name: 'a name/with slash',
      presentedCertificate: null,
      chainVerifiedByTls: false,
      remoteAddress: '127.0.0.1',
    });
  });

  it.each([
    ['no agent id at all', '/agent/v1/secure-data/x', {}, 'agentId is required'],
    ['the agent id twice', '/agent/v1/secure-data/x?agentId=a&agentId=b', {}, 'agentId must be given once'],
    ['query and header disagreeing', '/agent/v1/secure-data/x?agentId=a', { 'x-agent-id': 'b' }, 'disagree'],
  ])('refuses secure data with %s (400)', async (_case, path, headers, message) => {
    const res = await agent.raw('GET', path, undefined, headers);
    expect(res.status).toBe(400);
    expect(errorOf(res.body)).toEqual({ code: 'BAD_USER_INPUT', message: expect.stringContaining(message) });
    expect(fake.calls).toHaveLength(0);
  });

  it('limits path parameters after decoding: requestId to 32 characters, name to 128', async () => {
    expect((await agent.poll('r'.repeat(32))).status).toBe(200);
    const longId = await agent.poll('r'.repeat(33));
    expect(longId.status).toBe(400);
    expect(errorOf(longId.body).message).toContain('requestId');
    // 32 characters that take 96 bytes encoded are still 32 characters.
    expect((await agent.poll('é'.repeat(32))).status).toBe(200);

    expect((await agent.secureData('n'.repeat(128))).status).toBe(200);
    const longName = await agent.secureData('n'.repeat(129));
    expect(longName.status).toBe(400);
    expect(errorOf(longName.body).message).toContain('name');
    expect(fake.calls.map((c) => c.method)).toEqual(['getEnrollment', 'getEnrollment', 'fetchSecureData']);
  });

  it('refuses a parameter that is not valid percent-encoding (400)', async () => {
    const res = await agent.raw('GET', '/agent/v1/enroll/%E0%A4%A');
    expect(res.status).toBe(400);
    expect(errorOf(res.body).code).toBe('BAD_USER_INPUT');
  });

  it.each(['/', '/agent/v1', '/agent/v1/ca/', '/agent/v1/enroll/', '/agent/v1/enroll/a/b', '/agent/v2/ca', '/AGENT/V1/CA', '/agent/v1/secure-data'])(
    'answers 404 NOT_FOUND in JSON for %s',
    async (path) => {
      const res = await agent.raw('GET', path);
      expect(res.status).toBe(404);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(errorOf(res.body).code).toBe('NOT_FOUND');
    },
  );

  it.each([
    ['POST', '/agent/v1/ca', 'GET, HEAD'],
    ['DELETE', '/agent/v1/enroll/req-1', 'GET'],
    ['GET', '/agent/v1/connect', 'POST'],
    ['PUT', '/agent/v1/scan-results', 'POST'],
    ['HEAD', '/agent/v1/secure-data/x', 'GET'],
  ])('answers 405 to %s %s with Allow: %s', async (method, path, allow) => {
    const res = await agent.raw(method, path, method === 'HEAD' || method === 'GET' ? undefined : '{}', JSON_HEADERS);
    expect(res.status).toBe(405);
    expect(res.headers.allow).toBe(allow);
    if (method !== 'HEAD') expect(errorOf(res.body).code).toBe('METHOD_NOT_ALLOWED');
    expect(fake.calls).toHaveLength(0);
  });
});

describe('request bodies', () => {
  // A connect body padded with an ignored field to exactly `size` bytes.
  function bodyOfSize(size: number): string {
    const head = '{"agentId":"agent-1","agentVersion":"2024.1","pad":"';
    const tail = '"}';
    return head + 'x'.repeat(size - head.length - tail.length) + tail;
  }

  it('accepts a body of exactly 64 KiB', async () => {
    const body = bodyOfSize(MAX_BODY_BYTES);
    expect(Buffer.byteLength(body)).toBe(64 * 1024);
    const res = await agent.raw('POST', '/agent/v1/connect', body, JSON_HEADERS);
    expect(res.status).toBe(200);
    expect(fake.last('authenticate')).toMatchObject({ agentId: 'agent-1' });
  });

  it.each([false, true])('refuses one byte more with 413 and closes the connection (chunked: %s)', async (chunked) => {
    const res = await agent.raw('POST', '/agent/v1/connect', bodyOfSize(MAX_BODY_BYTES + 1), JSON_HEADERS, { chunked });
    expect(res.status).toBe(413);
    expect(res.headers.connection).toBe('close');
    expect(errorOf(res.body)).toEqual({ code: 'BAD_USER_INPUT', message: 'request body is larger than 65536 bytes' });
    expect(fake.calls).toHaveLength(0);
  });

  it('stops reading a huge body instead of buffering it (413 or a closed connection, never a call)', async () => {
    for (const chunked of [false, true]) {
      const outcome = await agent
        .raw('POST', '/agent/v1/connect', Buffer.alloc(8 * 1024 * 1024, 0x20), JSON_HEADERS, { chunked })
        .then((res) => res.status, (err: NodeJS.ErrnoException) => err.code);
      expect([413, 'ECONNRESET', 'EPIPE']).toContain(outcome);
    }
    expect(fake.calls).toHaveLength(0);
  });

  it.each([
    ['text/plain', 'text/plain'],
    ['no content type', undefined],
    ['a charset other than UTF-8', 'application/json; charset=latin1'],
    ['a JSON look-alike', 'application/jsonx'],
  ])('refuses %s with 415 BAD_USER_INPUT', async (_case, contentType) => {
    const headers: Record<string, string> = contentType ? { 'content-type': contentType } : {};
    const res = await agent.raw('POST', '/agent/v1/connect', JSON.stringify({ agentId: 'a', agentVersion: '2024.1' }), headers);
    expect(res.status).toBe(415);
    expect(errorOf(res.body).code).toBe('BAD_USER_INPUT');
    expect(fake.calls).toHaveLength(0);
  });

  it('accepts application/json with a UTF-8 charset parameter', async () => {
    const res = await agent.raw('POST', '/agent/v1/connect', JSON.stringify({ agentId: 'a', agentVersion: '2024.1' }), {
      'content-type': 'Application/JSON; charset=UTF-8',
    });
    expect(res.status).toBe(200);
  });

  it.each([
    ['garbage', 'not json at all', 'not valid JSON'],
    ['truncated JSON', '{"agentId":"agent-1","agentVer', 'not valid JSON'],
    ['an empty body', '', 'not valid JSON'],
    ['an array', '[]', 'must be a JSON object'],
    ['null', 'null', 'must be a JSON object'],
    ['a string', '"agent-1"', 'must be a JSON object'],
    ['invalid UTF-8', Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]), 'not valid UTF-8'],
  ])('refuses %s with 400 BAD_USER_INPUT', async (_case, body, message) => {
    const res = await agent.raw('POST', '/agent/v1/connect', body, JSON_HEADERS);
    expect(res.status).toBe(400);
    expect(errorOf(res.body)).toEqual({ code: 'BAD_USER_INPUT', message: expect.stringContaining(message) });
    expect(fake.calls).toHaveLength(0);
  });

  it.each([
    ['/agent/v1/connect', { agentVersion: '2024.1' }, 'field "agentId" is required'],
    ['/agent/v1/connect', { agentId: 7, agentVersion: '2024.1' }, 'field "agentId" must be a string'],
    ['/agent/v1/connect', { agentId: 'a', agentVersion: null }, 'field "agentVersion" is required'],
    ['/agent/v1/scan-results', { agentId: 'a', agentVersion: ['2024.1'] }, 'field "agentVersion" must be a string'],
    ['/agent/v1/enroll', { agentId: 'a', deviceName: 'PC', agentVersion: '2024.1' }, 'field "csrPem" is required'],
    ['/agent/v1/enroll', { agentId: 'a', deviceName: { x: 1 }, agentVersion: '2024.1', csrPem: 'x' }, 'field "deviceName" must be a string'],
    // An inherited-looking key is still just an own property named __proto__: it cannot supply agentId.
    ['/agent/v1/connect', JSON.parse('{"__proto__":{"agentId":"a"},"agentVersion":"1"}'), 'field "agentId" is required'],
  ])('refuses a missing or mistyped field on %s, naming it', async (path, body, message) => {
    const res = await agent.raw('POST', path, JSON.stringify(body), JSON_HEADERS);
    expect(res.status).toBe(400);
    expect(errorOf(res.body)).toEqual({ code: 'BAD_USER_INPUT', message });
    expect(fake.calls).toHaveLength(0);
  });

  it('answers a malformed HTTP request with a JSON 400', async () => {
    const text = await new Promise<string>((resolve, reject) => {
      const socket = tlsConnect({ host: '127.0.0.1', port: gateway.port, ca: fx.caCertificatePem }, () => {
        socket.write('THIS IS NOT HTTP\r\n\r\n');
      });
      let received = '';
      socket.on('data', (d: Buffer) => (received += d.toString()));
      socket.on('end', () => resolve(received));
      socket.on('close', () => resolve(received));
      socket.on('error', reject);
    });
    expect(text).toMatch(/^HTTP\/1\.1 400 /);
    expect(text).toContain('"code":"BAD_USER_INPUT"');
    // Even a request Node's parser refused has an id, in its header and its body.
    const id = /\r\nx-request-id: ([0-9a-f-]{36})\r\n/.exec(text)?.[1];
    expect(id).toBeDefined();
    expect(text).toContain(`"requestId":"${id}"`);
  });
});

describe('request ids', () => {
  it('keeps a well-formed x-request-id, returns it, and logs the request under it', async () => {
    fake.impl.enroll = async () => {
      throw new AppError('CONFLICT', 'already decided');
    };
    const before = logs.length;
    const res = await agent.raw('POST', '/agent/v1/enroll', JSON.stringify({ agentId: 'a', deviceName: 'A', agentVersion: '2024.1', csrPem: 'x' }), {
      ...JSON_HEADERS,
      'x-request-id': 'lb-7f3a.9:1',
    });
    expect(res.status).toBe(409);
    expect(res.headers['x-request-id']).toBe('lb-7f3a.9:1');
    expect(res.body).toEqual({ error: { code: 'CONFLICT', message: 'already decided', requestId: 'lb-7f3a.9:1' } });
    expect(logsWith(logs.slice(before), 'agent gateway: request refused').map((l) => [l.requestId, l.code])).toEqual([['lb-7f3a.9:1', 'CONFLICT']]);
  });

  it.each([
    ['too long', 'a'.repeat(129)],
    ['with a space', 'two words'],
    ['with a quote', 'a"b'],
    ['starting with a dash', '-abc'],
  ])('makes a new id for one %s, and answers a success with its id too', async (_name, incoming) => {
    const res = await agent.raw('GET', '/agent/v1/ca', undefined, { 'x-request-id': incoming });
    expect(res.status).toBe(200);
    expect(res.headers['x-request-id']).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('gives each request its own id', async () => {
    const ids = await Promise.all([1, 2, 3].map(async () => (await agent.raw('GET', '/agent/v1/ca')).headers['x-request-id']));
    expect(new Set(ids).size).toBe(3);
  });
});

describe('client certificates', () => {
  it('passes the DER of the presented certificate to the services', async () => {
    const res = await agent.connect({ cert: 'issued' });
    expect(res.status).toBe(200);
    expect(fake.last<{ presentedCertificate: Buffer }>('authenticate').presentedCertificate.equals(issued.der)).toBe(true);
  });

  it('passes a self-signed certificate too: TLS asks for certificates but leaves verifying to the services', async () => {
    const pending = newAgent({ agentId: 'pending-1' });
    const selfSigned = new X509Certificate(await pending.selfSignedCertificate());
    const res = await pending.connect();
    expect(res.status).toBe(200);
    expect(fake.last<{ presentedCertificate: Buffer }>('authenticate').presentedCertificate.equals(selfSigned.raw)).toBe(true);
  });

  it('passes null when no certificate is presented', async () => {
    await agent.connect({ cert: 'none' });
    expect(fake.last('authenticate').presentedCertificate).toBeNull();
  });

  it('enroll passes a presented certificate as well (a renewing agent)', async () => {
    await agent.enroll({ clientCert: { certPem: issued.certPem, keyPem: agent.privateKeyPem() } });
    expect(fake.last<{ presentedCertificate: Buffer }>('enroll').presentedCertificate.equals(issued.der)).toBe(true);
  });

  it('keeps identities apart on one client: a keep-alive socket with a certificate never carries a request without one', async () => {
    await agent.connect({ cert: 'issued' });
    await agent.connect({ cert: 'none' });
    await agent.connect({ cert: 'issued' });
    const presented = fake.calls.map((c) => (c.input as { presentedCertificate: Buffer | null }).presentedCertificate);
    expect(presented.map((d) => d?.equals(issued.der) ?? null)).toEqual([true, null, true]);
  });

  it.each(['TLSv1.3', 'TLSv1.2'] as const)('a resumed %s session still carries the client certificate', async (version) => {
    const a = newAgent({ agentId: `resume-${version}`, maxTlsVersion: version, servername: 'localhost' });
    const pair = await fx.issueClient(`resume-${version}`, a.keyPair.publicKey);
    a.useCertificate(pair.certPem);

    const first = await a.connect({ cert: 'issued' });
    expect(first.tlsProtocol).toBe(version);
    expect(first.sessionReused).toBe(false);

    a.dropConnections();
    const second = await a.connect({ cert: 'issued' });
    expect(second.status).toBe(200);
    expect(second.sessionReused).toBe(true);

    const ders = fake.calls.map((c) => (c.input as { presentedCertificate: Buffer | null }).presentedCertificate);
    expect(ders).toHaveLength(2);
    expect(ders.every((d) => d !== null && d.equals(pair.der))).toBe(true);
  });

  it('a resumed session without a certificate stays without one', async () => {
    const a = newAgent({ agentId: 'anon' });
    await a.connect({ cert: 'none' });
    a.dropConnections();
    const second = await a.connect({ cert: 'none' });
    expect(second.sessionReused).toBe(true);
    expect(fake.calls.map((c) => (c.input as { presentedCertificate: unknown }).presentedCertificate)).toEqual([null, null]);
  });

  it('the client refuses a gateway whose certificate is not from the given CA', async () => {
    const other = await createTlsFixtures();
    const a = newAgent({ caCertificatePem: other.caCertificatePem });
    await expect(a.raw('GET', '/agent/v1/ca')).rejects.toThrow();
  });
});

describe('service errors', () => {
  it.each([
    [new AppError('CONFLICT', 'a request for this key is already decided'), 409, 'CONFLICT'],
    [new AppError('CSR_INVALID', 'the CSR signature does not verify'), 400, 'CSR_INVALID'],
    [new AppError('REQUEST_NOT_PENDING', 'request req-1 is REJECTED'), 409, 'REQUEST_NOT_PENDING'],
    [badInput('agentId must be 1 to 64 characters', 'agentId'), 400, 'BAD_USER_INPUT'],
    [new AppError('FORBIDDEN', 'client certificate security is on'), 403, 'FORBIDDEN'],
  ])('maps AppError %s to its HTTP status and code', async (error, status, code) => {
    fake.impl.enroll = async () => {
      throw error;
    };
    const res = await agent.enroll({ csrPem: 'x' });
    expect(res.status).toBe(status);
    expect(res.body).toEqual({ error: { code, message: error.message, requestId: res.headers['x-request-id'] } });
  });

  it.each([
    ['ENROLLMENT_RATE_LIMITED', 7],
    ['TOO_MANY_PENDING_REQUESTS', 300],
    ['PENDING_REQUESTS_FULL', 300],
  ] as const)('answers %s with 429 and the Retry-After the service asked for', async (code, seconds) => {
    fake.impl.enroll = async () => {
      throw new AppError(code, 'not now', { retryAfterSeconds: seconds });
    };
    const res = await agent.enroll({ csrPem: 'x' });
    expect([res.status, res.headers['retry-after'], res.body]).toEqual([
      429,
      String(seconds),
      { error: { code, message: 'not now', requestId: res.headers['x-request-id'] } },
    ]);
  });

  it('masks any other error as 500 INTERNAL_SERVER_ERROR and logs it whole', async () => {
    fake.impl.fetchSecureData = async () => {
      throw new Error('database password=hunter2 rejected');
    };
    const res = await agent.secureData('x');
    expect(res.status).toBe(500);
    const requestId = res.headers['x-request-id'];
    expect(res.body).toEqual({ error: { code: 'INTERNAL_SERVER_ERROR', message: 'Internal server error', requestId } });
    expect(JSON.stringify(res.body)).not.toContain('hunter2');
    const lines = logsWith(logs, 'agent gateway: request failed', 'error').filter((l) => l.requestId === requestId);
    expect(lines).toHaveLength(1);
    expect(lines[0]!.error).toMatchObject({ type: 'Error', message: 'database password=hunter2 rejected', stack: expect.stringContaining('    at ') });
  });

  // What drizzle throws over postgres.js: its own error, the driver's as cause.
  const driverFailure = (cause: Error) => new DrizzleQueryError('select id from devices where agent_id = $1', ['hunter2-agent'], cause);

  it.each([
    { name: 'a refused connection (PostgreSQL down)', error: () => driverFailure(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' })), code: 'SERVICE_UNAVAILABLE' },
    { name: 'a server shutting down (57P01)', error: () => driverFailure(Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' })), code: 'SERVICE_UNAVAILABLE' },
    { name: 'a statement cancelled by statement_timeout (57014)', error: () => driverFailure(Object.assign(new Error('canceling statement due to statement timeout'), { code: '57014' })), code: 'QUERY_TIMEOUT' },
  ])('answers $name with 503, Retry-After and $code, and logs the cause on one line without the parameters', async ({ error, code }) => {
    const before = logs.length;
    fake.impl.authenticate = async () => {
      throw error();
    };
    const res = await agent.connect({ cert: 'none' });
    expect(res.status).toBe(503);
    expect(res.headers['retry-after']).toBe('5');
    expect(errorOf(res.body).code).toBe(code);
    expect(JSON.stringify(res.body)).not.toContain('hunter2');
    const lines = logs.slice(before);
    expect(logsWith(lines, 'request failed on the database', 'warn').filter((l) => l.code === code && l.route === '/agent/v1/connect')).toHaveLength(1);
    expect(parseLogs(lines).filter((l) => l.level === 'error')).toEqual([]);
    expect(lines.join('\n')).not.toContain('hunter2');
  });

  it('answers an AppError with a 503 code with Retry-After too', async () => {
    fake.impl.enroll = async () => {
      throw new AppError('SERVICE_UNAVAILABLE', 'the database is unavailable; try again in 5 seconds');
    };
    const res = await agent.enroll({ csrPem: 'x' });
    expect([res.status, res.headers['retry-after'], res.body]).toEqual([
      503,
      '5',
      { error: { code: 'SERVICE_UNAVAILABLE', message: 'the database is unavailable; try again in 5 seconds', requestId: res.headers['x-request-id'] } },
    ]);
  });

  it('survives a service answering an impossible HTTP status: the connection is dropped and logged', async () => {
    fake.impl.authenticate = async () => ({ httpStatus: 7, status: 'WEIRD', reason: null });
    await expect(agent.connect({ cert: 'none' })).rejects.toThrow();
    expect(logs.some((l) => l.includes('could not answer a request'))).toBe(true);
  });

  it('masks a failing CRL or a rejected promise of a non-Error the same way', async () => {
    fake.impl.currentCrlPem = () => Promise.reject('a string, not an Error');
    const res = await agent.raw('GET', '/agent/v1/crl');
    expect(res.status).toBe(500);
    expect(errorOf(res.body).code).toBe('INTERNAL_SERVER_ERROR');
  });
});

describe('afterwards', () => {
  it('the gateway survived everything above: a good request still works', async () => {
    const res = await agent.connect();
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'AUTHENTICATION_SUCCEEDED', reason: null });
  });

  it('never logged a request body, CSR or certificate', () => {
    const all = logs.join('\n');
    expect(all).not.toContain('BEGIN CERTIFICATE');
    expect(all).not.toContain('PRIVATE KEY');
    expect(all).not.toContain('"agentVersion"');
    expect(all).not.toContain('xxxxxxxxxxxxxxxx');
  });
});

describe('close', () => {
  it('waits for a request in flight, ends idle keep-alive sockets, then refuses new connections', async () => {
    const own = createFakeServices(fx.caCertificatePem);
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let entered!: () => void;
    const inService = new Promise<void>((resolve) => (entered = resolve));
    own.impl.authenticate = async () => {
      entered();
      await held;
      return { httpStatus: 200, status: 'AUTHENTICATION_SUCCEEDED', reason: null };
    };
    const gw = await startAgentGateway({
      host: '127.0.0.1',
      port: 0,
      tls: { certificatePem: fx.server.certificatePem, privateKeyPem: fx.server.privateKeyPem, caCertificatePem: fx.caCertificatePem },
      services: own.services,
      log: createLogger('silent'),
    });
    const idle = createAgent({ gatewayUrl: gw.url, caCertificatePem: fx.caCertificatePem, agentId: 'idle' });
    const busy = createAgent({ gatewayUrl: gw.url, caCertificatePem: fx.caCertificatePem, agentId: 'busy' });
    agents.push(idle, busy);
    // A kept-alive socket left idle must not hold close() for the keep-alive timeout.
    expect((await idle.raw('GET', '/agent/v1/ca')).status).toBe(200);

    const inFlight = busy.connect({ cert: 'none' });
    await inService;
    const started = Date.now();
    let closed = false;
    const closing = gw.close().then(() => (closed = true));
    await new Promise((r) => setTimeout(r, 100));
    expect(closed).toBe(false);

    release();
    const res = await inFlight;
    expect(res.status).toBe(200);
    expect(res.headers.connection).toBe('close');
    await closing;
    expect(Date.now() - started).toBeLessThan(5_000);
    await expect(createAgent({ gatewayUrl: gw.url, caCertificatePem: fx.caCertificatePem, agentId: 'late' }).raw('GET', '/agent/v1/ca')).rejects.toMatchObject({
      code: 'ECONNREFUSED',
    });
  });
});

describe('slow clients', () => {
  let own: ReturnType<typeof createFakeServices>;
  let gw: Awaited<ReturnType<typeof startAgentGateway>>;

  beforeAll(async () => {
    own = createFakeServices(fx.caCertificatePem);
    gw = await startAgentGateway({
      host: '127.0.0.1',
      port: 0,
      tls: { certificatePem: fx.server.certificatePem, privateKeyPem: fx.server.privateKeyPem, caCertificatePem: fx.caCertificatePem },
      services: own.services,
      log: createLogger('silent'),
      timeouts: { handshakeMs: 300, headersMs: 300, requestMs: 600, keepAliveMs: 300, closeGraceMs: 300 },
    });
  });

  afterAll(async () => {
    await gw?.close();
  });

  // Opens a TLS connection, writes `text`, and returns what the server sent until it closed the connection.
  function holdOpen(text: string): Promise<{ received: string; ms: number }> {
    const started = Date.now();
    return new Promise((resolve, reject) => {
      const socket = tlsConnect({ host: '127.0.0.1', port: gw.port, ca: fx.caCertificatePem }, () => socket.write(text));
      let received = '';
      socket.on('data', (d: Buffer) => (received += d.toString()));
      socket.on('close', () => resolve({ received, ms: Date.now() - started }));
      socket.on('error', reject);
    });
  }

  it('cuts a client that never finishes its headers (slow loris) with a JSON 408', async () => {
    const { received, ms } = await holdOpen('POST /agent/v1/connect HTTP/1.1\r\nHost: localhost\r\nX-Slow: 1');
    expect(received).toMatch(/^HTTP\/1\.1 408 /);
    expect(received).toContain('"code":"REQUEST_TIMEOUT"');
    expect(ms).toBeLessThan(5_000);
  });

  it('cuts a client that never finishes its body, without calling a service', async () => {
    const { received, ms } = await holdOpen(
      'POST /agent/v1/connect HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"agentId":',
    );
    expect(received).toMatch(/^HTTP\/1\.1 408 /);
    expect(ms).toBeLessThan(5_000);
    expect(own.calls).toHaveLength(0);
  });

  it('drops a TCP connection that never starts the TLS handshake', async () => {
    const started = Date.now();
    await new Promise<void>((resolve, reject) => {
      const socket = netConnect({ host: '127.0.0.1', port: gw.port });
      socket.on('close', () => resolve());
      socket.on('error', reject);
    });
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('close() cuts a request that outlives the grace period', async () => {
    own.impl.authenticate = () => new Promise(() => {});
    const a = createAgent({ gatewayUrl: gw.url, caCertificatePem: fx.caCertificatePem, agentId: 'stuck' });
    agents.push(a);
    const stuck = a.connect({ cert: 'none' }).then(
      (res) => res.status,
      (err: Error) => err.message,
    );
    await new Promise((r) => setTimeout(r, 100));
    const started = Date.now();
    await gw.close();
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(await stuck).toBe('socket hang up');
  });
});
