import { parse, GraphQLError, type DocumentNode, type GraphQLSchema } from 'graphql';
import { createHash } from 'node:crypto';
import type { QueryLimits, WebSocketLimits } from '../config.js';
import { AppError } from '../services/app-error.js';
import { measureQuery, UNPAGED_LIST_FACTOR, type QueryRequest } from './query-measure.js';

export type { QueryLimits, WebSocketLimits };

/**
 * Limits on what one GraphQL request may ask, checked before validation and execution, over HTTP
 * and graphql-ws alike. Parsing, validating and executing cost more than the text of a query
 * suggests: graphql-js's OverlappingFieldsCanBeMerged rule compares every pair of fields selected
 * under the same name in one place (quadratic), and a few nested lists with `first: 500` multiply
 * into millions of objects. So a query is measured on its syntax tree alone, with fragments
 * expanded (query-measure.ts), and refused with a reason before any of that runs. Over HTTP
 * query-limits-middleware.ts applies them in front of Apollo; over graphql-ws, http-server.ts's
 * onSubscribe and its document cache do.
 */

/** The defaults: every query of the README, test/operations, the introspection query and the contract's typical clients pass with room. */
export const DEFAULT_QUERY_LIMITS: QueryLimits = {
  maxDocumentBytes: 32 * 1024,
  maxTokens: 1000,
  maxDepth: 20,
  maxAliases: 30,
  maxDuplicateFields: 30,
  maxCost: 100_000,
};

/** What one graphql-ws socket, and the sockets of one token, may hold. */
export const DEFAULT_WEBSOCKET_LIMITS: WebSocketLimits = {
  maxMessageBytes: DEFAULT_QUERY_LIMITS.maxDocumentBytes + 64 * 1024,
  maxSubscriptionsPerSocket: 10,
  maxConnectionsPerToken: 8,
  documentCacheBytes: 8 * 1024 * 1024,
};

export type LimitReason =
  | 'DOCUMENT_TOO_LARGE'
  | 'TOO_MANY_TOKENS'
  | 'QUERY_TOO_DEEP'
  | 'TOO_MANY_ALIASES'
  | 'TOO_MANY_DUPLICATE_FIELDS'
  | 'QUERY_TOO_COSTLY';

/** The setting behind each limit, named in refusals so that a person knows what to change. */
const SETTING: Record<LimitReason, string> = {
  DOCUMENT_TOO_LARGE: 'GRAPHQL_MAX_DOCUMENT_BYTES',
  TOO_MANY_TOKENS: 'GRAPHQL_MAX_TOKENS',
  QUERY_TOO_DEEP: 'GRAPHQL_MAX_DEPTH',
  TOO_MANY_ALIASES: 'GRAPHQL_MAX_ALIASES',
  TOO_MANY_DUPLICATE_FIELDS: 'GRAPHQL_MAX_DUPLICATE_FIELDS',
  QUERY_TOO_COSTLY: 'GRAPHQL_MAX_COST',
};

/** limitError is a refusal: BAD_USER_INPUT with the limit's reason, its value and what the request had. */
export function limitError(reason: string, limit: number, found: number | undefined, message: string): AppError {
  return new AppError('BAD_USER_INPUT', message, { reason, limit, ...(found === undefined ? {} : { found }) });
}

/** isLimitError tells a refusal of limitError from any other error. */
export function isLimitError(err: unknown): err is AppError {
  return err instanceof AppError && typeof err.extensions.reason === 'string' && typeof err.extensions.limit === 'number';
}

function refuse(reason: LimitReason, limit: number, found: number | undefined, what: string, advice: string): AppError {
  const n = (x: number) => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : 'more than can be counted');
  return limitError(
    reason,
    limit,
    found === undefined || !Number.isFinite(found) ? undefined : Math.round(found),
    `${what}; this server accepts at most ${n(limit)} (${SETTING[reason]}). ${advice}, or ask the operator to raise ${SETTING[reason]}.`
      .replace('{found}', found === undefined ? '' : n(found)),
  );
}

/** tooManySubscriptions is the refusal of one more operation on a socket that has its maximum in progress. */
export function tooManySubscriptions(limit: number): AppError {
  return limitError(
    'TOO_MANY_SUBSCRIPTIONS',
    limit,
    undefined,
    `This connection already has ${limit} operations in progress (subscriptions, and queries not finished yet); ` +
      `this server accepts at most ${limit} per connection (GRAPHQL_WS_MAX_SUBSCRIPTIONS). Complete a subscription ` +
      'first, share one subscription among views, or ask the operator to raise GRAPHQL_WS_MAX_SUBSCRIPTIONS.',
  );
}

/**
 * createConnectionCounter counts the open sockets of each token. It keeps a hash of the token,
 * never the token, and forgets a token once its last socket closes, so it holds no more entries
 * than there are open sockets.
 */
