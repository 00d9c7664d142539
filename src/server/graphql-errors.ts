import type { ApolloServerPlugin } from '@apollo/server';
import { unwrapResolverError } from '@apollo/server/errors';
import type { GraphQLFormattedError } from 'graphql';
import { describeDatabaseError } from '../db/errors.js';
import { currentLogContext, type Logger } from '../logger.js';
import { AppError, fromDatabaseError, RETRY_AFTER_SECONDS } from '../services/app-error.js';

// Apollo's own codes for a request that is wrong as sent; the contract reports them all as BAD_USER_INPUT.
const CLIENT_MISTAKES = new Set([
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_USER_INPUT',
  'BAD_REQUEST',
  'OPERATION_RESOLUTION_FAILURE',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
]);

/**
 * createFormatError keeps the one error model: AppErrors and request mistakes pass with a stable
 * code; a cancelled statement or an unreachable database gets its own code (QUERY_TIMEOUT,
 * SERVICE_UNAVAILABLE) with its cause logged once; anything else is logged whole and reaches the
 * client masked. Every error carries the request's id in extensions.requestId (over HTTP from the
 * request's log context; graphql-ws passes its socket's), and so does the line that logs it.
 */
export function createFormatError(log: Logger) {
  // Fields that share a loader, and subscribers that share an event's result, fail with one and
  // the same error: its cause is logged once (with the request id of the first it reached).
  const logged = new WeakSet<object>();
  const firstTime = (original: unknown): boolean => {
    if (typeof original !== 'object' || original === null) return true;
    if (logged.has(original)) return false;
    logged.add(original);
    return true;
  };
  const withId = (formatted: GraphQLFormattedError, requestId: string | undefined): GraphQLFormattedError =>
    requestId === undefined ? formatted : { ...formatted, extensions: { ...formatted.extensions, requestId } };
  return (formatted: GraphQLFormattedError, error: unknown, requestId = currentLogContext()?.requestId): GraphQLFormattedError => {
    const ids = requestId === undefined ? {} : { requestId };
    const original = unwrapResolverError(error);
    if (original instanceof AppError) return withId(formatted, requestId);
    const fromDatabase = fromDatabaseError(original);
    if (fromDatabase) {
      if (firstTime(original)) {
        const message =
          fromDatabase.code === 'QUERY_TIMEOUT'
            ? 'a GraphQL operation was cancelled by the statement timeout (DB_STATEMENT_TIMEOUT_MS)'
            : 'a GraphQL operation failed: the database is unavailable';
        log.warn(message, { ...ids, path: formatted.path, ...describeDatabaseError(original) });
      }
      return {
        message: fromDatabase.message,
        path: formatted.path,
        locations: formatted.locations,
        extensions: { code: fromDatabase.code, ...ids },
      };
    }
    const code = formatted.extensions?.code;
    if (code === 'UNAUTHENTICATED') {
      // The reason is AuthError's, written for the caller: it never holds the token.
      log.debug('GraphQL request refused: unauthenticated', { ...ids, reason: formatted.message });
      return withId(formatted, requestId);
    }
    if (code === 'FORBIDDEN') return withId(formatted, requestId);
    if (typeof code === 'string' && CLIENT_MISTAKES.has(code)) {
      return { ...formatted, extensions: { ...formatted.extensions, code: 'BAD_USER_INPUT', reason: code, ...ids } };
    }
    if (firstTime(original)) log.error('unexpected error in a GraphQL operation', { ...ids, path: formatted.path, error: original });
    return {
      message: 'Internal server error',
      path: formatted.path,
      locations: formatted.locations,
      extensions: { code: 'INTERNAL_SERVER_ERROR', ...ids },
    };
  };
}

/**
 * serviceUnavailablePlugin answers HTTP 503 with Retry-After when a request failed whole because
 * the database is away (no field has data and an error says SERVICE_UNAVAILABLE), so load
 * balancers and clients see an outage, not a 200 or a 500.
 */
export const serviceUnavailablePlugin: ApolloServerPlugin = {
  async requestDidStart() {
    return {
      async willSendResponse({ response }) {
        if (response.body.kind !== 'single') return;
        const { data, errors } = response.body.singleResult;
        if (!errors?.some((e) => e.extensions?.code === 'SERVICE_UNAVAILABLE')) return;
        if (data && Object.values(data).some((value) => value !== null)) return;
        response.http.status = 503;
        response.http.headers.set('retry-after', String(RETRY_AFTER_SECONDS));
      },
    };
  },
};
