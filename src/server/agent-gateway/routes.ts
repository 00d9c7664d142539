import type { IncomingMessage } from 'node:http';
import { describeDatabaseError } from '../../db/errors.js';
import type { Logger } from '../../logger.js';
import type { AgentAuthService } from '../../services/agent-auth-service.js';
import { AppError, fromDatabaseError } from '../../services/app-error.js';
import type { ClientAccessService } from '../../services/client-access-service.js';
import type { RevocationService } from '../../services/revocation-service.js';
import {
  badInput,
  ClientGone,
  decodeParam,
  errorReply,
  GatewayError,
  json,
  readJsonObject,
  remoteAddressOf,
  splitTarget,
  stringField,
  truncate,
  type Reply,
} from './http-kit.js';
import { chainVerifiedByTls, presentedCertificate } from './listener.js';

/**
 * AgentGatewayServices is everything the gateway asks of the core, in the services' own signatures: the
 * gateway parses and checks shapes, the services check contents and certificates.
 */
export type AgentGatewayServices = Pick<ClientAccessService, 'enroll' | 'getEnrollment'> &
  Pick<AgentAuthService, 'authenticate' | 'fetchSecureData'> &
  Pick<RevocationService, 'currentCrlPem'> & {
    caCertificatePem(): string;
  };

const MAX_REQUEST_ID_CHARS = 32;
const MAX_NAME_CHARS = 128;

type EnrollmentStatus = Awaited<ReturnType<AgentGatewayServices['getEnrollment']>>['status'];

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

/** createRoutes is the agent protocol (DESIGN.md, Agent protocol): each route reads its request and calls one service. */
function createRoutes(services: AgentGatewayServices): Route[] {
  async function authenticate(req: IncomingMessage, source: 'SECURE_CONNECTION' | 'SECURITY_SCANNER'): Promise<Reply> {
    const body = await readJsonObject(req);
    const result = await services.authenticate({
      source,
      agentId: stringField(body, 'agentId'),
      agentVersion: stringField(body, 'agentVersion'),
      presentedCertificate: presentedCertificate(req),
      chainVerifiedByTls: chainVerifiedByTls(req),
      remoteAddress: remoteAddressOf(req),
    });
    return json(result.httpStatus, { status: result.status, reason: result.reason });
  }

  return [
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
          chainVerifiedByTls: chainVerifiedByTls(req),
          remoteAddress: remoteAddressOf(req),
        });
        if (result.kind === 'jwe') return { status: 200, body: result.body, contentType: 'application/jose' };
        return json(200, { name: param, value: result.value });
      },
    },
  ];
}

/**
 * createAnswerer routes each request to its handler and turns every refusal and failure into the gateway's
 * JSON error, logged by kind; only ClientGone passes through, for the listener to drop the connection.
 */
export function createAnswerer(services: AgentGatewayServices, log: Logger): (req: IncomingMessage, requestId: string) => Promise<Reply> {
  const routes = createRoutes(services);
  return async function answer(req, requestId) {
    const method = req.method ?? '';
    const { path, query } = splitTarget(req.url ?? '');
    let routeLabel = 'unmatched';
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
      return { ...(await handler({ req, param, query })), route: routeLabel };
    } catch (caught) {
      if (caught instanceof ClientGone) throw caught;
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
      return { ...errorReply(err, requestId), route: routeLabel };
    }
  };
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