export function createConnectionCounter(maxPerToken: number) {
  const open = new Map<string, number>();
  return {
    /** acquire counts one more socket for token and returns its release, or undefined when the token has its maximum open. */
    acquire(token: string): (() => void) | undefined {
      const key = createHash('sha256').update(token).digest('base64');
      const count = open.get(key) ?? 0;
      if (count >= maxPerToken) return undefined;
      open.set(key, count + 1);
      let released = false;
      return () => {
        if (released) return;
        released = true;
        const left = (open.get(key) ?? 1) - 1;
        if (left <= 0) open.delete(key);
        else open.set(key, left);
      };
    },
    /** tokens is how many distinct tokens have a socket open. */
    get tokens() {
      return open.size;
    },
  };
}
/** checkDocumentSize refuses a query text longer than the limit, before anything reads it. */
export function checkDocumentSize(source: string, limits: QueryLimits): AppError | undefined {
  // Only a string that could be over the limit is measured in UTF-8.
  if (source.length * 3 <= limits.maxDocumentBytes) return undefined;
  const bytes = Buffer.byteLength(source, 'utf8');
  if (bytes <= limits.maxDocumentBytes) return undefined;
  return refuse(
    'DOCUMENT_TOO_LARGE',
    limits.maxDocumentBytes,
    bytes,
    `The query is {found} bytes long`,
    'Send a shorter query (values belong in variables)',
  );
}

/**
 * parseWithinLimits parses a query, stopping as soon as it has more tokens than the limit. A
 * refusal is a limit error (TOO_MANY_TOKENS); a query that is not GraphQL throws graphql-js's
 * syntax error as it is.
 */
export function parseWithinLimits(source: string, limits: QueryLimits): DocumentNode {
  try {
    return parse(source, { maxTokens: limits.maxTokens });
  } catch (err) {
    // graphql-js says so only in its message: "Document contains more than N tokens. Parsing aborted."
    if (err instanceof GraphQLError && /^Syntax Error: Document contains more th[a-z]+ \d+ tokens\. Parsing aborted/.test(err.message)) {
      throw refuse(
        'TOO_MANY_TOKENS',
        limits.maxTokens,
        undefined,
        `The query has more than ${limits.maxTokens.toLocaleString('en-US')} tokens (names, values and punctuation)`,
        'Send a shorter query (values belong in variables, repeated selections in one fragment)',
      );
    }
    throw err;
  }
}
/**
 * checkDocumentLimits measures a parsed (not yet validated) document and returns the refusal of
 * the first limit it exceeds, or undefined. Aliases and duplicate fields are counted over every
 * operation of the document, since validation reads them all; depth and cost over the operation
 * that runs (the one named, or each one when none is named).
 */
export function checkDocumentLimits(
  schema: GraphQLSchema,
  document: DocumentNode,
  request: QueryRequest,
  limits: QueryLimits,
): AppError | undefined {
  const m = measureQuery(schema, document, request);
  if (m.aliases > limits.maxAliases) {
    return refuse(
      'TOO_MANY_ALIASES',
      limits.maxAliases,
      m.aliases,
      'The query has {found} aliases (counting each place a fragment is spread)',
      'Ask for fewer aliased fields in one request',
    );
  }
  if (m.duplicateFields > limits.maxDuplicateFields) {
    return refuse(
      'TOO_MANY_DUPLICATE_FIELDS',
      limits.maxDuplicateFields,
      m.duplicateFields,
      'The query selects the same field again in the same place {found} times (counting fragments as expanded)',
      'Select each field once per place',
    );
  }
  for (const op of m.operations) {
    const name = op.name === undefined ? 'The query' : `Operation "${op.name}"`;
    if (op.depth > limits.maxDepth) {
      return refuse(
        'QUERY_TOO_DEEP',
        limits.maxDepth,
        op.depth,
        `${name} nests fields {found} levels deep`,
        'Select fewer levels of nested fields',
      );
    }
    if (op.cost > limits.maxCost) {
      return refuse(
        'QUERY_TOO_COSTLY',
        limits.maxCost,
        op.cost,
        `${name} may cost {found} (a field counts 1 plus what it selects times its \`first\`, a list without \`first\` ${UNPAGED_LIST_FACTOR} times)`,
        'Ask for smaller pages (first) or fewer nested lists, and page through the rest',
      );
    }
  }
  return undefined;
}

/** LimitedQuery is a query that passed the limits (with its document), or the refusal. */
export type LimitedQuery = { document: DocumentNode; error?: undefined } | { document?: undefined; error: GraphQLError };

/**
 * checkQueryLimits checks a whole request before validation: the size of its text, its tokens
 * while parsing, then checkDocumentLimits. A query that does not parse comes back as its syntax
 * error (not a limit error: isLimitError tells them apart).
 */
export function checkQueryLimits(
  schema: GraphQLSchema,
  request: QueryRequest & ({ source: string } | { document: DocumentNode }),
  limits: QueryLimits,
): LimitedQuery {
  let document: DocumentNode;
  if ('document' in request) {
    document = request.document;
  } else {
    const tooLarge = checkDocumentSize(request.source, limits);
    if (tooLarge) return { error: tooLarge };
    try {
      document = parseWithinLimits(request.source, limits);
    } catch (err) {
      if (err instanceof GraphQLError) return { error: err };
      throw err;
    }
  }
  const error = checkDocumentLimits(schema, document, request, limits);
  return error ? { error } : { document };
}
