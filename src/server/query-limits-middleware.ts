import type { GraphQLError, GraphQLFormattedError, GraphQLSchema } from 'graphql';
import type { Request, RequestHandler } from 'express';
import type { QueryLimits } from '../config.js';
import { checkQueryLimits, isLimitError } from './query-limits.js';
import type { QueryRequest } from './query-measure.js';

/**
 * queryLimitsMiddleware applies the limits to GraphQL over HTTP, in front of Apollo Server: every
 * request (POST body or GET parameters) is measured with its own variables and operation before
 * Apollo parses, validates or executes it, also when Apollo has the document cached. (Apollo's
 * plugin hooks before validation cannot refuse a request: an error thrown there becomes a 500.)
 * A query that is not GraphQL is passed on for Apollo to report as usual.
 */
export function queryLimitsMiddleware(
  schema: GraphQLSchema,
  limits: QueryLimits,
  format: (err: GraphQLError) => GraphQLFormattedError,
): RequestHandler {
  return (req, res, next) => {
    const request = graphqlRequestOf(req);
    if (!request) return next();
    const { error } = checkQueryLimits(schema, request, limits);
    if (!error || !isLimitError(error)) return next();
    res.status(400).json({ errors: [format(error)] });
  };
}

/** graphqlRequestOf reads the query, operation name and variables of a GraphQL-over-HTTP request, as far as they are well formed. */
function graphqlRequestOf(req: Request): (QueryRequest & { source: string }) | undefined {
  if (req.method === 'POST') {
    const body: unknown = req.body;
    if (!body || typeof body !== 'object' || Array.isArray(body)) return undefined;
    const { query, operationName, variables } = body as Record<string, unknown>;
    if (typeof query !== 'string') return undefined;
    return {
      source: query,
      operationName: typeof operationName === 'string' ? operationName : undefined,
      variables: isRecord(variables) ? variables : undefined,
    };
  }
  if (req.method === 'GET') {
    const { query, operationName, variables } = req.query as Record<string, unknown>;
    if (typeof query !== 'string') return undefined;
    let parsed: unknown;
    try {
      parsed = typeof variables === 'string' ? JSON.parse(variables) : undefined;
    } catch {
      parsed = undefined; // Apollo refuses it
    }
    return { source: query, operationName: typeof operationName === 'string' ? operationName : undefined, variables: isRecord(parsed) ? parsed : undefined };
  }
  return undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
