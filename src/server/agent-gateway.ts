import { randomBytes } from 'node:crypto';
import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { plainAddress } from '../domain/addresses.js';
import { describeDatabaseError } from '../db/errors.js';
import type { Logger } from '../logger.js';
import { AppError, fromDatabaseError, RETRY_AFTER_SECONDS } from '../services/app-error.js';

/** AgentGatewayServices is everything the gateway asks of the core: it parses and checks shapes, the services check contents and certificates. */
export interface AgentGatewayServices {
  caCertificatePem(): string;
  currentCrlPem(): Promise<string>;
  enroll(input: { agentId: string; deviceName: string; agentVersion: string; csrPem: string; remoteAddress: string; presentedCertificate: Buffer | null }): Promise<{ requestId: string; status: 'PENDING' | 'APPROVED' | 'REJECTED' | 'REVOKED' }>;
  /** getEnrollment answers only a client presenting a certificate of the requested key. */
  getEnrollment(requestId: string, presentedCertificate: Buffer | null): Promise<{ status: 'PENDING' | 'APPROVED' | 'REJECTED' | 'REVOKED'; certificatePem?: string; caCertificatePem?: string }>;
  authenticate(input: { source: 'SECURE_CONNECTION' | 'SECURITY_SCANNER'; agentId: string; agentVersion: string; presentedCertificate: Buffer | null; remoteAddress: string }): Promise<{ httpStatus: number; status: string; reason: string | null }>;
  fetchSecureData(input: { agentId: string; agentVersion: string | null; name: string; presentedCertificate: Buffer | null; remoteAddress: string }): Promise<{ kind: 'jwe'; body: string } | { kind: 'legacy'; value: string }>;
}

export interface AgentGatewayOptions {
  host: string;
  port: number;
  /** The gateway's own certificate and key, and the core CA whose certificates clients are asked for. */
  tls: { certificatePem: string; privateKeyPem: string; caCertificatePem: string };
  services: AgentGatewayServices;
  log: Logger;
  /** timeouts overrides the defaults below (tests use short ones). */
  timeouts?: Partial<AgentGatewayTimeouts>;
}

/** AgentGatewayTimeouts bound how long a client may hold a connection without making progress, in milliseconds. */
export interface AgentGatewayTimeouts {
  /** TLS handshake. */
  handshakeMs: number;
  /** From connection (or the end of the previous request) to the last request header. */
  headersMs: number;
  /** From connection to the whole request, body included. */
  requestMs: number;
  /** An idle keep-alive connection. */
  keepAliveMs: number;
  /** How long close() waits for requests in flight before cutting them off. */
  closeGraceMs: number;
}

export interface RunningAgentGateway {
  port: number;
  /** url is the base, https://host:port, without a trailing slash. */
  url: string;
  /** close stops accepting, ends idle keep-alive connections and waits for requests in flight. */
  close(): Promise<void>;
}

/** MAX_BODY_BYTES is the largest request body the gateway reads (DESIGN.md, Agent protocol). */
export const MAX_BODY_BYTES = 64 * 1024;
// After refusing a body, read and drop up to this much more so the client sees the answer instead of a reset.
const DRAIN_LIMIT_BYTES = 256 * 1024;
const MAX_REQUEST_ID_CHARS = 32;
const MAX_NAME_CHARS = 128;
// Agents send small requests at once: a client slower than this is broken or a slow-loris attack.
const DEFAULT_TIMEOUTS: AgentGatewayTimeouts = {
  handshakeMs: 10_000,
  headersMs: 10_000,
  requestMs: 30_000,
  keepAliveMs: 30_000,
  closeGraceMs: 10_000,
};
// Services check the certificate on every request (chain, revocation, validity), so a resumed session grants
// nothing a full handshake would not: resumption only saves the handshake, and may last an hour.
const SESSION_TIMEOUT_SECONDS = 3600;
// At most 32 bytes (SSL_MAX_SID_CTX_LENGTH); it scopes session-ID resumption to this service.
const SESSION_ID_CONTEXT = 'certfleet-agent-gateway-v1';

type EnrollmentStatus = 'PENDING' | 'APPROVED' | 'REJECTED' | 'REVOKED';

/** GatewayError is a refusal by the transport itself (route, method, body shape), answered like an AppError. */
class GatewayError extends Error {
  constructor(
    readonly httpStatus: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'GatewayError';
  }
}

/** ClientGone means the client went away before its request was read; there is nobody to answer. */
class ClientGone extends Error {}

