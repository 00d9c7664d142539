import { generateKeyPairSync, randomBytes, webcrypto, type KeyObject } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { Agent, request } from 'node:https';
import { isIP } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { compactDecrypt } from 'jose';
import { describeCertificate } from '../pki/index.js';
// The configured @peculiar/x509 (Reflect polyfill loaded, Node's WebCrypto as provider).
import { x509 } from '../pki/x509-provider.js';

/** AgentKeyType is the kind of key pair an agent holds. */
export type AgentKeyType = 'RSA-2048' | 'EC-P256' | 'EC-P384';

/** CertificateChoice is what the agent presents in the TLS handshake: its issued certificate, a self-signed one for its own key, none, or any given pair. */
export type CertificateChoice = 'issued' | 'self-signed' | 'none' | { certPem: string; keyPem: string };

/** AgentResponse is one gateway answer: JSON bodies parsed, PEM and JWE bodies as text. */
export interface AgentResponse {
  status: number;
  body: unknown;
  headers: IncomingHttpHeaders;
  /** sessionReused is true when the connection that carried this request resumed an earlier TLS session. */
  sessionReused: boolean;
  /** tlsProtocol is the negotiated version, e.g. TLSv1.3. */
  tlsProtocol: string | null;
}

/** ConnectOptions chooses the certificate and the identity an agent claims on connect and scan-results. */
export interface ConnectOptions {
  /** Default: the issued certificate once useCertificate was called, else a self-signed one (what a pending agent presents). */
  cert?: CertificateChoice;
  agentVersion?: string;
  agentId?: string;
}

/** SecureDataOptions is ConnectOptions plus where the identity goes (query string by default, or x-agent-* headers); agentVersion null sends none. */
export interface SecureDataOptions {
  cert?: CertificateChoice;
  agentId?: string;
  agentVersion?: string | null;
  via?: 'query' | 'headers';
}

/** RawOptions is for requests the agent would never make itself (attack and edge-case tests). */
export interface RawOptions {
  cert?: CertificateChoice;
  /** chunked sends the body with Transfer-Encoding: chunked instead of a Content-Length. */
  chunked?: boolean;
}

export interface AgentClientOptions {
  gatewayUrl: string;
  /** The core CA, PEM: the gateway's certificate must chain to it. */
  caCertificatePem: string;
  agentId: string;
  deviceName?: string;
  agentVersion?: string;
  keyType?: AgentKeyType;
  /** An existing key pair (e.g. loaded from disk); a new one of keyType is made otherwise. */
  keyPair?: { privateKey: KeyObject; publicKey: KeyObject };
  /** The issued certificate, if the agent already has one. */
  certificatePem?: string;
  /** The name checked against the gateway's certificate; default: the URL's host name (IP addresses are checked as IP addresses). */
  servername?: string;
  maxTlsVersion?: 'TLSv1.2' | 'TLSv1.3';
  /** Per-request timeout in milliseconds (default 15 s). */
  timeoutMs?: number;
}

/** AgentClient speaks the agent protocol of DESIGN.md over mutual TLS, with keep-alive and TLS session resumption. */
export interface AgentClient {
  readonly agentId: string;
  readonly deviceName: string;
  readonly agentVersion: string;
  readonly keyType: AgentKeyType;
  readonly keyPair: { privateKey: KeyObject; publicKey: KeyObject };
  /** certificatePem is the issued certificate set by useCertificate, or null. */
  readonly certificatePem: string | null;
  /** privateKeyPem exports the agent's key as PKCS#8 PEM (for saving it, or for a TLS client). */
  privateKeyPem(): string;
  /** csrPem makes a PKCS#10 request with subject CN=agentId, signed by the agent's key. */
  csrPem(): Promise<string>;
  /** selfSignedCertificate is a self-signed certificate for the agent's key (made once, then reused). */
  selfSignedCertificate(): Promise<string>;
  /** useCertificate makes pem the certificate presented by default. */
  useCertificate(pem: string): void;
  enroll(opts?: { csrPem?: string; clientCert?: { certPem: string; keyPem: string } }): Promise<AgentResponse>;
  /** poll reads the agent's request, proving its key over TLS (its certificate once it has one, else a self-signed one of the requested key). */
  poll(requestId: string, opts?: { cert?: CertificateChoice }): Promise<AgentResponse>;
  connect(opts?: ConnectOptions): Promise<AgentResponse>;
  scanResults(opts?: ConnectOptions): Promise<AgentResponse>;
  secureData(name: string, opts?: SecureDataOptions): Promise<AgentResponse>;
  /** decrypt opens a JWE compact body from secure-data with the agent's private key. */
  decrypt(jwe: string): Promise<string>;
  raw(method: string, path: string, body?: Buffer | string, headers?: Record<string, string>, opts?: RawOptions): Promise<AgentResponse>;
  /** dropConnections closes the kept-alive sockets but keeps the cached TLS sessions, so the next request resumes one. */
  dropConnections(): void;
  /** close drops every socket and forgets the cached sessions. */
  close(): void;
}

