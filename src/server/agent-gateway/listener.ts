import { randomBytes } from 'node:crypto';
import { hostInUrl } from '../../domain/addresses.js';
import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { withLogContext, type Logger } from '../../logger.js';
import { noMetrics, type MetricsSink } from '../../metrics/sink.js';
import { REQUEST_ID_HEADER, requestIdFrom } from '../request-id.js';
import { ClientGone, declaredLength, discardBody, errorReply, MAX_BODY_BYTES, send, tooLarge, type Reply } from './http-kit.js';
import { acceptProxyProtocol, clientAddressOf, trustedBalancers } from './proxy-protocol.js';

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
  /** From connection to the end of a trusted load balancer's PROXY protocol header. */
  proxyHeaderMs: number;
}

export interface RunningAgentGateway {
  port: number;
  /** url is the base, https://host:port, without a trailing slash. */
  url: string;
  /**
   * drain keeps serving but answers every request with `connection: close`, so that each agent's next
   * request opens a new connection, which a load balancer sends to a replica that is not draining.
   */
  drain(): void;
  /** close stops accepting, ends idle keep-alive connections and waits for requests in flight. */
  close(): Promise<void>;
}

export interface TlsListenerOptions {
  host: string;
  port: number;
  /** The gateway's own certificate and key, and the core CA whose certificates clients are asked for. */
  tls: { certificatePem: string; privateKeyPem: string; caCertificatePem: string };
  timeouts?: Partial<AgentGatewayTimeouts>;
  /**
   * Load balancers whose connections begin with a PROXY protocol v2 header naming the client
   * (AGENT_PROXY_PROTOCOL_FROM, CIDRs); empty or absent: none, every connection is a client's own.
   */
  proxyProtocolFrom?: string[];
  log: Logger;
  /** Where each request's route, status and time go. */
  metrics?: MetricsSink;
  /** answer decides the reply to one request (an error's body names requestId); it throws only ClientGone, or on a bug. */
  answer(req: IncomingMessage, requestId: string): Promise<Reply>;
}

// Agents send small requests at once: a client slower than this is broken or a slow-loris attack.
const DEFAULT_TIMEOUTS: AgentGatewayTimeouts = {
  handshakeMs: 10_000,
  headersMs: 10_000,
  requestMs: 30_000,
  keepAliveMs: 30_000,
  closeGraceMs: 10_000,
  // A balancer sends its header as soon as it has connected, before the client's first byte.
  proxyHeaderMs: 5_000,
};
// Services check the certificate on every request (chain, revocation, validity), so a resumed session grants
// nothing a full handshake would not: resumption only saves the handshake, and may last an hour.
const SESSION_TIMEOUT_SECONDS = 3600;
// At most 32 bytes (SSL_MAX_SID_CTX_LENGTH); it scopes session-ID resumption to this service.
const SESSION_ID_CONTEXT = 'certfleet-agent-gateway-v1';

interface PeerCertificate {
  der: Buffer;
  /** OpenSSL verified the chain to the listener's CA in the handshake, with no error (socket.authorized). */
  chainVerified: boolean;
}

const peerCertificates = new WeakMap<TLSSocket, PeerCertificate | null>();

// Read once per connection: the listener disables renegotiation, so neither can change under us.
function peerCertificateOf(req: IncomingMessage): PeerCertificate | null {
  const socket = req.socket as TLSSocket;
  let peer = peerCertificates.get(socket);
  if (peer === undefined) {
    // On a resumed session OpenSSL restores the peer certificate from the session, so this holds for both
    // full and abbreviated handshakes (test/unit/server/agent-gateway.test.ts proves it for TLS 1.2 and 1.3).
    // getPeerX509Certificate hands over the DER without building getPeerCertificate's whole object.
    const raw = socket.getPeerX509Certificate()?.raw;
    // socket.authorized is SSL_get_verify_result, which a resumed session carries over from the handshake that
    // made it (test/integration/gateway-tls-verdict.test.ts). Any error, even one that only says "expired",
    // is no verdict at all: OpenSSL keeps only the last error of a chain, so the services check those themselves.
    peer = raw && raw.length > 0 ? { der: Buffer.from(raw), chainVerified: socket.authorized === true } : null;
    peerCertificates.set(socket, peer);
  }
  return peer;
}

/**
 * presentedCertificate is the DER of the certificate the client presented over TLS, or null. It is read once
 * per connection (the same Buffer for every request on it).
 */
export function presentedCertificate(req: IncomingMessage): Buffer | null {
  return peerCertificateOf(req)?.der ?? null;
}

/**
 * chainVerifiedByTls says whether the handshake of the request's connection verified the presented
 * certificate's chain to the core CA (the listener's only `ca`) without any error.
 */