const badInput = (message: string) => new GatewayError(400, 'BAD_USER_INPUT', message);
const tooLarge = () => new GatewayError(413, 'BAD_USER_INPUT', `request body is larger than ${MAX_BODY_BYTES} bytes`);

interface Reply {
  status: number;
  body: string;
  contentType: string;
  headers?: Record<string, string>;
  /** closeConnection ends the connection after this reply (a refused body may still be arriving). */
  closeConnection?: boolean;
}

const json = (status: number, value: unknown): Reply => ({ status, body: JSON.stringify(value), contentType: 'application/json; charset=utf-8' });

// AppError and GatewayError speak for themselves; anything else is masked (and logged whole by the caller).
function errorReply(err: unknown): Reply {
  let status = 500;
  let code = 'INTERNAL_SERVER_ERROR';
  let message = 'Internal server error';
  let headers: Record<string, string> = {};
  if (err instanceof AppError) {
    status = err.httpStatus;
    code = err.code;
    message = err.message;
    // A limit says when it frees up; a 503 passes by itself (the database restarting, or too busy).
    const retryAfter = err.retryAfterSeconds ?? (status === 503 ? RETRY_AFTER_SECONDS : undefined);
    if (retryAfter !== undefined) headers = { 'retry-after': String(retryAfter) };
  } else if (err instanceof GatewayError) {
    status = err.httpStatus;
    code = err.code;
    message = err.message;
    headers = err.headers;
  }
  return { ...json(status, { error: { code, message } }), headers, closeConnection: status === 413 };
}

interface RequestContext {
  req: IncomingMessage;
  /** The decoded path parameter of a route that has one. */
  param: string;
  query: string;
}

type Handler = (ctx: RequestContext) => Promise<Reply>;

interface Route {
  /** Exact path, or a prefix followed by one non-empty segment (the parameter). */
  path: string;
  param?: { name: string; maxChars: number };
  get?: Handler;
  post?: Handler;
  /** head answers HEAD like GET without a body (for the public, side-effect-free routes only). */
  head?: boolean;
}