const DEFAULT_AGENT_VERSION = '2024.1';
const DEFAULT_TIMEOUT_MS = 15_000;

/** createAgentClient makes an agent with a key of its own (or the given one) talking to gatewayUrl. */
export function createAgentClient(opts: AgentClientOptions): AgentClient {
  const base = new URL(opts.gatewayUrl);
  if (base.protocol !== 'https:') throw new RangeError(`gateway URL must be https: ${opts.gatewayUrl}`);
  const host = base.hostname.replace(/^\[(.*)\]$/, '$1');
  const port = base.port === '' ? 443 : Number(base.port);
  const servername = opts.servername ?? (isIP(host) === 0 ? host : undefined);
  const keyPair = opts.keyPair ?? generateAgentKeyPair(opts.keyType ?? 'EC-P256');
  const keyType = keyTypeOf(keyPair.privateKey);
  const keyPem = keyPair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const agentVersion = opts.agentVersion ?? DEFAULT_AGENT_VERSION;
  const deviceName = opts.deviceName ?? opts.agentId;
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  let certificatePem: string | null = opts.certificatePem ?? null;
  let selfSigned: Promise<string> | null = null;
  let cryptoKeys: Promise<webcrypto.CryptoKeyPair> | null = null;

  // One https.Agent: its pool and session cache are keyed by the TLS options, cert and key included, so
  // identities never share a socket or a session, and a reconnect with the same identity resumes.
  let httpsAgent = newHttpsAgent();
  function newHttpsAgent(): Agent {
    return new Agent({ keepAlive: true, maxCachedSessions: 100, maxSockets: 16 });
  }

  const signKeys = () => (cryptoKeys ??= toCryptoKeyPair(keyPair, keyType));

  async function resolveCert(choice: CertificateChoice): Promise<{ cert?: string; key?: string }> {
    if (choice === 'none') return {};
    if (choice === 'issued') {
      if (certificatePem === null) throw new Error('this agent has no issued certificate yet (call useCertificate first)');
      return { cert: certificatePem, key: keyPem };
    }
    if (choice === 'self-signed') return { cert: await client.selfSignedCertificate(), key: keyPem };
    return { cert: choice.certPem, key: choice.keyPem };
  }

  const defaultCert = (): CertificateChoice => (certificatePem !== null ? 'issued' : 'self-signed');

  async function send(method: string, path: string, body: Buffer | string | undefined, headers: Record<string, string>, o: RawOptions): Promise<AgentResponse> {
    const tlsIdentity = await resolveCert(o.cert ?? 'none');
    const hasHeader = (name: string) => Object.keys(headers).some((k) => k.toLowerCase() === name);
    // Node frames a body on GET/DELETE only when told its length: without it the body would read as the next request.
    if (body !== undefined && !hasHeader('content-length') && !hasHeader('transfer-encoding')) {
      headers = { ...headers, ...(o.chunked ? { 'transfer-encoding': 'chunked' } : { 'content-length': String(Buffer.byteLength(body)) }) };
    }
    return new Promise<AgentResponse>((resolve, reject) => {
      const req = request({
        agent: httpsAgent,
        host,
        port,
        method,
        path,
        headers,
        ca: opts.caCertificatePem,
        servername,
        minVersion: 'TLSv1.2',
        maxVersion: opts.maxTlsVersion,
        ...tlsIdentity,
      });
      req.setTimeout(timeoutMs, () => req.destroy(new Error(`gateway did not answer ${method} ${path} within ${timeoutMs} ms`)));
      req.on('error', reject);
      req.on('response', (res) => {
        const socket = res.socket as TLSSocket;
        const sessionReused = socket.isSessionReused();
        const tlsProtocol = socket.getProtocol();
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown = text;
          if (/^application\/json\b/i.test(res.headers['content-type'] ?? '')) {
            try {
              parsed = JSON.parse(text);
            } catch {
              parsed = text;
            }
          }
          resolve({ status: res.statusCode ?? 0, body: parsed, headers: res.headers, sessionReused, tlsProtocol });
        });
      });
      if (body === undefined) {
        req.end();
      } else if (o.chunked) {
        const buf = Buffer.from(body);
        for (let i = 0; i < buf.length; i += 16 * 1024) req.write(buf.subarray(i, i + 16 * 1024));
        req.end();
      } else {
        req.end(body);
      }
    });
  }

  const postJson = (path: string, value: unknown, cert: CertificateChoice) =>
    send('POST', path, JSON.stringify(value), { 'content-type': 'application/json' }, { cert });

  const client: AgentClient = {
    agentId: opts.agentId,
    deviceName,
    agentVersion,
    keyType,
    keyPair,
    get certificatePem() {
      return certificatePem;
    },
    privateKeyPem: () => keyPem,
    async csrPem() {
      const csr = await x509.Pkcs10CertificateRequestGenerator.create({
        // Typed value, so characters like ',' or '+' in an agent id are taken literally, not parsed as DN syntax.
        name: new x509.Name([{ CN: [{ utf8String: opts.agentId }] }]),
        keys: await signKeys(),
        signingAlgorithm: signingAlgorithm(keyType),
      });
      return csr.toString('pem');
    },
    selfSignedCertificate() {
      selfSigned ??= (async () => {
        const now = Date.now();
        const cert = await x509.X509CertificateGenerator.createSelfSigned({
          serialNumber: randomSerial(),
          name: new x509.Name([{ CN: [{ utf8String: opts.agentId }] }]),
          notBefore: new Date(now - 5 * 60_000),
          notAfter: new Date(now + 365 * 24 * 3600_000),
          keys: await signKeys(),
          signingAlgorithm: signingAlgorithm(keyType),
          extensions: [
            new x509.BasicConstraintsExtension(false, undefined, true),
            new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
            new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth]),
          ],
        });
        return cert.toString('pem');
      })();
      return selfSigned;
    },
    useCertificate(pem) {
      certificatePem = pem;
    },
    async enroll(o = {}) {
      const csrPem = o.csrPem ?? (await client.csrPem());
      return postJson('/agent/v1/enroll', { agentId: opts.agentId, deviceName, agentVersion, csrPem }, o.clientCert ?? 'none');
    },
    poll(requestId, o = {}) {
      return send('GET', `/agent/v1/enroll/${encodeURIComponent(requestId)}`, undefined, {}, { cert: o.cert ?? defaultCert() });
    },
    connect(o = {}) {
      return postJson('/agent/v1/connect', { agentId: o.agentId ?? opts.agentId, agentVersion: o.agentVersion ?? agentVersion }, o.cert ?? defaultCert());
    },
    scanResults(o = {}) {
      return postJson('/agent/v1/scan-results', { agentId: o.agentId ?? opts.agentId, agentVersion: o.agentVersion ?? agentVersion }, o.cert ?? defaultCert());
    },
    secureData(name, o = {}) {
      const id = o.agentId ?? opts.agentId;
      const version = o.agentVersion === undefined ? agentVersion : o.agentVersion;
      let path = `/agent/v1/secure-data/${encodeURIComponent(name)}`;
      const headers: Record<string, string> = {};
      if (o.via === 'headers') {
        headers['x-agent-id'] = id;
        if (version !== null) headers['x-agent-version'] = version;
      } else {
        const query = new URLSearchParams({ agentId: id });
        if (version !== null) query.set('agentVersion', version);
        path += `?${query.toString()}`;
      }
      return send('GET', path, undefined, headers, { cert: o.cert ?? defaultCert() });
    },
    async decrypt(jwe) {
      const { plaintext } = await compactDecrypt(jwe, keyPair.privateKey);
      return new TextDecoder().decode(plaintext);
    },
    raw(method, path, body, headers = {}, o = {}) {
      return send(method, path, body, headers, o);
    },
    dropConnections() {
      // destroy() ends the pooled sockets; the agent's session cache survives it.
      httpsAgent.destroy();
    },
    close() {
      httpsAgent.destroy();
      httpsAgent = newHttpsAgent();
    },
  };
  return client;
}

