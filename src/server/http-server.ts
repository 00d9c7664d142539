import { createServer, type Server } from 'node:http';
import { hostInUrl } from '../domain/addresses.js';
import type { AddressInfo } from 'node:net';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { expressMiddleware } from '@as-integrations/express5';
import express, { type NextFunction, type Request, type Response } from 'express';
import { execute, GraphQLError, type ExecutionArgs, type ExecutionResult, type GraphQLFormattedError, type GraphQLSchema } from 'graphql';
import { WebSocketServer } from 'ws';
import type { LiveHub } from '../events/live-hub.js';
import { withLogContext, type Logger } from '../logger.js';
import { noMetrics, type MetricsSink } from '../metrics/sink.js';
import { createLoaders, type GraphQLContext, type Loaders } from '../resolvers/context.js';
import type { Caller, Services } from '../services/index.js';
import { AuthError, bearerOfConnectionParams, parseBearer, type TokenVerifier } from './auth.js';
import { consoleRouter, DEFAULT_CONSOLE_DIR } from './console-assets.js';
import { createDocumentCache, type CacheQuota } from './document-cache.js';
import { createFormatError, serviceUnavailablePlugin } from './graphql-errors.js';
import { countRefusal, graphqlMetricsPlugin } from './graphql-metrics.js';
import {
  checkDocumentLimits,
  checkDocumentSize,
  createConnectionCounter,
  DEFAULT_QUERY_LIMITS,
  DEFAULT_WEBSOCKET_LIMITS,
  parseWithinLimits,
  tooManySubscriptions,
  type QueryLimits,
  type WebSocketLimits,
} from './query-limits.js';
import { queryLimitsMiddleware } from './query-limits-middleware.js';
import { REQUEST_ID_HEADER, requestIdFrom } from './request-id.js';
import { useLeanServer } from './graphql-ws-socket.js';
import { createSharedSubscribe } from './shared-execution.js';
import { socketChannel, type SubscriptionChannel } from './socket-channel.js';

export interface HttpServerOptions {
  host: string;
  port: number;
  schema: GraphQLSchema;
  services: Services;
  live: LiveHub;
  verifier: TokenVerifier;
  log: Logger;
  /** ready throws, with the reason, unless this replica should take traffic (see /readyz). */
  ready: () => Promise<void>;
  /** What one request, one socket and one token's sockets may ask (defaults: query-limits.ts). */
  limits?: { query?: QueryLimits; websocket?: WebSocketLimits };
  /** Where the built console is (default: web/dist in this checkout). */
  consoleDir?: string;
  /** Where GraphQL operations, graphql-ws sockets and subscriptions are counted. */
  metrics?: MetricsSink;
}

export interface RunningHttpServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

const MAX_BODY = '1mb';
// A WebSocket client that lets this much pile up unread is cut off: it cannot keep up.
const MAX_SOCKET_BUFFER = 4 * 1024 * 1024;
const SLOW_SOCKET_CHECK_MS = 1000;
/** Close codes sent to WebSocket clients. */
export const WS_CLOSE = { unauthorized: 4401, tooSlow: 4408, tooManyConnections: 4429, goingAway: 1001 } as const;
// New documents one socket may add to the shared document cache; beyond that its documents are
// parsed for it and not kept, so one client cannot push out everyone else's.
const CACHE_ENTRIES_PER_SOCKET = 32;

function unauthenticated(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'UNAUTHENTICATED', http: { status: 401 } } });
}

/**
 * SocketContext is the context of one operation over graphql-ws: a subscription holds it for as
 * long as its dashboard is open, so it keeps little. Its loaders are made only if a resolver asks
 * for them (a summary subscription never does), and it carries the channel its messages go out on
 * and its socket's request id itself, not through maps beside it.
 */
class SocketContext implements GraphQLContext {
  private madeLoaders: Loaders | undefined;

  constructor(
    readonly caller: Caller,
    readonly services: Services,
    readonly live: LiveHub,
    readonly requestId: string,
    readonly channel: SubscriptionChannel,
  ) {}

  get loaders(): Loaders {
    return (this.madeLoaders ??= createLoaders(this.services));
  }
}

/** NotReadyError says why a replica should not take traffic yet, or any more ('starting', 'draining'). */
export class NotReadyError extends Error {}