/** startAgentGateway serves the agent protocol over TLS on its own port, asking clients for (not requiring) a certificate from the core CA. */
export async function startAgentGateway(opts: AgentGatewayOptions): Promise<RunningAgentGateway> {
  const { services, log } = opts;
  const timeouts: AgentGatewayTimeouts = { ...DEFAULT_TIMEOUTS, ...opts.timeouts };
  const peerCertificates = new WeakMap<TLSSocket, Buffer | null>();

  const routes: Route[] = [
    {
      path: '/agent/v1/ca',
      head: true,
      get: async () => ({ status: 200, body: services.caCertificatePem(), contentType: 'application/x-pem-file' }),
    },
    {
      path: '/agent/v1/crl',
      head: true,
      get: async () => ({ status: 200, body: await services.currentCrlPem(), contentType: 'application/x-pem-file' }),
    },
    {
      path: '/agent/v1/enroll',
      post: async ({ req }) => {
        const body = await readJsonObject(req);
        const result = await services.enroll({
          agentId: stringField(body, 'agentId'),
          deviceName: stringField(body, 'deviceName'),
          agentVersion: stringField(body, 'agentVersion'),
          csrPem: stringField(body, 'csrPem'),
          remoteAddress: remoteAddressOf(req),
          presentedCertificate: presentedCertificate(req),
        });
        return json(202, { requestId: result.requestId, status: result.status });
      },
    },
    {
      path: '/agent/v1/enroll/',
      param: { name: 'requestId', maxChars: MAX_REQUEST_ID_CHARS },
      get: async ({ req, param }) => {
        const result = await services.getEnrollment(param, presentedCertificate(req));
        const reply: { status: EnrollmentStatus; certificatePem?: string; caCertificatePem?: string } = { status: result.status };
        if (result.certificatePem !== undefined) reply.certificatePem = result.certificatePem;
        if (result.caCertificatePem !== undefined) reply.caCertificatePem = result.caCertificatePem;
        return json(200, reply);
      },
    },
    { path: '/agent/v1/connect', post: ({ req }) => authenticate(req, 'SECURE_CONNECTION') },
    { path: '/agent/v1/scan-results', post: ({ req }) => authenticate(req, 'SECURITY_SCANNER') },
    {
      path: '/agent/v1/secure-data/',
      param: { name: 'name', maxChars: MAX_NAME_CHARS },
      get: async ({ req, param, query }) => {
        const params = new URLSearchParams(query);
        const agentId = identityValue(req, params, 'agentId', 'x-agent-id');
        if (agentId === null) throw badInput('agentId is required (query parameter agentId or header x-agent-id)');
        const agentVersion = identityValue(req, params, 'agentVersion', 'x-agent-version');
        const result = await services.fetchSecureData({
          agentId,
          agentVersion,
          name: param,
          presentedCertificate: presentedCertificate(req),
          remoteAddress: remoteAddressOf(req),
        });
        if (result.kind === 'jwe') return { status: 200, body: result.body, contentType: 'application/jose' };
        return json(200, { name: param, value: result.value });
      },
    },
  ];

  async function authenticate(req: IncomingMessage, source: 'SECURE_CONNECTION' | 'SECURITY_SCANNER'): Promise<Reply> {
    const body = await readJsonObject(req);
    const result = await services.authenticate({
      source,
      agentId: stringField(body, 'agentId'),
      agentVersion: stringField(body, 'agentVersion'),
      presentedCertificate: presentedCertificate(req),
      remoteAddress: remoteAddressOf(req),
    });
    return json(result.httpStatus, { status: result.status, reason: result.reason });
  }

  // The certificate is read once per connection: renegotiation is disabled, so it cannot change under us.
  function presentedCertificate(req: IncomingMessage): Buffer | null {
    const socket = req.socket as TLSSocket;
    let der = peerCertificates.get(socket);
    if (der === undefined) {
      // On a resumed session OpenSSL restores the peer certificate from the session, so this holds for both
      // full and abbreviated handshakes (test/unit/server/agent-gateway.test.ts proves it for TLS 1.2 and 1.3).
      // getPeerX509Certificate hands over the DER without building getPeerCertificate's whole object.
      const raw = socket.getPeerX509Certificate()?.raw;
      der = raw && raw.length > 0 ? Buffer.from(raw) : null;
      peerCertificates.set(socket, der);
    }
    return der;
  }

  const server = createServer({
    key: opts.tls.privateKeyPem,
    cert: opts.tls.certificatePem,
    ca: opts.tls.caCertificatePem,
    // Asked, not required, and not verified by TLS: the services verify it and record why it failed.
    requestCert: true,
    rejectUnauthorized: false,
    minVersion: 'TLSv1.2',
    // Stable for this instance, so tickets it issued resume on any of its connections until it stops.
    ticketKeys: randomBytes(48),
    sessionIdContext: SESSION_ID_CONTEXT,
    sessionTimeout: SESSION_TIMEOUT_SECONDS,
    handshakeTimeout: timeouts.handshakeMs,
    headersTimeout: timeouts.headersMs,
    requestTimeout: timeouts.requestMs,
    keepAliveTimeout: timeouts.keepAliveMs,
    // Header and request timeouts are checked on this tick; Node's default (30 s) would let a slow client hold a socket far longer.
    connectionsCheckingInterval: Math.min(1_000, timeouts.headersMs),
    keepAlive: true,
    noDelay: true,
    // No virtual hosts here; a missing Host header should not earn a non-JSON 400.
    requireHostHeader: false,
  });

  const rawSockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    rawSockets.add(socket);
    socket.once('close', () => rawSockets.delete(socket));
  });
  server.on('secureConnection', (socket: TLSSocket) => {
    // Client-initiated TLS 1.2 renegotiation could swap the peer certificate mid-connection, and costs us CPU.
    socket.disableRenegotiation();
  });
  server.on('tlsClientError', (err: NodeJS.ErrnoException, socket: TLSSocket) => {
    log.debug('agent gateway: TLS handshake failed', { code: err.code ?? 'unknown', remoteAddress: socket.remoteAddress ?? '' });
    socket.destroy();
  });
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    // Node's parser rejected the request before any handler saw it: answer in the same JSON shape if we still can.
    const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean } | null })._httpMessage;
    if (err.code === 'ECONNRESET' || !socket.writable || inFlight?.headersSent) {
      socket.destroy();
      return;
    }
    const [status, code, message] =
      err.code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'BAD_USER_INPUT', 'request headers are too large']
        : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
          ? [408, 'REQUEST_TIMEOUT', 'the request was not received in time']
          : [400, 'BAD_USER_INPUT', 'malformed HTTP request'];
    const body = JSON.stringify({ error: { code, message } });
    socket.end(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\ncontent-type: application/json; charset=utf-8\r\n` +
        `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
    );
  });

  let closing = false;
  // handle answers every error itself; this catch is for a bug in answering (e.g. a service's invalid HTTP status).
  const serve = (req: IncomingMessage, res: ServerResponse) => {
    handle(req, res).catch((err: unknown) => {
      log.error('agent gateway: could not answer a request', { method: req.method ?? '', error: err });
      res.destroy();
    });
  };
  server.on('request', serve);
  // Expect: 100-continue lets a client learn that its body is too large before sending it.
  server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
    const declared = declaredLength(req);
    if (declared !== null && declared > MAX_BODY_BYTES) {
      // The client waits for our word before sending the body, so there is nothing to drain.
      send(res, errorReply(tooLarge()), true);
      return;
    }
    res.writeContinue();
    serve(req, res);
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? '';
    const { path, query } = splitTarget(req.url ?? '');
    let routeLabel = 'unmatched';
    let reply: Reply;
    try {
      const matched = matchRoute(routes, path);
      if (matched === null) throw new GatewayError(404, 'NOT_FOUND', `no such route: ${truncate(path, 100)}`);
      const { route, rawParam } = matched;
      routeLabel = route.param ? `${route.path}{${route.param.name}}` : route.path;
      const handler = method === 'GET' || (method === 'HEAD' && route.head) ? route.get : method === 'POST' ? route.post : undefined;
      if (handler === undefined) {
        const allow = [route.get && 'GET', route.get && route.head && 'HEAD', route.post && 'POST'].filter(Boolean).join(', ');
        throw new GatewayError(405, 'METHOD_NOT_ALLOWED', `${truncate(method, 20)} is not allowed on ${routeLabel}`, { allow });
      }
      const param = route.param ? decodeParam(rawParam, route.param.name, route.param.maxChars) : '';
      reply = await handler({ req, param, query });
    } catch (caught) {
      if (caught instanceof ClientGone) {
        res.destroy();
        return;
      }
      // The database away or a cancelled statement: a 503 to retry, with its cause logged on one line.
      const fromDatabase = fromDatabaseError(caught);
      const err = fromDatabase ?? caught;
      if (fromDatabase) {
        log.warn('agent gateway: request failed on the database', { method, route: routeLabel, status: fromDatabase.httpStatus, code: fromDatabase.code, ...describeDatabaseError(caught) });
      } else if (err instanceof AppError || err instanceof GatewayError) {
        log.debug('agent gateway: request refused', { method, route: routeLabel, status: err.httpStatus, code: err.code });
      } else {
        log.error('agent gateway: request failed', { method, route: routeLabel, error: err });
      }
      reply = errorReply(err);
    }
    // Whatever of the body no handler read must come off the wire before the connection can carry another request.
    const reusable = await discardBody(req);
    send(res, reply, !reusable || reply.closeConnection === true);
  }

  function send(res: ServerResponse, reply: Reply, closeConnection: boolean): void {
    if (res.headersSent || res.destroyed) return;
    const headers: Record<string, string> = {
      'content-type': reply.contentType,
      'content-length': String(Buffer.byteLength(reply.body)),
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      ...reply.headers,
    };
    // While closing, tell clients not to reuse the connection, so it ends with its last response.
    if (closeConnection || closing) headers.connection = 'close';
    res.writeHead(reply.status, headers);
    res.end(reply.body);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (err) => log.error('agent gateway: server error', { error: err }));

  const { port } = server.address() as AddressInfo;
  const hostForUrl = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  let closed: Promise<void> | null = null;

  return {
    port,
    url: `https://${hostForUrl}:${port}`,
    close() {
      closed ??= new Promise<void>((resolve) => {
        closing = true;
        // Requests in flight get their answer (with connection: close); stragglers are cut after a grace period.
        const grace = setTimeout(() => {
          server.closeAllConnections();
          for (const socket of rawSockets) socket.destroy();
        }, timeouts.closeGraceMs);
        grace.unref();
        server.close(() => {
          clearTimeout(grace);
          resolve();
        });
        server.closeIdleConnections();
      });
      return closed;
    },
  };
}

