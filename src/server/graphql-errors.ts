import { unwrapResolverError } from '@apollo/server/errors';
import type { GraphQLFormattedError } from 'graphql';
import type { Logger } from '../logger.js';
import { AppError } from '../services/app-error.js';

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
 * code; anything else is logged whole and reaches the client masked.
 */
export function createFormatError(log: Logger) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const original = unwrapResolverError(error);
    if (original instanceof AppError) return formatted;
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