/** fetchCaCertificate reads GET /agent/v1/ca without verifying the gateway (trust on first use): compare its fingerprint out of band. */
export async function fetchCaCertificate(gatewayUrl: string, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<{ pem: string; fingerprint: string }> {
  const url = new URL('/agent/v1/ca', gatewayUrl);
  if (url.protocol !== 'https:') throw new RangeError(`gateway URL must be https: ${gatewayUrl}`);
  const text = await new Promise<{ status: number; body: string }>((resolve, reject) => {
    // Nothing secret is sent and the answer is checked by its fingerprint, so no CA is needed yet.
    const req = request(url, { method: 'GET', rejectUnauthorized: false, minVersion: 'TLSv1.2', agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`gateway did not answer GET /agent/v1/ca within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
  if (text.status !== 200) throw new Error(`GET /agent/v1/ca answered HTTP ${text.status}`);
  return { pem: text.body, fingerprint: certificateFingerprint(text.body) };
}

/** certificateFingerprint is the SHA-256 of a PEM certificate's DER, lower-case hex without colons (as securitySettings shows it). */
export function certificateFingerprint(pem: string): string {
  return describeCertificate(pem).fingerprint;
}

/** generateAgentKeyPair makes a new key pair of the given type. */
export function generateAgentKeyPair(keyType: AgentKeyType): { privateKey: KeyObject; publicKey: KeyObject } {
  switch (keyType) {
    case 'RSA-2048':
      return generateKeyPairSync('rsa', { modulusLength: 2048 });
    case 'EC-P256':
      return generateKeyPairSync('ec', { namedCurve: 'P-256' });
    case 'EC-P384':
      return generateKeyPairSync('ec', { namedCurve: 'P-384' });
  }
}

/** keyTypeOf names the type of a key pair this client can use, or throws for any other key. */
export function keyTypeOf(key: KeyObject): AgentKeyType {
  const details = key.asymmetricKeyDetails ?? {};
  if (key.asymmetricKeyType === 'rsa' && details.modulusLength === 2048) return 'RSA-2048';
  if (key.asymmetricKeyType === 'ec' && details.namedCurve === 'prime256v1') return 'EC-P256';
  if (key.asymmetricKeyType === 'ec' && details.namedCurve === 'secp384r1') return 'EC-P384';
  throw new RangeError(`unsupported agent key: ${key.asymmetricKeyType} ${JSON.stringify(details)}`);
}

function signingAlgorithm(keyType: AgentKeyType): webcrypto.RsaHashedImportParams | webcrypto.EcdsaParams {
  if (keyType === 'RSA-2048') return { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
  return { name: 'ECDSA', hash: keyType === 'EC-P384' ? 'SHA-384' : 'SHA-256' };
}

// Node 20 has no KeyObject.toCryptoKey: go through PKCS#8/SPKI DER.
async function toCryptoKeyPair(pair: { privateKey: KeyObject; publicKey: KeyObject }, keyType: AgentKeyType): Promise<webcrypto.CryptoKeyPair> {
  const alg: webcrypto.RsaHashedImportParams | webcrypto.EcKeyImportParams =
    keyType === 'RSA-2048'
      ? { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }
      : { name: 'ECDSA', namedCurve: keyType === 'EC-P384' ? 'P-384' : 'P-256' };
  const privateKey = await webcrypto.subtle.importKey('pkcs8', pair.privateKey.export({ type: 'pkcs8', format: 'der' }), alg, false, ['sign']);
  const publicKey = await webcrypto.subtle.importKey('spki', pair.publicKey.export({ type: 'spki', format: 'der' }), alg, true, ['verify']);
  return { privateKey, publicKey };
}

function randomSerial(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] & 0x7f) | 0x01;
  return bytes.toString('hex');
}
