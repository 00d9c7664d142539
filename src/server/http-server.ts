import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { expressMiddleware } from '@as-integrations/express5';
import express, { type NextFunction, type Request, type Response } from 'express';
import { GraphQLError, type GraphQLSchema } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import type { Logger } from '../logger.js';
import { createLoaders, type GraphQLContext } from '../resolvers/context.js';
import type { Services } from '../services/index.js';
import { AuthError, parseBearer, type TokenVerifier } from './auth.js';
import { createFormatError } from './graphql-errors.js';

export interface HttpServerOptions {
  host: string;
  port: number;
  schema: GraphQLSchema;
  services: Services;
  verifier: TokenVerifier;
  log: Logger;
  /** healthy throws unless the database answers. */
  healthy: () => Promise<void>;
}

export interface RunningHttpServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

const MAX_BODY = '1mb';

function unauthenticated(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'UNAUTHENTICATED', http: { status: 401 } } });
}

/** startHttpServer serves GraphQL over HTTP and graphql-ws on one port and path, plus /healthz. */
export async function startHttpServer(opts: HttpServerOptions): Promise<RunningHttpServer> {
  const { services, verifier, log } = opts;
  const app = express();
  app.disable('x-powered-by');
  const httpServer: Server = createServer(app);

  async function callerFrom(token: string) {
    try {
      const { subject, roles } = await verifier.verify(token);
      return { subject, roles };
    } catch (err) {
      if (err instanceof AuthError) throw unauthenticated(err.message);
      throw err;
    }
  }

  const wsServer = new WebSocketServer({ server: httpServer, path: '/graphql', maxPayload: 1024 * 1024 });
  const wsCleanup = useServer<Record<string, unknown>, { caller?: GraphQLContext['caller'] }>(
    {
      schema: opts.schema,
      onConnect: async (ctx) => {
        const params = ctx.connectionParams ?? {};
        const raw =
          typeof params.authorization === 'string'
            ? params.authorization
            : typeof params.token === 'string'
              ? `Bearer ${params.token}`
              : undefined;
        try {
          ctx.extra.caller = await callerFrom(parseBearer(raw));
          return true;
        } catch (err) {
          const reason = err instanceof AuthError || err instanceof GraphQLError ? err.message : 'unauthorized';
          ctx.extra.socket.close(4401, `Unauthorized: ${reason}`.slice(0, 120));
          return false;
        }
      },
      context: (ctx) => ({ caller: ctx.extra.caller!, services, loaders: createLoaders(services) }),
    },
    wsServer,
  );

  const apollo = new ApolloServer<GraphQLContext>({
    schema: opts.schema,
    formatError: createFormatError(log),
    includeStacktraceInErrorResponses: false,
    // src/cli/start.ts owns the signals and stops everything in order.
    stopOnTerminationSignals: false,
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer }),
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

  app.get('/healthz', async (_req, res) => {
    try {
      await opts.healthy();
      res.status(200).json({ status: 'ok' });
    } catch (err) {
      log.warn('health check failed: the database does not answer', { error: (err as Error).message });
      res.status(503).json({ status: 'unavailable', reason: 'database not reachable' });
    }
  });

  app.use(
    '/graphql',
    express.json({ limit: MAX_BODY }),
    expressMiddleware(apollo, {
      context: async ({ req }) => {
        let token: string;
        try {
          token = parseBearer(req.headers.authorization);
        } catch (err) {
          throw unauthenticated((err as Error).message);
        }
        return { caller: await callerFrom(token), services, loaders: createLoaders(services) };
      },
    }),
  );

  // Body-parser failures (too large, not JSON) in the same shape as every other error.
  app.use((err: Error & { status?: number; type?: string }, _req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) return next(err);
    const status = err.status && err.status >= 400 && err.status < 500 ? err.status : 500;
    if (status === 500) log.error('unexpected HTTP error', { error: err });
    const message =
      err.type === 'entity.too.large'
        ? `request body is larger than ${MAX_BODY}`
        : status === 500
          ? 'Internal server error'
          : err.message;
    res.status(status).json({
      errors: [{ message, extensions: { code: status === 500 ? 'INTERNAL_SERVER_ERROR' : 'BAD_USER_INPUT' } }],
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
  const hostForUrl = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  return {
    url: `http://${hostForUrl}:${port}/graphql`,
    port,
    close: async () => {
      await apollo.stop();
      wsServer.close();
    },
  };
}