/** startHttpServer serves GraphQL over HTTP and graphql-ws on one port and path, the console, /healthz and /readyz. */
export async function startHttpServer(opts: HttpServerOptions): Promise<RunningHttpServer> {
  const { services, verifier, log, live } = opts;
  const metrics = opts.metrics ?? noMetrics;
  const queryLimits = opts.limits?.query ?? DEFAULT_QUERY_LIMITS;
  const wsLimits = opts.limits?.websocket ?? DEFAULT_WEBSOCKET_LIMITS;
  const app = express();
  app.disable('x-powered-by');
  const httpServer: Server = createServer(app);
  // Longer than clients' and load balancers' idle timeouts, so the server is never the side that
  // closes a kept-alive connection a client is about to reuse.
  httpServer.keepAliveTimeout = 65_000;
  httpServer.headersTimeout = 66_000;

  async function verified(token: string) {
    try {
      return await verifier.verify(token);
    } catch (err) {
      if (err instanceof AuthError) throw unauthenticated(err.message);
      throw err;
    }
  }

  async function callerFrom(token: string) {
    const { subject, roles } = await verified(token);
    return { subject, roles };
  }

  const wsServer = new WebSocketServer({ server: httpServer, path: '/graphql', maxPayload: wsLimits.maxMessageBytes });
  const connections = createConnectionCounter(wsLimits.maxConnectionsPerToken);
  wsServer.on('connection', (socket) => {
    metrics.websocketSockets(1);
    // on, not once: ws emits close once, and a once-wrapper would be one more object per open socket.
    socket.on('close', () => metrics.websocketSockets(-1));
  });
  const slowCheck = setInterval(() => {
    for (const socket of wsServer.clients) {
      if (socket.bufferedAmount > MAX_SOCKET_BUFFER) {
        log.warn('closing a WebSocket client that stopped reading', { buffered: socket.bufferedAmount });
        socket.close(WS_CLOSE.tooSlow, 'client too slow: too much unread data');
        socket.terminate();
      }
    }
  }, SLOW_SOCKET_CHECK_MS);
  slowCheck.unref();
  // graphql-ws: one request id per socket, kept or made when it is upgraded and sent back in the
  // 101 response's x-request-id, then given to every error and log line of its operations.
  const socketRequestIds = new WeakMap<object, string>();
  const requestIdOfSocket = (upgrade: object): string => {
    let id = socketRequestIds.get(upgrade);
    if (id === undefined) {
      id = requestIdFrom((upgrade as { headers?: Record<string, string | string[] | undefined> }).headers?.[REQUEST_ID_HEADER]);
      socketRequestIds.set(upgrade, id);
    }
    return id;
  };
  wsServer.on('headers', (headers, request) => headers.push(`${REQUEST_ID_HEADER}: ${requestIdOfSocket(request)}`));

  const formatError = createFormatError(log);
  const formatErrors = (errors: readonly GraphQLError[], requestId?: string): GraphQLFormattedError[] =>
    errors.map((e) => formatError(e.toJSON(), e, requestId));
  // Every subscriber with the same query shares its parse, its validation and each event's result.
  const documents = createDocumentCache(opts.schema, {
    maxBytes: wsLimits.documentCacheBytes,
    parse: (query) => parseWithinLimits(query, queryLimits),
  });
  // Errors over WebSocket get the same codes and masking as over HTTP, and their socket's request
  // id. A result without errors is sent as it is (shared by every subscriber of the same request,
  // never copied per socket).
  const formatResult = (result: ExecutionResult, requestId: string | undefined) =>
    result.errors ? { ...result, errors: formatErrors(result.errors, requestId) } : result;
  const socketContext = (contextValue: unknown) => (contextValue instanceof SocketContext ? contextValue : undefined);
  const sharedSubscribe = createSharedSubscribe({
    shareKey: (contextValue) => [...(contextValue as GraphQLContext).caller.roles].sort().join(','),
    channel: (contextValue) => socketContext(contextValue)?.channel,
    formatResult: (result, contextValue) => formatResult(result, socketContext(contextValue)?.requestId),
    active: (delta) => metrics.subscriptions(delta),
  });
  // Operations over the socket run in its request's log context, so the services' lines name it.
  const inSocketContext =
    <R>(run: (args: ExecutionArgs) => R) =>
    (args: ExecutionArgs): R => {
      const requestId = socketContext(args.contextValue)?.requestId;
      return requestId === undefined ? run(args) : withLogContext({ requestId }, () => run(args));
    };
  // A socket's request id: once it is connected, the one kept in its extra (the upgrade request is
  // then let go: an open dashboard has no use for its headers).
  const requestIdOf = (extra: { request?: object; requestId?: string }) => extra.requestId ?? requestIdOfSocket(extra.request ?? {});
  const wsCleanup = useLeanServer<Record<string, unknown>, { caller?: GraphQLContext['caller']; cacheQuota?: CacheQuota; requestId?: string }>(
    {
      schema: opts.schema,
      onSubscribe: (ctx, _id, payload) => {
        // graphql-ws lists this operation among the socket's before it asks.
        if (Object.keys(ctx.subscriptions).length > wsLimits.maxSubscriptionsPerSocket) {
          return [tooManySubscriptions(wsLimits.maxSubscriptionsPerSocket)];
        }
        const tooLarge = checkDocumentSize(payload.query, queryLimits);
        if (tooLarge) return [tooLarge];
        const parsed = documents.get(payload.query, {
          check: (document) => checkDocumentLimits(opts.schema, document, payload, queryLimits),
          quota: ctx.extra.cacheQuota,
        });
        if ('errors' in parsed) return parsed.errors; // sent through onError below
        return {
          schema: opts.schema,
          document: parsed.document,
          operationName: payload.operationName,
          variableValues: payload.variables,
        };
      },
      execute: inSocketContext(execute),
      subscribe: inSocketContext(sharedSubscribe),
      // For what graphql-ws sends itself: results of queries and mutations over the socket (each
      // subscription writes its own messages through its channel, formatted the same way).
      onNext: (ctx, _id, _payload, _args, result) => formatResult(result, requestIdOf(ctx.extra)),
      onError: (ctx, _id, _payload, errors) => formatErrors(errors, requestIdOf(ctx.extra)),
      onConnect: async (ctx) => {
        try {
          const token = parseBearer(bearerOfConnectionParams(ctx.connectionParams));
          const who = await verified(token);
          const socket = ctx.extra.socket;
          // Gone while its token was checked: its close event has fired, nothing would release it.
          if (socket.readyState === socket.CLOSED) return false;
          const release = connections.acquire(token);
          if (!release) {
            socket.close(
              WS_CLOSE.tooManyConnections,
              `Too many connections: at most ${wsLimits.maxConnectionsPerToken} per token (GRAPHQL_WS_MAX_CONNECTIONS_PER_TOKEN)`,
            );
            return false;
          }
          ctx.extra.caller = { subject: who.subject, roles: who.roles };
          ctx.extra.cacheQuota = { remaining: CACHE_ENTRIES_PER_SOCKET };
          // The socket lives no longer than its token.
          const expiry = setTimeout(
            () => socket.close(WS_CLOSE.unauthorized, 'Unauthorized: token expired'),
            Math.max(0, Math.min(who.expiresAt.getTime() - Date.now(), 2 ** 31 - 1)),
          );
          // One listener for both, and no once-wrapper (ws emits close once): every open dashboard
          // holds its listeners.
          socket.on('close', () => {
            clearTimeout(expiry);
            release();
          });
          // Kept for as long as the socket is open, so only what is still needed: its request id,
          // not the upgrade request, and not the token (verified; the expiry timer stands for it).
          ctx.extra.requestId = requestIdOfSocket(ctx.extra.request);
          (ctx.extra as { request?: unknown }).request = undefined;
          delete (ctx as { connectionParams?: unknown }).connectionParams;
          return true;
        } catch (err) {
          const reason = err instanceof AuthError || err instanceof GraphQLError ? err.message : 'unauthorized';
          // The reason is AuthError's, written for the caller: it never holds the token.
          log.debug('graphql-ws connection refused: unauthenticated', { requestId: requestIdOf(ctx.extra), reason });
          ctx.extra.socket.close(4401, `Unauthorized: ${reason}`.slice(0, 120));
          return false;
        }
      },
      context: (ctx, id) => new SocketContext(ctx.extra.caller!, services, live, requestIdOf(ctx.extra), socketChannel(ctx.extra.socket, id)),
    },
    wsServer,
  );

  const apollo = new ApolloServer<GraphQLContext>({
    schema: opts.schema,
    formatError,
    // Apollo's own parse stops at the same number of tokens (queryLimitsMiddleware refuses first, with its reason).
    parseOptions: { maxTokens: queryLimits.maxTokens },
    // Automatic persisted queries keep any query any caller registers; clients send the text instead.
    persistedQueries: false,
    includeStacktraceInErrorResponses: false,
    // src/cli/start.ts owns the signals and stops everything in order.
    stopOnTerminationSignals: false,
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer }),
      // Apollo's landing page loads its code from a CDN; a browser opening /graphql gets the bundled explorer instead.
      ApolloServerPluginLandingPageDisabled(),
      serviceUnavailablePlugin,
      graphqlMetricsPlugin(metrics),
      {
        async serverWillStart() {
          return {
            async drainServer() {
              await wsCleanup.dispose();
            },
          };
        },
      },
    ],
  });
  await apollo.start();

  // Every request gets an id: the one it came with when well formed, or a new one. It goes back in
  // the x-request-id header (and in each GraphQL error's extensions.requestId), and every line
  // logged while serving the request carries it.
  app.use((req, res, next) => {
    const requestId = requestIdFrom(req.headers[REQUEST_ID_HEADER]);
    res.locals.requestId = requestId;
    res.setHeader(REQUEST_ID_HEADER, requestId);
    withLogContext({ requestId }, next);
  });
  // Again after the body is read: the body parser calls on from the request stream's events,
  // outside the context entered above.
  const inRequestContext = (_req: Request, res: Response, next: NextFunction) =>
    withLogContext({ requestId: res.locals.requestId as string }, next);

  // Liveness: the process answers. A database outage does not make a replica worth restarting.
  app.get('/healthz', (_req, res) => {
    res.status(200).json({ status: 'ok' });
  });
  // Readiness, for load balancers: started (migrations applied, CA loaded), the database answers, not draining.
  app.get('/readyz', async (_req, res) => {
    try {
      await opts.ready();
      res.status(200).json({ status: 'ready' });
    } catch (err) {
      const reason = err instanceof NotReadyError ? err.message : 'database not reachable';
      if (!(err instanceof NotReadyError)) log.warn('readiness check failed: the database does not answer', { error: (err as Error).message });
      res.status(503).json({ status: 'unavailable', reason });
    }
  });

  app.use(consoleRouter(opts.consoleDir ?? DEFAULT_CONSOLE_DIR));

  app.use(
    '/graphql',
    express.json({ limit: MAX_BODY }),
    inRequestContext,
    queryLimitsMiddleware(opts.schema, queryLimits, (e) => {
      const formatted = formatError(e.toJSON(), e);
      countRefusal(metrics, formatted);
      return formatted;
    }),
    expressMiddleware(apollo, {
      context: async ({ req }) => {
        let token: string;
        try {
          token = parseBearer(req.headers.authorization);
        } catch (err) {
          throw unauthenticated((err as Error).message);
        }
        return { caller: await callerFrom(token), services, live, loaders: createLoaders(services) };
      },
    }),
  );

  // Body-parser failures (too large, not JSON) in the same shape as every other error.
  app.use((err: Error & { status?: number; type?: string }, _req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) return next(err);
    const requestId = res.locals.requestId as string | undefined;
    const status = err.status && err.status >= 400 && err.status < 500 ? err.status : 500;
    if (status === 500) log.error('unexpected HTTP error', { requestId, error: err });
    const message =
      err.type === 'entity.too.large'
        ? `request body is larger than ${MAX_BODY}`
        : status === 500
          ? 'Internal server error'
          : err.message;
    res.status(status).json({
      errors: [{ message, extensions: { code: status === 500 ? 'INTERNAL_SERVER_ERROR' : 'BAD_USER_INPUT', requestId } }],
    });
  });

  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(opts.port, opts.host, () => {
      httpServer.off('error', reject);
      resolve();
    });
  });
  const port = (httpServer.address() as AddressInfo).port;
  return {
    url: `http://${hostInUrl(opts.host)}:${port}/graphql`,
    port,
    close: async () => {
      clearInterval(slowCheck);
      // Draining disposes graphql-ws, which completes every subscription and closes each socket with 1001.
      await apollo.stop();
      wsServer.close();
    },
  };
}