function splitTarget(target: string): { path: string; query: string } {
  const q = target.indexOf('?');
  return q === -1 ? { path: target, query: '' } : { path: target.slice(0, q), query: target.slice(q + 1) };
}

function matchRoute(routes: Route[], path: string): { route: Route; rawParam: string } | null {
  for (const route of routes) {
    if (route.param === undefined) {
      if (path === route.path) return { route, rawParam: '' };
    } else if (path.startsWith(route.path)) {
      const rest = path.slice(route.path.length);
      if (rest !== '' && !rest.includes('/')) return { route, rawParam: rest };
    }
  }
  return null;
}

function decodeParam(raw: string, name: string, maxChars: number): string {
  // A character is at most 4 UTF-8 bytes, 12 characters percent-encoded: anything longer cannot decode to maxChars.
  if (raw.length > maxChars * 12) throw badInput(`${name} must be at most ${maxChars} characters`);
  let value: string;
  try {
    value = decodeURIComponent(raw);
  } catch {
    throw badInput(`${name} is not correctly URL-encoded`);
  }
  if ([...value].length > maxChars) throw badInput(`${name} must be at most ${maxChars} characters`);
  return value;
}

// One value from the query string or from its header; both may be given only if they agree.
function identityValue(req: IncomingMessage, params: URLSearchParams, queryName: string, headerName: string): string | null {
  const fromQuery = params.getAll(queryName);
  if (fromQuery.length > 1) throw badInput(`${queryName} must be given once`);
  const header = req.headers[headerName];
  if (Array.isArray(header)) throw badInput(`header ${headerName} must be given once`);
  const q = fromQuery[0];
  if (q !== undefined && header !== undefined && q !== header) {
    throw badInput(`${queryName} and header ${headerName} disagree`);
  }
  return q ?? header ?? null;
}

