import type { IncomingMessage, ServerResponse } from 'node:http';
import { AppError, RETRY_AFTER_SECONDS } from '../../services/app-error.js';
import { clientAddressOf } from './proxy-protocol.js';

/** MAX_BODY_BYTES is the largest request body the gateway reads (DESIGN.md, Agent protocol). */
export const MAX_BODY_BYTES = 64 * 1024;
// After refusing a body, read and drop up to this much more so the client sees the answer instead of a reset.
const DRAIN_LIMIT_BYTES = 256 * 1024;

/** GatewayError is a refusal by the transport itself (route, method, body shape), answered like an AppError. */
export class GatewayError extends Error {
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
export class ClientGone extends Error {}

/** badInput is the transport's 400 for a request of the wrong shape. */
export const badInput = (message: string) => new GatewayError(400, 'BAD_USER_INPUT', message);
/** tooLarge is the 413 for a body over MAX_BODY_BYTES. */
export const tooLarge = () => new GatewayError(413, 'BAD_USER_INPUT', `request body is larger than ${MAX_BODY_BYTES} bytes`);

/** Reply is one answer, whole: the gateway's answers are small, so none is streamed. */
export interface Reply {
  status: number;
  body: string;
  contentType: string;
  headers?: Record<string, string>;
  /** closeConnection ends the connection after this reply (a refused body may still be arriving). */
  closeConnection?: boolean;
  /** route is the route pattern that answered (e.g. /agent/v1/enroll/{requestId}), or "unmatched": for the metrics. */
  route?: string;
}

/** json answers with a JSON body. */
export const json = (status: number, value: unknown): Reply => ({ status, body: JSON.stringify(value), contentType: 'application/json; charset=utf-8' });

/** errorReply answers an error in the one JSON shape: AppError and GatewayError speak for themselves, anything else is masked (and logged whole by the caller). */
export function errorReply(err: unknown): Reply {
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

/** send writes a reply with the headers every answer carries, unless the response is already gone. */
export function send(res: ServerResponse, reply: Reply, closeConnection: boolean): void {
  if (res.headersSent || res.destroyed) return;
  const headers: Record<string, string> = {
    'content-type': reply.contentType,
    'content-length': String(Buffer.byteLength(reply.body)),
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    ...reply.headers,
  };
  if (closeConnection) headers.connection = 'close';
  res.writeHead(reply.status, headers);
  res.end(reply.body);
}

/** splitTarget splits a request target into its path and its query string (without the '?'). */
export function splitTarget(target: string): { path: string; query: string } {
  const q = target.indexOf('?');
  return q === -1 ? { path: target, query: '' } : { path: target.slice(0, q), query: target.slice(q + 1) };
}

/** decodeParam URL-decodes a path parameter and bounds its length in characters. */
export function decodeParam(raw: string, name: string, maxChars: number): string {
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

/** declaredLength is the request's content-length, or null when it has none that reads as a number. */
export function declaredLength(req: IncomingMessage): number | null {
  const value = req.headers['content-length'];
  if (value === undefined || !/^\d+$/.test(value)) return null;
  return Number(value);
}

/**
 * discardBody reads and drops what is left of a request body, at most DRAIN_LIMIT_BYTES, so the client reads
 * our answer instead of a reset and the connection can be kept; false when it cannot be kept.
 */
export function discardBody(req: IncomingMessage): Promise<boolean> {
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

/** readJsonObject reads a JSON object body of at most MAX_BODY_BYTES; it stops at the first byte past that, keeping nothing. */
export async function readJsonObject(req: IncomingMessage): Promise<Record<string, unknown>> {
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

/** stringField is a body field that must be present and a string (its content is the services' to check). */
export function stringField(body: Record<string, unknown>, name: string): string {
  const value = Object.hasOwn(body, name) ? body[name] : undefined;
  if (value === undefined || value === null) throw badInput(`field "${name}" is required`);
  if (typeof value !== 'string') throw badInput(`field "${name}" must be a string`);
  return value;
}

/**
 * remoteAddressOf is the client's address, an IPv4-mapped IPv6 address written as IPv4: the one a
 * trusted load balancer's PROXY protocol header named, else the connection's peer.
 */
export function remoteAddressOf(req: IncomingMessage): string {
  return clientAddressOf(req.socket);
}

/** truncate bounds a client's text before it goes into an answer or a log line. */
export function truncate(value: string, max: number): string {
  return value.length > max ? `${value.slice(0, max)}…` : value;
}