export function chainVerifiedByTls(req: IncomingMessage): boolean {
  return peerCertificateOf(req)?.chainVerified ?? false;
}

/**
 * startTlsListener runs the gateway's HTTPS server: it asks clients for (not requires) a certificate from the
 * core CA, holds every connection to the timeouts, answers what Node's parser refuses in the gateway's JSON
 * shape, and on close lets requests in flight finish.
 */
export async function startTlsListener(opts: TlsListenerOptions): Promise<RunningAgentGateway> {
  const { log } = opts;
  const metrics = opts.metrics ?? noMetrics;
  const timeouts: AgentGatewayTimeouts = { ...DEFAULT_TIMEOUTS, ...opts.timeouts };

  const server = createServer({
    key: opts.tls.privateKeyPem,
    cert: opts.tls.certificatePem,
    ca: opts.tls.caCertificatePem,
    // Asked, not required, and not refused by TLS: the services check it (on OpenSSL's verdict of the chain
    // when it found no error at all) and record why it failed.
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

  // First, so that TLS sees a balancer's connection only once its header is read (and the tracking below sees every one).
  const trusted = trustedBalancers(opts.proxyProtocolFrom ?? []);
  if (trusted) {
    acceptProxyProtocol(server, { trusted, timeoutMs: timeouts.proxyHeaderMs, log });
    log.info('agent gateway: connections from these load balancers must begin with a PROXY protocol v2 header naming the client', {
      from: opts.proxyProtocolFrom!.join(','),
    });
  }

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
    log.debug('agent gateway: TLS handshake failed', { code: err.code ?? 'unknown', remoteAddress: clientAddressOf(socket) });
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
    // The request's own headers were not parsed (or not trusted): a new id.
    const requestId = requestIdFrom(undefined);
    log.debug('agent gateway: malformed request refused', { requestId, status, code: err.code ?? 'unknown' });
    const body = JSON.stringify({ error: { code, message, requestId } });
    metrics.gatewayRequest('unparsed', 'other', status);
    socket.end(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\ncontent-type: application/json; charset=utf-8\r\n` +
        `content-length: ${Buffer.byteLength(body)}\r\n${REQUEST_ID_HEADER}: ${requestId}\r\nconnection: close\r\n\r\n${body}`,
    );
  });

  // Draining (a SIGTERM's first phase) or closing: every answer ends its connection.
  let closing = false;

  async function respond(req: IncomingMessage, res: ServerResponse, requestId: string, started: number): Promise<void> {
    let reply: Reply;
    try {
      reply = await opts.answer(req, requestId);
    } catch (err) {
      if (!(err instanceof ClientGone)) throw err;
      res.destroy();
      return;
    }
    // Whatever of the body no handler read must come off the wire before the connection can carry another request.
    const reusable = await discardBody(req);
    // While closing, tell clients not to reuse the connection, so it ends with its last response.
    send(res, reply, !reusable || reply.closeConnection === true || closing);
    metrics.gatewayRequest(reply.route ?? 'unmatched', req.method ?? '', reply.status, (performance.now() - started) / 1000);
  }

  // Every request gets an id: the one it came with when well formed, or a new one. It goes back in
  // the x-request-id header (and in an error's body), and every line logged while serving the
  // request carries it.
  const requestIdOf = (req: IncomingMessage, res: ServerResponse): string => {
    const requestId = requestIdFrom(req.headers[REQUEST_ID_HEADER]);
    res.setHeader(REQUEST_ID_HEADER, requestId);
    return requestId;
  };

  // answer answers every error itself; this catch is for a bug in answering (e.g. a service's invalid HTTP status).
  const serve = (req: IncomingMessage, res: ServerResponse) => {
    const started = performance.now();
    const requestId = requestIdOf(req, res);
    withLogContext({ requestId }, () =>
      respond(req, res, requestId, started).catch((err: unknown) => {
        log.error('agent gateway: could not answer a request', { method: req.method ?? '', error: err });
        res.destroy();
      }),
    );
  };
  server.on('request', serve);
  // Expect: 100-continue lets a client learn that its body is too large before sending it.
  server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
    const declared = declaredLength(req);
    if (declared !== null && declared > MAX_BODY_BYTES) {
      // The client waits for our word before sending the body, so there is nothing to drain.
      const reply = errorReply(tooLarge(), requestIdOf(req, res));
      send(res, reply, true);
      metrics.gatewayRequest('unmatched', req.method ?? '', reply.status);
      return;
    }
    res.writeContinue();
    serve(req, res);
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (err) => log.error('agent gateway: server error', { error: err }));

  const { port } = server.address() as AddressInfo;
  let closed: Promise<void> | null = null;

  return {
    port,
    url: `https://${hostInUrl(opts.host)}:${port}`,
    drain() {
      closing = true;
    },
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
