import type { ApolloServerPlugin } from '@apollo/server';
import { unwrapResolverError } from '@apollo/server/errors';
import type { GraphQLFormattedError } from 'graphql';
import { describeDatabaseError } from '../db/errors.js';
import type { Logger } from '../logger.js';
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
 * client masked.
 */
export function createFormatError(log: Logger) {
  // Fields that share a loader fail with one and the same error: its cause is logged once.
  const logged = new WeakSet<object>();
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const original = unwrapResolverError(error);
    if (original instanceof AppError) return formatted;
    const fromDatabase = fromDatabaseError(original);
    if (fromDatabase) {
      if (typeof original !== 'object' || original === null || !logged.has(original)) {
        if (typeof original === 'object' && original !== null) logged.add(original);
        const message =
          fromDatabase.code === 'QUERY_TIMEOUT'
            ? 'a GraphQL operation was cancelled by the statement timeout (DB_STATEMENT_TIMEOUT_MS)'
            : 'a GraphQL operation failed: the database is unavailable';
        log.warn(message, { path: formatted.path, ...describeDatabaseError(original) });
      }
      return {
        message: fromDatabase.message,
        path: formatted.path,
        locations: formatted.locations,
        extensions: { code: fromDatabase.code },
      };
    }
    const code = formatted.extensions?.code;
    if (code === 'UNAUTHENTICATED' || code === 'FORBIDDEN') return formatted;
    if (typeof code === 'string' && CLIENT_MISTAKES.has(code)) {
      return { ...formatted, extensions: { ...formatted.extensions, code: 'BAD_USER_INPUT', reason: code } };
    }
    log.error('unexpected error in a GraphQL operation', { path: formatted.path, error: original });
    return {
      message: 'Internal server error',
      path: formatted.path,
      locations: formatted.locations,
      extensions: { code: 'INTERNAL_SERVER_ERROR' },
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