function declaredLength(req: IncomingMessage): number | null {
  const value = req.headers['content-length'];
  if (value === undefined || !/^\d+$/.test(value)) return null;
  return Number(value);
}

// Reads and drops what is left of a request body, at most DRAIN_LIMIT_BYTES, so the client reads our answer
// instead of a reset and the connection can be kept; false when it cannot be kept.
function discardBody(req: IncomingMessage): Promise<boolean> {
  if (req.complete) return Promise.resolve(true);
  if (req.destroyed) return Promise.resolve(false);
  const declared = declaredLength(req);
  if (declared !== null && declared > DRAIN_LIMIT_BYTES) return Promise.resolve(false);
  return new Promise<boolean>((resolve) => {
    let dropped = 0;
    const done = (reusable: boolean) => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('close', onClose);
      if (!reusable) req.pause();
      resolve(reusable);
    };
    const onData = (chunk: Buffer) => {
      dropped += chunk.length;
      if (dropped > DRAIN_LIMIT_BYTES) done(false);
    };
    const onEnd = () => done(true);
    const onClose = () => done(false);
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('close', onClose);
    req.resume();
  });
}

function isJsonContentType(value: string | undefined): boolean {
  if (value === undefined) return false;
  const [type, ...params] = value.split(';').map((p) => p.trim().toLowerCase());
  if (type !== 'application/json') return false;
  return params.every((p) => !p.startsWith('charset=') || /^charset="?utf-8"?$/.test(p));
}

// Reads a JSON object body of at most MAX_BODY_BYTES; it stops at the first byte past that, keeping nothing.
async function readJsonObject(req: IncomingMessage): Promise<Record<string, unknown>> {
  if (!isJsonContentType(req.headers['content-type'])) {
    throw new GatewayError(415, 'BAD_USER_INPUT', 'content-type must be application/json');
  }
  const declared = declaredLength(req);
  if (declared !== null && declared > MAX_BODY_BYTES) throw tooLarge();
  const raw = await new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    const finish = (err: Error | null) => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('close', onClose);
      if (err) {
        req.pause();
        chunks.length = 0;
        reject(err);
      } else {
        resolve(Buffer.concat(chunks, received));
      }
    };
    const onData = (chunk: Buffer) => {
      received += chunk.length;
      if (received > MAX_BODY_BYTES) finish(tooLarge());
      else chunks.push(chunk);
    };
    const onEnd = () => finish(null);
    const onClose = () => finish(new ClientGone('client closed the connection before sending its whole body'));
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('close', onClose);
  });
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(raw);
  } catch {
    throw badInput('request body is not valid UTF-8');
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw badInput('request body is not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw badInput('request body must be a JSON object');
  }
  return value as Record<string, unknown>;
}

function stringField(body: Record<string, unknown>, name: string): string {
  const value = Object.hasOwn(body, name) ? body[name] : undefined;
  if (value === undefined || value === null) throw badInput(`field "${name}" is required`);
  if (typeof value !== 'string') throw badInput(`field "${name}" must be a string`);
  return value;
}

function remoteAddressOf(req: IncomingMessage): string {
  return plainAddress(req.socket.remoteAddress ?? '');
}

function truncate(value: string, max: number): string {
  return value.length > max ? `${value.slice(0, max)}…` : value;
}
